import ArgumentParser
import TraceHarness
import TraceTools

/// `tapyrus-trace utxo-log`: coins added to, spent from and dropped from the UTXO cache.
struct UTXOLogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "utxo-log",
        abstract: "Log coins added, spent and uncached: outpoint, token, value, height, coinbase.",
        discussion: "The seed's log_utxos.bt, with whole txids and colour ids and full 64-bit values."
    )

    @OptionGroup var target: ToolTargetOptions

    func run() async throws {
        try await ToolRunner.run(UTXOLog(json: target.json, pidColumn: target.tracesEveryProcess), options: target)
    }
}

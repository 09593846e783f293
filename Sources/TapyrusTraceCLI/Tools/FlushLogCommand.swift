import ArgumentParser
import TraceHarness
import TraceTools

/// `tapyrus-trace flush-log`: one line per UTXO cache flush.
struct FlushLogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flush-log",
        abstract: "Log UTXO cache flushes: duration (µs), mode, coins, memory (kB), prune flag.",
        discussion: "The seed's log_utxocache_flush.py."
    )

    @OptionGroup var target: ToolTargetOptions

    func run() async throws {
        try await ToolRunner.run(UTXOCacheFlushLog(json: target.json, pidColumn: target.tracesEveryProcess), options: target)
    }
}

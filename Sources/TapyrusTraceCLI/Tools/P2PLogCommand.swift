import ArgumentParser
import TraceHarness
import TraceTools

/// `tapyrus-trace p2p-log`: one line per P2P message in or out.
struct P2PLogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "p2p-log",
        abstract: "Log every inbound and outbound P2P message: direction, type, peer, connection type, address, size.",
        discussion: "The seed's log_p2p_traffic.bt; addresses are shown whole (Tor v3 too)."
    )

    @OptionGroup var target: ToolTargetOptions

    func run() async throws {
        try await ToolRunner.run(P2PTrafficLog(json: target.json, pidColumn: target.tracesEveryProcess), options: target)
    }
}

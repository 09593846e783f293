import ArgumentParser
import TraceHarness
import TraceTools

/// `tapyrus-trace raw-p2p`: every P2P message with all its bytes as hex.
struct RawP2PCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raw-p2p",
        abstract: "Log every P2P message with its full bytes as hex, of any size up to 32 MiB.",
        discussion: """
            The seed's log_raw_p2p_msgs.py without its 32 KB cut. A message is \
            marked incomplete only when its bytes could not be read, with how \
            many were; lost events are counted in the summary.
            """
    )

    @OptionGroup var target: ToolTargetOptions

    func run() async throws {
        try await ToolRunner.run(RawP2PLog(json: target.json, pidColumn: target.tracesEveryProcess), options: target)
    }
}

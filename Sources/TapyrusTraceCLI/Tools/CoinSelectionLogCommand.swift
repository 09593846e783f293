import ArgumentParser
import TraceHarness
import TraceTools

/// `tapyrus-trace coin-selection-log`: one block of lines per wallet send.
struct CoinSelectionLogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coin-selection-log",
        abstract: "Log each wallet send's coin selection: requested, selected, change and fee.",
        discussion: "One block of lines (one JSON object with --json) per send, printed when its fee is known."
    )

    @OptionGroup var target: ToolTargetOptions

    func run() async throws {
        try await ToolRunner.run(CoinSelectionLog(json: target.json, pidColumn: target.tracesEveryProcess), options: target)
    }
}

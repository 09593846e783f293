import ArgumentParser
import BenchStore
import Foundation

/// `tapyrus-trace baseline set-baseline RUN|BUILD`.
struct BaselineSetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-baseline",
        abstract: "Make a run, or a build's latest complete run, the baseline of its chain and machine.",
        discussion: """
            A bare number is a run id when such a run exists; otherwise the \
            reference names a build by id, label or SHA-256 prefix (6 hex digits \
            or more). Write run:N or build:REF to say which. The run must be \
            complete; it replaces the previous baseline of its chain and machine.
            """
    )

    @OptionGroup var database: BaselineDatabaseOptions

    @Argument(help: ArgumentHelp("A run id, or a build's label, id or SHA-256 prefix.", valueName: "run|build"))
    var reference: String

    func run() async throws {
        try await Baseline.guarded {
            let store = try database.open(mustExist: true)
            let summary: RunSummary
            switch try await Baseline.resolve(reference, in: store) {
            case .run(let id):
                summary = try await store.setBaseline(run: id)
            case .build(let text):
                let build = try await store.build(matching: text)
                summary = try await store.setBaseline(build: build.id)
            }
            Output.line("baseline of chain \(summary.chain.name) on \(summary.machine.host): \(Baseline.describe(summary))")
        }
    }
}

import ArgumentParser
import BenchStore
import Foundation

/// `tapyrus-trace baseline import FILE`.
struct BaselineImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Merge a JSON file written by `baseline export` into the database.",
        discussion: """
            All of it or nothing. Runs already in the database (same uid) are \
            skipped, so importing twice changes nothing; new runs get new ids. \
            An imported baseline stays one only where the database has no \
            baseline for its chain and machine.
            """
    )

    @OptionGroup var database: BaselineDatabaseOptions

    @Argument(help: ArgumentHelp("The JSON file to read.", valueName: "file"))
    var file: String

    func run() async throws {
        try await Baseline.guarded {
            let url = URL(fileURLWithPath: file)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), isDirectory.boolValue {
                throw CommandFailure("cannot read \(file): it is a directory; give a file written by `tapyrus-trace baseline export`")
            }
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw CommandFailure("cannot read \(file): no such readable file")
            }
            let store = try database.open(mustExist: false)
            let summary = try await store.importJSON(from: url)
            Output.line("imported from \(file): \(summary.runsAdded) runs added (\(summary.blocksAdded) blocks), \(summary.runsSkipped) skipped (already present); \(summary.buildsAdded) builds, \(summary.machinesAdded) machines, \(summary.chainsAdded) chains added")
            let mapping = summary.runIds.sorted { $0.key < $1.key }
            if !mapping.isEmpty {
                Output.line("new run ids: " + mapping.map { "\($0.key) → \($0.value)" }.joined(separator: ", "))
            }
        }
    }
}

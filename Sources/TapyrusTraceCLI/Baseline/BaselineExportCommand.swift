import ArgumentParser
import BenchStore
import Foundation

/// `tapyrus-trace baseline export FILE`.
struct BaselineExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every build, machine, chain, run and block measurement to a JSON file.",
        discussion: "Import it into another database with `baseline import` to merge runs from several machines."
    )

    @OptionGroup var database: BaselineDatabaseOptions

    @Argument(help: ArgumentHelp("The JSON file to write (replaced if it exists).", valueName: "file"))
    var file: String

    func run() async throws {
        try await Baseline.guarded {
            try Baseline.checkOutputFile(file)
            let store = try database.open(mustExist: true, forReading: true)
            let document = try await store.export()
            let url = URL(fileURLWithPath: file)
            do {
                try document.jsonData().write(to: url, options: .atomic)
            } catch let error as BaselineStoreError {
                throw error
            } catch {
                throw CommandFailure("cannot write \(file): \((error as NSError).localizedDescription)")
            }
            Output.line("exported \(document.runs.count) runs (\(document.blocks.count) blocks), \(document.builds.count) builds, \(document.machines.count) machines and \(document.chains.count) chains to \(file)")
        }
    }
}

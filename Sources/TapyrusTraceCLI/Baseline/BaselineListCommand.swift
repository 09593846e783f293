import ArgumentParser
import BenchStore
import Foundation

/// `tapyrus-trace baseline list`: every stored run, oldest first.
struct BaselineListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the stored runs, oldest first.",
        discussion: """
            One line per run: its id, build (label, else the start of its \
            SHA-256), version, host, chain, start time, blocks measured, status \
            (complete, failed, or incomplete for a run still going or crashed) \
            and, marked `*`, whether it is the baseline of its chain and machine.
            """
    )

    @OptionGroup var database: BaselineDatabaseOptions

    @Flag(help: "Print a JSON array of runs instead.")
    var json = false

    func run() async throws {
        try await Baseline.guarded {
            if try !database.exists() {
                if json { Output.line("[]") } else { Output.line("no runs: no baselines database at \(database.path) yet") }
                return
            }
            let store = try database.open(mustExist: true, forReading: true)
            let runs = try await store.runs()
            if json {
                Output.line(try Baseline.jsonLine(runs.map(Baseline.RunJSON.init)))
                return
            }
            if runs.isEmpty {
                Output.line("no runs in \(database.path)")
                return
            }
            var rows = [["ID", "BUILD", "VERSION", "HOST", "CHAIN", "STARTED", "BLOCKS", "STATUS", "BASELINE"]]
            for summary in runs {
                rows.append([
                    "\(summary.id)", summary.build.displayName, summary.build.version, summary.machine.host,
                    summary.chain.name, Baseline.date(summary.run.started), "\(summary.blockCount)",
                    Baseline.status(summary.run), summary.run.isBaseline ? "*" : "",
                ])
            }
            for line in Baseline.table(rows) { Output.line(line.trimmingCharacters(in: .whitespaces)) }
        }
    }
}

import ArgumentParser
import BenchStore
import ConnectBlockBench
import Foundation

/// `tapyrus-trace baseline report`: a static HTML page of the stored runs.
struct BaselineReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML report: median µs/block per build, per-height durations, histogram and verdict.",
        discussion: """
            Compares the same runs as `compare` (same options) and draws, for \
            the candidate's chain and machine: every build's median µs/block \
            over time with a 95% bootstrap interval, the two compared runs' \
            duration per height, the candidate's duration histogram, and the \
            verdict. The page has inline SVG and CSS only: no scripts, nothing \
            fetched. Exit status: 0 when written, 2 for an error.
            """
    )

    @OptionGroup var database: BaselineDatabaseOptions
    @OptionGroup var selection: ComparisonSelection

    @Option(help: ArgumentHelp("The HTML file to write.", valueName: "file"))
    var html: String

    func run() async throws {
        try await Baseline.guarded {
            try Baseline.checkOutputFile(html)
            let store = try database.open(mustExist: true, forReading: true)
            let compared = try await selection.compare(in: store)
            let first = compared.candidate.first
            let builds = try await store.buildMedians(chain: first.run.chainId, machine: first.run.machineId)
            do {
                try BaselineReport(compared, builds: builds).html().write(toFile: html, atomically: true, encoding: .utf8)
            } catch {
                throw CommandFailure("cannot write \(html): \(error.localizedDescription)")
            }
            Output.line("wrote \(html): \(builds.count) builds, runs \(compared.baseline.runs.map(\.id)) vs \(compared.candidate.runs.map(\.id)), \(compared.comparison.verdict.rawValue)")
        }
    }
}

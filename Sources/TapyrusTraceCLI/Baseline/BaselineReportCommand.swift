import ArgumentParser
import BenchStore
import Foundation
import TraceHarness

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
            let (baseline, candidate, comparison) = try await selection.compare(in: store)
            let first = candidate.first
            let builds = try await buildPoints(store, chain: first.run.chainId, machine: first.run.machineId)
            let candidateMedians = candidate.durations.medians()
            let report = BaselineReport(
                subtitle: "chain \(first.chain.name) · machine \(first.machine.host), \(first.machine.cpuModel), \(first.machine.cores) cores · \(first.machine.kernel)",
                generated: Date(),
                builds: builds,
                baselineName: baseline.label, candidateName: candidate.label,
                baselineDurations: Self.heights(baseline.durations.medians()),
                candidateDurations: Self.heights(candidateMedians),
                histogram: BaselineReport.histogram(ofMicros: Array(candidateMedians.values)),
                verdicts: [BaselineReport.VerdictRow(
                    scenario: "\(first.chain.name) / ConnectBlock",
                    baseline: "\(baseline.label) · \(Baseline.duration(comparison.baselineMedianMicroseconds))",
                    candidate: "\(candidate.label) · \(Baseline.duration(comparison.candidateMedianMicroseconds))",
                    effectPercent: comparison.effect.percentChange,
                    ciLowPercent: (comparison.effect.lower - 1) * 100, ciHighPercent: (comparison.effect.upper - 1) * 100,
                    pValue: comparison.wilcoxon.pValue, verdict: comparison.verdict.rawValue)]
            )
            do {
                try report.html().write(toFile: html, atomically: true, encoding: .utf8)
            } catch {
                throw CommandFailure("cannot write \(html): \(error.localizedDescription)")
            }
            Output.line("wrote \(html): \(builds.count) builds, runs \(baseline.runs.map(\.id)) vs \(candidate.runs.map(\.id)), \(comparison.verdict.rawValue)")
        }
    }

    /// Each build's median µs/block over its complete runs on the chain and
    /// machine, with a 95% bootstrap interval over heights.
    private func buildPoints(_ store: BaselineStore, chain: Int64, machine: Int64) async throws -> [BaselineReport.BuildPoint] {
        let runs = try await store.runs(chain: chain, status: .complete).filter { $0.run.machineId == machine }
        let byBuild = Dictionary(grouping: runs) { $0.run.buildId }
        var points: [BaselineReport.BuildPoint] = []
        for (_, buildRuns) in byBuild {
            var durations = BlockDurations()
            for summary in buildRuns {
                var repetition: [Int: Double] = [:]
                for block in try await store.blocks(run: summary.id) { repetition[block.height] = Double(block.durationMicros) }
                durations.add(repetition: repetition)
            }
            let values = Array(durations.medians().values)
            guard !values.isEmpty, let latest = buildRuns.map(\.run.started).max() else { continue }
            let median = Descriptive.medianInterval(values)
            points.append(.init(label: Baseline.buildName(buildRuns[0].build), date: latest,
                                medianMicros: median.ratio, ciLowMicros: median.lower, ciHighMicros: median.upper))
        }
        return points.sorted { $0.date < $1.date }
    }

    static func heights(_ medians: [Int: Double]) -> [BaselineReport.HeightDuration] {
        medians.sorted { $0.key < $1.key }.map { .init(height: $0.key, micros: $0.value) }
    }
}

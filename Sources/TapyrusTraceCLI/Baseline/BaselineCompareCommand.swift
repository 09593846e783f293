import ArgumentParser
import BenchStore
import ConnectBlockBench
import Foundation

/// `tapyrus-trace baseline compare`: is the candidate build slower than the baseline?
struct BaselineCompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare a candidate's ConnectBlock durations with a baseline's, height by height.",
        discussion: """
            The candidate is by default the latest complete run; the baseline \
            by default the stored baseline of the candidate's chain and machine \
            (see set-baseline). A run id compares that run; a build (label, id \
            or SHA-256 prefix; or run:N / build:REF to say which) compares all \
            complete runs of the build on the chain and machine, as repetitions: \
            each height's value is then the median of its repetitions. \
            Both sides must have connected the same chain. The effect is the \
            median per-height ratio candidate / baseline with a bootstrap \
            confidence interval; the p-value is the Wilcoxon signed-rank test's. \
            Exit status: 0 for no change or an improvement, 1 for a \
            regression, 2 for an error.
            """
    )

    @OptionGroup var database: BaselineDatabaseOptions

    @OptionGroup var selection: ComparisonSelection

    @Flag(help: "Print the comparison as JSON.")
    var json = false

    struct SideJSON: Codable {
        var runs: [Int64]
        var build: String
        var version: String
        var chain: String
        var host: String
    }

    struct CompareJSON: Codable {
        var baseline: SideJSON
        var candidate: SideJSON
        var verdict: String
        var description: String
        var comparison: RegressionComparison
    }

    func run() async throws {
        var regression = false
        try await Baseline.guarded {
            let store = try database.open(mustExist: true, forReading: true)
            let compared = try await selection.compare(in: store)
            let (baseSide, candSide, comparison) = (compared.baseline, compared.candidate, compared.comparison)
            regression = comparison.verdict == .regression
            if json {
                func side(_ s: ComparedSide) -> SideJSON {
                    SideJSON(runs: s.runs.map(\.id), build: s.first.build.displayName, version: s.first.build.version,
                             chain: s.first.chain.name, host: s.first.machine.host)
                }
                Output.line(try Baseline.jsonLine(CompareJSON(
                    baseline: side(baseSide), candidate: side(candSide), verdict: comparison.verdict.rawValue,
                    description: comparison.description, comparison: comparison)))
                return
            }
            print(comparison, baseline: baseSide, candidate: candSide)
        }
        if regression { throw ExitCode(1) }
    }

    private func print(_ c: RegressionComparison, baseline: ComparedSide, candidate: ComparedSide) {
        Output.line("baseline:  \(baseline.label), chain \(baseline.first.chain.name), host \(baseline.first.machine.host)")
        Output.line("candidate: \(candidate.label), chain \(candidate.first.chain.name), host \(candidate.first.machine.host)")
        Output.line(c.description)
        let level = String(format: "%g%%", c.options.confidenceLevel * 100)
        func ratio(_ e: RatioEstimate) -> String {
            func pct(_ r: Double) -> String { String(format: "%+.1f%%", (r - 1) * 100) }
            return "\(pct(e.ratio))  [\(pct(e.lower)), \(pct(e.upper))]"
        }
        var rows: [[String]] = [
            ["measure", "value", "\(level) CI"],
            ["paired heights", "\(c.pairedHeights)", ""],
            ["median, baseline", DurationText.micros(c.baselineMedianMicroseconds), ""],
            ["median, candidate", DurationText.micros(c.candidateMedianMicroseconds), ""],
        ]
        for (name, estimate) in [("effect (median ratio)", c.effect), ("ratio of medians", c.ratioOfMedians), ("total time ratio", c.totalTimeRatio)] {
            let parts = ratio(estimate).components(separatedBy: "  ")
            rows.append([name, parts[0], parts[1]])
        }
        rows.append(["p (Wilcoxon, \(c.wilcoxon.method.rawValue))", String(format: "%.3g", c.wilcoxon.pValue), ""])
        rows.append(["verdict", c.verdict.rawValue, ""])
        for line in Baseline.table(rows) { Output.line(line.trimmingCharacters(in: .whitespaces)) }
        if c.baselineOnlyHeights + c.candidateOnlyHeights > 0 {
            Output.line("ignored: \(c.baselineOnlyHeights) heights only in the baseline, \(c.candidateOnlyHeights) only in the candidate")
        }
    }
}

import ArgumentParser
import Foundation
import NodeControl
import RegressionSuite
import TraceHarness

/// `tapyrus-trace check`: every regression scenario against a tapyrusd.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Run every regression scenario against a real tapyrusd and print a verdict per tracepoint.",
        discussion: """
            Exits 0 when every scenario passed (known upstream issues allowed), 1 otherwise. \
            With --coverage, also lists every probe site of the binary with its hits during \
            the run; when every scenario ran, a site that never fired fails the check too.
            """
    )

    @Option(help: "The tapyrusd to test, with tapyrus-genesis beside it (default: $TAPYRUSD, else PATH).")
    var tapyrusd: String?

    @Option(help: "Write a JUnit XML report to this file.")
    var junit: String?

    @Flag(help: "Print the verdicts as JSON instead of a table.")
    var json = false

    @Flag(help: "List the scenarios, their tracepoints and the paths they exercise, without running them.")
    var list = false

    @Flag(help: "Report which probe sites fired during the scenarios (table, JSON and JUnit).")
    var coverage = false

    @Option(help: ArgumentHelp("With --coverage: a tapyrus-core source tree, to name each site's macro call.", valueName: "dir"))
    var source: String?

    @Option(name: .customLong("scenario"), help: "Run only this scenario; repeat for several (default: all).")
    var scenarios: [String] = []

    @Option(help: "Scenarios run at once (swift test runs them \(ScenarioRunner.defaultParallelism) at a time).")
    var parallel: Int = ScenarioRunner.defaultParallelism

    func validate() throws {
        let known = Set(ScenarioCatalog.all.map(\.name))
        for name in scenarios where !known.contains(name) {
            throw ValidationError("no scenario '\(name)'; known: \(known.sorted().joined(separator: ", "))")
        }
        guard parallel > 0 else { throw ValidationError("--parallel must be positive") }
        if source != nil, !coverage { throw ValidationError("--source is read only with --coverage") }
    }

    func run() async throws {
        Output.ignoreBrokenPipe()
        if list { return try printList() }
        var environment = ProcessInfo.processInfo.environment
        if let tapyrusd { environment[TapyrusBinaries.environmentVariable] = tapyrusd }
        let binaries = try TapyrusBinaries.locate(environment: environment)
        if let missing = Privileges.missingForTracing() {
            throw CommandFailure("not permitted to load eBPF programs: \(missing)")
        }
        let context = try ScenarioContext.make(binaries: binaries)
        let chosen = scenarios.isEmpty ? ScenarioCatalog.all : scenarios.compactMap(ScenarioCatalog.named)
        Output.note("checking \(binaries.tapyrusd): \(chosen.count) scenarios, \(parallel) at a time")

        let start = ContinuousClock.now
        let results = await ScenarioRunner(parallelism: parallel).verdicts(of: chosen, in: context) { verdict in
            Output.note("\(verdict.outcome == .passed ? "passed" : "FAILED") \(verdict.scenario) (\(String(format: "%.1f", verdict.seconds)) s)")
        }
        let elapsed = ContinuousClock.now - start
        await context.tracer.drain()
        let sites = try coverage ? SiteCoverage.measure(tracer: context.tracer, verdicts: results, binary: binaries.tapyrusd, source: source) : nil
        // A subset of the scenarios is not expected to reach every site.
        let coverageFails = scenarios.isEmpty && !(sites?.uncovered.isEmpty ?? true)

        if json {
            try Output.json(CheckReport(tapyrusd: binaries.tapyrusd, verdicts: results,
                                        behaviours: BehaviourCoverage(chosen).rows, sites: sites))
        } else {
            for line in VerdictTable.lines(results) { Output.line(line) }
            if let sites { for line in sites.lines { Output.line(line) } }
            Output.line(String(format: "%d scenarios, %d passed, %d failed, %d known issues in %.1f s",
                               results.count, results.filter(\.passed).count, results.filter { !$0.passed }.count,
                               results.reduce(0) { $0 + $1.knownIssues.count }, elapsed.seconds))
        }
        Output.flush()
        if let junit {
            try JUnitReport.xml(results, binary: binaries.tapyrusd, seconds: elapsed.seconds, sites: sites)
                .write(toFile: junit, atomically: true, encoding: .utf8)
        }
        if results.contains(where: { !$0.passed }) || coverageFails { throw ExitCode(1) }
    }
}

extension CheckCommand {
    /// `check --list`: the chosen scenarios and the behaviour table, nothing run.
    private func printList() throws {
        let chosen = scenarios.isEmpty ? ScenarioCatalog.all : scenarios.compactMap(ScenarioCatalog.named)
        let behaviours = BehaviourCoverage(chosen)
        if json {
            try Output.json(ScenarioList(scenarios: chosen.map { .init(name: $0.name, tracepoints: $0.tracepoints.map(\.description), coverage: $0.coverage) },
                                         behaviours: behaviours.rows))
            Output.flush()
            return
        }
        let width = (chosen.map(\.name.count).max() ?? 0) + 2
        for scenario in chosen {
            Output.line(scenario.name.padding(toLength: width, withPad: " ", startingAt: 0) + scenario.tracepoints.map(\.description).joined(separator: ", "))
        }
        Output.line("")
        Output.line("| tracepoint | path or value | exercised by |")
        Output.line("|---|---|---|")
        for row in behaviours.markdownRows() { Output.line(row) }
        Output.flush()
    }
}

/// What `check --list --json` prints.
struct ScenarioList: Encodable {
    struct Entry: Encodable {
        var name: String
        var tracepoints: [String]
        var coverage: [PathCoverage]
    }

    var scenarios: [Entry]
    var behaviours: [BehaviourCoverage.Row]
}

/// What `check --json` prints: the verdicts, the paths and values the
/// scenarios declare per tracepoint, and with `--coverage` the sites.
struct CheckReport: Encodable {
    var tapyrusd: String
    var verdicts: [ScenarioVerdict]
    var behaviours: [BehaviourCoverage.Row]
    var sites: SiteCoverage?
}

/// The verdict table: tracepoint, scenario, result, evidence.
enum VerdictTable {
    static func lines(_ verdicts: [ScenarioVerdict]) -> [String] {
        let width = max(26, (verdicts.map(\.scenario.count).max() ?? 0) + 2)
        func row(_ a: String, _ b: String, _ c: String, _ d: String) -> String {
            a.padding(toLength: 34, withPad: " ", startingAt: 0) + b.padding(toLength: width, withPad: " ", startingAt: 0)
                + c.padding(toLength: 9, withPad: " ", startingAt: 0) + d
        }
        var lines = [row("TRACEPOINT", "SCENARIO", "RESULT", "EVIDENCE")]
        for verdict in verdicts {
            let result = verdict.passed ? (verdict.knownIssues.isEmpty ? "passed" : "passed*") : "FAILED"
            let evidence = "\(verdict.evidence.count) checks agreed" + (verdict.failures.isEmpty ? "" : ", \(verdict.failures.count) failed")
            for (index, tracepoint) in verdict.tracepoints.enumerated() {
                lines.append(row(tracepoint, index == 0 ? verdict.scenario : "", index == 0 ? result : "", index == 0 ? evidence : ""))
            }
            for failure in verdict.failures { lines.append("    failed: \(failure)") }
            for issue in verdict.knownIssues { lines.append("    known issue: \(issue)") }
            for kept in verdict.kept { lines.append("    kept: \(kept)") }
        }
        return lines
    }
}

/// JUnit XML for CI systems.
enum JUnitReport {
    static func xml(_ verdicts: [ScenarioVerdict], binary: String, seconds: Double, sites: SiteCoverage? = nil) -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        let failures = verdicts.filter { !$0.passed }.count
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        let siteCount = sites?.sites.count ?? 0, uncovered = sites?.uncovered.count ?? 0
        xml += "<testsuites tests=\"\(verdicts.count + siteCount)\" failures=\"\(failures + uncovered)\" time=\"\(seconds)\">\n"
        xml += "  <testsuite name=\"tapyrus-trace check\" tests=\"\(verdicts.count)\" failures=\"\(failures)\" time=\"\(seconds)\">\n"
        xml += "    <properties><property name=\"tapyrusd\" value=\"\(escape(binary))\"/></properties>\n"
        for verdict in verdicts {
            xml += "    <testcase classname=\"\(escape(verdict.tracepoints.joined(separator: ",")))\" name=\"\(escape(verdict.scenario))\" time=\"\(verdict.seconds)\">\n"
            if !verdict.passed {
                xml += "      <failure message=\"\(escape(verdict.failures.first ?? "failed"))\">\(escape((verdict.failures + verdict.kept).joined(separator: "\n")))</failure>\n"
            }
            let out = verdict.evidence.map { "agreed: \($0)" } + verdict.knownIssues.map { "known issue: \($0)" }
            xml += "      <system-out>\(escape(out.joined(separator: "\n")))</system-out>\n"
            xml += "    </testcase>\n"
        }
        xml += "  </testsuite>\n"
        if let sites {
            // One test case per site: a site that never fired is a failure.
            xml += "  <testsuite name=\"tapyrus-trace check --coverage\" tests=\"\(siteCount)\" failures=\"\(uncovered)\">\n"
            for site in sites.sites {
                xml += "    <testcase classname=\"\(escape(site.probe))\" name=\"\(escape(site.location ?? site.address))\">\n"
                if !site.covered {
                    xml += "      <failure message=\"uncovered: no scenario fired this site\">\(escape(site.description))</failure>\n"
                }
                xml += "      <system-out>\(escape("\(site.hits) hits at \(site.address)"))</system-out>\n"
                xml += "    </testcase>\n"
            }
            xml += "  </testsuite>\n"
        }
        xml += "</testsuites>\n"
        return xml
    }
}

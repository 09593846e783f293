import Foundation
import Testing
import TraceHarness
@testable import RegressionSuite

/// The behaviour coverage the scenarios declare: merged per tracepoint and
/// path, consistent with what each scenario asserts, and the table
/// docs/suite.md shows.
@Suite("Behaviour coverage: the paths the scenarios declare and docs/suite.md's table")
struct BehaviourCoverageTests {
    private struct Declaring: Scenario {
        var name: String
        var tracepoints: [ProbeName] { [MempoolRemoved.tracepoint.probe] }
        var coverage: [PathCoverage]
        func run(_ context: ScenarioContext, _ check: Check) async throws {}
    }

    private struct Silent: Scenario {
        let name = "silent"
        var tracepoints: [ProbeName] { [] }
        func run(_ context: ScenarioContext, _ check: Check) async throws {}
    }

    @Test("paths merge per tracepoint and path; a path one scenario reaches is reachable whoever else cannot")
    func merging() {
        let removed = MempoolRemoved.tracepoint.probe
        let added = MempoolAdded.tracepoint.probe
        let table = BehaviourCoverage([
            Declaring(name: "a", coverage: [.exercised(removed, "expiry"), .unreachable(removed, "unknown", reason: "no caller")]),
            Declaring(name: "b", coverage: [.exercised(added, "wallet"), .exercised(removed, "expiry"), .unreachable(removed, "sizelimit", reason: "slow")]),
            Declaring(name: "c", coverage: [.exercised(removed, "sizelimit")]),
            Silent(),
        ])
        #expect(table.rows.map { "\($0.tracepoint) \($0.path) \($0.scenarios) \($0.reason ?? "-")" } == [
            "mempool:added wallet [\"b\"] -",
            "mempool:removed expiry [\"a\", \"b\"] -",
            "mempool:removed unknown [] no caller",
            "mempool:removed sizelimit [\"c\"] -",
        ])
        #expect(table.markdownRows { $0.hasPrefix("mempool:removed") }.last == "| `mempool:removed` | sizelimit | `c` |")
        #expect(table.markdownRows()[2] == "| `mempool:removed` | unknown | unreachable: no caller |")
        #expect(Silent().coverage.isEmpty, "a scenario declares nothing by default")
    }

    @Test("every scenario declares paths only of tracepoints it asserts, each once, a reason exactly for the unreachable ones")
    func catalogueDeclarations() {
        for scenario in ScenarioCatalog.all {
            let asserted = Set(scenario.tracepoints.map(\.description))
            var seen: Set<String> = []
            for path in scenario.coverage {
                #expect(asserted.contains(path.tracepoint), "\(scenario.name) declares a path of \(path.tracepoint), which it does not assert")
                #expect(seen.insert("\(path.tracepoint) \(path.path)").inserted, "\(scenario.name) declares \(path.tracepoint) \(path.path) twice")
                #expect(path.reachable == (path.reason == nil), "\(scenario.name): \(path.path) must have a reason exactly when unreachable")
                #expect(!path.path.contains("|") && !(path.reason ?? "").contains("|"), "\(scenario.name): a pipe would break the Markdown table")
            }
        }
    }

    /// The tracepoints whose rows docs/suite.md must show as the catalogue declares them: all.
    static let documented = ["net:", "validation:", "utxocache:", "mempool:", "coin_selection:"]

    @Test("docs/suite.md's Behaviour coverage table shows every path the catalogue declares, in order (`check --list` prints it)")
    func documentation() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/suite.md"), encoding: .utf8)
        let section = try #require(text.components(separatedBy: "\n## Behaviour coverage\n").dropFirst().first, "docs/suite.md has a section \"Behaviour coverage\"")
        let body = section.components(separatedBy: "\n## ").first ?? section
        let include = { (tracepoint: String) in Self.documented.contains { tracepoint.hasPrefix($0) } }
        let shown = body.split(separator: "\n").map(String.init).filter { line in
            Self.documented.contains { line.hasPrefix("| `\($0)") }
        }
        let declared = BehaviourCoverage(ScenarioCatalog.all).markdownRows(where: include)
        #expect(shown == declared, "docs/suite.md should list, in this order:\n\(declared.joined(separator: "\n"))")
    }
}

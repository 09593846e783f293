import Foundation
import NodeControl
import RegressionSuite
import Testing
import TraceHarness

/// Every regression scenario against the real tapyrusd under real eBPF.
@Suite("Regression scenarios against the real tapyrusd", .requiresTraceableTapyrusd)
struct ScenarioTests {
    @Test("every tracepoint fires with the values ground truth demands", arguments: ScenarioCatalog.all.map(\.name))
    func scenario(_ name: String) async throws {
        let scenario = try #require(ScenarioCatalog.named(name))
        let context = try ScenarioContext.make()
        let verdict = await scenario.verdict(in: context)
        let kept = verdict.kept.isEmpty ? "" : "\nkept for inspection: " + verdict.kept.joined(separator: "; ")
        for failure in verdict.failures {
            Issue.record(Comment(rawValue: "\(name): \(failure)\(kept)"))
        }
        for knownIssue in verdict.knownIssues {
            withKnownIssue(Comment(rawValue: knownIssue)) {
                Issue.record(Comment(rawValue: "\(name): \(knownIssue)"))
            }
        }
        #expect(!verdict.evidence.isEmpty, "\(name) compared nothing")
    }
}

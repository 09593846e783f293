import Foundation
import NodeControl
import RegressionSuite
import Testing
import TraceHarness

/// Every regression scenario against the real tapyrusd under real eBPF.
///
/// One test case per scenario; Swift Testing starts them all at once, and
/// ``ScenarioRunner/shared`` lets them run as many at a time as `check` does.
@Suite("Regression scenarios against the real tapyrusd", .requiresTraceableTapyrusd)
struct ScenarioTests {
    @Test("every tracepoint fires with the values ground truth demands", arguments: ScenarioCatalog.all.map(\.name))
    func scenario(_ name: String) async throws {
        let scenario = try #require(ScenarioCatalog.named(name))
        let context = try ScenarioContext.make()
        let verdict = await ScenarioRunner.shared.verdict(of: scenario, in: context)
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

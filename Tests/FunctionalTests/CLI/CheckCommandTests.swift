import Foundation
import NodeControl
import RegressionSuite
import Testing
import TraceHarness

@Suite("tapyrus-trace check", .requiresTraceableTapyrusd, .enabled(if: CLI.path != nil, "tapyrus-trace executable not built"))
struct CheckCommandTests {
    @Test("check runs the chosen scenarios, prints their verdicts as JSON and writes JUnit XML")
    func jsonAndJUnit() async throws {
        let junit = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(getpid()).xml").path
        defer { try? FileManager.default.removeItem(atPath: junit) }
        let result = try CLI.run(["check", "--scenario", "block-connected", "--scenario", "catalogue-conformance", "--json", "--junit", junit])
        #expect(result.status == 0, "stderr: \(result.standardError)")
        let verdicts = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [[String: Any]])
        #expect(verdicts.map { $0["scenario"] as? String } == ["block-connected", "catalogue-conformance"])
        #expect(verdicts.allSatisfy { $0["outcome"] as? String == "passed" })
        let conformance = try #require(verdicts.last)
        #expect((conformance["knownIssues"] as? [String])?.count == 1, "the change_info known issue is reported")
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        #expect(xml.contains("<testsuite name=\"tapyrus-trace check\" tests=\"2\" failures=\"0\""))
        #expect(xml.contains("name=\"block-connected\""))
    }

    @Test("check names an unknown scenario and a tapyrusd that is not there, exiting non-zero")
    func badInput() throws {
        let unknown = try CLI.run(["check", "--scenario", "nope"])
        #expect(unknown.status != 0)
        #expect(unknown.standardError.contains("no scenario 'nope'"))
        let missing = try CLI.run(["check", "--tapyrusd", "/nonexistent/tapyrusd"])
        #expect(missing.status != 0)
        #expect(missing.standardError.contains("/nonexistent/tapyrusd"))
        #expect(missing.standardError.split(separator: "\n").count <= 2)
    }
}

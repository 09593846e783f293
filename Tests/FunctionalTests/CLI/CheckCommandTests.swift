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
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        let verdicts = try #require(report["verdicts"] as? [[String: Any]])
        #expect(report["sites"] == nil, "sites only with --coverage")
        let behaviours = try #require(report["behaviours"] as? [[String: Any]])
        #expect(behaviours.contains { $0["tracepoint"] as? String == "validation:block_connected" }, "\(behaviours)")
        #expect(verdicts.map { $0["scenario"] as? String } == ["block-connected", "catalogue-conformance"])
        #expect(verdicts.allSatisfy { $0["outcome"] as? String == "passed" })
        let conformance = try #require(verdicts.last)
        #expect((conformance["knownIssues"] as? [String])?.count == 1, "the change_info known issue is reported")
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        #expect(xml.contains("<testsuite name=\"tapyrus-trace check\" tests=\"2\" failures=\"0\""))
        #expect(xml.contains("name=\"block-connected\""))
    }

    @Test("check --coverage lists every site of the binary with its hits: block-connected fires block_connected's site once per block it mines")
    func coverage() async throws {
        let junit = FileManager.default.temporaryDirectory.appendingPathComponent("check-coverage-\(getpid()).xml").path
        defer { try? FileManager.default.removeItem(atPath: junit) }
        let binary = try TapyrusBinaries.locate().tapyrusd
        let sites = try ProbeDiscovery.sites(inBinaryAt: binary)
        let result = try CLI.run(["check", "--scenario", "block-connected", "--coverage", "--json", "--junit", junit])
        // A subset of the scenarios may leave sites uncovered without failing.
        #expect(result.status == 0, "stderr: \(result.standardError)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        let coverage = try #require(report["sites"] as? [String: Any])
        let rows = try #require(coverage["sites"] as? [[String: Any]])
        #expect(rows.count == sites.count, "one row per site of the binary")
        #expect(Set(rows.compactMap { $0["address"] as? String }) == Set(sites.map { "0x" + String($0.address, radix: 16) }))
        func hits(_ probe: String) -> [UInt64] {
            rows.filter { $0["probe"] as? String == probe }.compactMap { ($0["hits"] as? NSNumber)?.uint64Value }
        }
        // The scenario mines 5 blocks; the genesis block is not connected
        // through the tracepoint (ConnectBlock returns before it), and the
        // hits of other nodes of the binary meanwhile are not the scenario's.
        #expect(hits("validation:block_connected") == [5], "\(rows)")
        #expect(hits("mempool:replaced") == [0])
        // Its payments replace nothing and every input they spend is valid.
        #expect(hits("utxocache:utxocache_uncache") == [0])
        // RelWithDebInfo: the line table names each site's file and line.
        let blockSite = try #require(rows.first { $0["probe"] as? String == "validation:block_connected" })
        let location = try #require(blockSite["location"] as? String)
        #expect(location.contains(/chainstate\.cpp:\d+$/), "\(location)")
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        #expect(xml.contains("<testsuite name=\"tapyrus-trace check --coverage\" tests=\"\(sites.count)\" failures=\"\(rows.filter { ($0["hits"] as? NSNumber)?.uint64Value == 0 }.count)\">"))
        #expect(xml.contains("uncovered: no scenario fired this site"))

        let table = try CLI.run(["check", "--scenario", "catalogue-conformance", "--coverage"])
        #expect(table.status == 0, "stderr: \(table.standardError)")
        #expect(table.standardOutput.contains("coverage: 0/\(sites.count) sites fired; uncovered: "), "\(table.standardOutput)")
        let bad = try CLI.run(["check", "--source", "/tmp"])
        #expect(bad.status != 0)
        #expect(bad.standardError.contains("--source is read only with --coverage"))
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

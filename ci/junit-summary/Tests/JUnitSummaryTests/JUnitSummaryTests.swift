import Foundation
import JUnitSummary
import Testing

/// A Swift Testing report as SwiftPM 6.3 writes it: two passed, one failed
/// with two issues, three skipped for two causes (one reason with entities).
let swiftTestingReport = """
    <?xml version="1.0" encoding="UTF-8"?>
    <testsuites>
      <testsuite name="TestResults" errors="0" tests="3" failures="1" skipped="3" time="0.11">
        <testcase classname="UnitTests.BaselineReportTests" name="histogramBuckets()" time="0.08" />
        <testcase classname="UnitTests.BaselineReportTests" name="axisTicks()" time="0.08" />
        <testcase classname="FunctionalTests.RequiredTapyrusdTests" name="requiredTapyrusdIsTraceable()" time="0.07" >
          <failure message="Issue recorded (error): REQUIRE_TAPYRUSD=1 but no tapyrusd: tapyrusd not found" />
          <failure message="a second issue" />
        </testcase>
        <testcase classname="FunctionalTests.ScenarioTests" name="scenario(_:)" >
          <skipped>no tapyrusd: tapyrusd not found; looked in: /usr/bin/tapyrusd (&#8220;quoted&#8221; &amp; more)</skipped>
        </testcase>
        <testcase classname="FunctionalTests.NodeControlFunctionalTests" name="startAndStop()" >
          <skipped>no tapyrusd: tapyrusd not found; looked in: /usr/bin/tapyrusd</skipped>
        </testcase>
        <testcase classname="FunctionalTests.DebugBuildRegressionTests" name="debugIsARegression()" >
          <skipped>no Debug tapyrusd: build one (CMAKE_BUILD_TYPE=Debug) and set TAPYRUSD_DEBUG to it</skipped>
        </testcase>
      </testsuite>
    </testsuites>
    """

/// An XCTest report: one passed, one failed, one skipped with a message attribute.
let xctestReport = """
    <?xml version="1.0" encoding="UTF-8"?>
    <testsuites>
      <testsuite name="Tests.Legacy" errors="0" tests="3" failures="1" skipped="1">
        <testcase classname="Tests.Legacy" name="testA" time="0.001"></testcase>
        <testcase classname="Tests.Legacy" name="testB" time="0.001"><error message="crashed"></error></testcase>
        <testcase classname="Tests.Legacy" name="testC" time="0.001"><skipped message="eBPF not permitted: CAP_BPF"/></testcase>
      </testsuite>
    </testsuites>
    """

/// A folder of its own for report files, removed afterwards.
final class ReportFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("junit-summary-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: "\(path)/\(name)"))
    }
}

@Suite("A JUnit XML report read: every test case once, with its outcome")
struct JUnitReportTests {
    @Test("Swift Testing's report: passes, a failure with two issues counted once, skips with their reasons decoded")
    func swiftTesting() throws {
        let report = try JUnitReport(data: Data(swiftTestingReport.utf8), source: "t.xml")
        #expect(report.testCases.map(\.name) == [
            "UnitTests.BaselineReportTests.histogramBuckets()", "UnitTests.BaselineReportTests.axisTicks()",
            "FunctionalTests.RequiredTapyrusdTests.requiredTapyrusdIsTraceable()", "FunctionalTests.ScenarioTests.scenario(_:)",
            "FunctionalTests.NodeControlFunctionalTests.startAndStop()", "FunctionalTests.DebugBuildRegressionTests.debugIsARegression()",
        ])
        #expect(report.testCases[0].outcome == .passed)
        #expect(report.testCases[2].outcome == .failed("Issue recorded (error): REQUIRE_TAPYRUSD=1 but no tapyrusd: tapyrusd not found"))
        #expect(report.testCases[3].outcome == .skipped("no tapyrusd: tapyrusd not found; looked in: /usr/bin/tapyrusd (“quoted” & more)"))
    }

    @Test("XCTest's report: an <error> is a failure, a skip's reason may be its message attribute")
    func xctest() throws {
        let report = try JUnitReport(data: Data(xctestReport.utf8), source: "x.xml")
        #expect(report.testCases.map(\.outcome) == [.passed, .failed("crashed"), .skipped("eBPF not permitted: CAP_BPF")])
    }

    @Test("a file that is not XML, an empty one and one that cannot be read are one-line errors naming the file")
    func badReports() throws {
        #expect { try JUnitReport(data: Data("<testsuites><testcase".utf8), source: "cut.xml") } throws: { error in
            "\(error)".hasPrefix("cut.xml is not a JUnit XML report: ") && !"\(error)".contains("\n")
        }
        #expect { try JUnitReport(data: Data(), source: "empty.xml") } throws: { error in
            "\(error)".hasPrefix("empty.xml is not a JUnit XML report")
        }
        #expect { try JUnitReport(contentsOf: "/nonexistent/report.xml") } throws: { error in
            "\(error)".hasPrefix("cannot read /nonexistent/report.xml")
        }
    }
}

@Suite("The one summary line: tests run, passed, failed, skipped and why")
struct TestRunSummaryTests {
    @Test("counts every case once, groups skips by cause (most first) and lists the failed tests")
    func line() throws {
        let report = try JUnitReport(data: Data(swiftTestingReport.utf8), source: "t.xml")
        let summary = TestRunSummary(reports: [report])
        #expect(summary.total == 6 && summary.passed == 2 && summary.failed.count == 1 && summary.skippedCount == 3)
        #expect(summary.line == "6 tests: 2 passed, 1 failed, 3 skipped (2: no tapyrusd; 1: no Debug tapyrusd); failed: FunctionalTests.RequiredTapyrusdTests.requiredTapyrusdIsTraceable()")
        #expect(!summary.succeeded)
    }

    @Test("a clean run: no skip list, succeeded; a runner that did not exit 0 fails the run even with every test passed")
    func runnerStatus() {
        let passing = JUnitReport(testCases: (0..<3).map { .init(name: "t\($0)", outcome: .passed) })
        let clean = TestRunSummary(reports: [passing], runnerStatus: 0)
        #expect(clean.line == "3 tests: 3 passed, 0 failed, 0 skipped")
        #expect(clean.succeeded)
        let crashed = TestRunSummary(reports: [passing], runnerStatus: 124)
        #expect(crashed.line == "3 tests: 3 passed, 0 failed, 0 skipped; the test runner exited with status 124")
        #expect(!crashed.succeeded)
    }

    @Test("both files of swift test --xunit-output are read (XCTest's first) and added up; the Swift Testing one alone is enough")
    func bothFiles() throws {
        let folder = try ReportFolder()
        try folder.write("results-swift-testing.xml", swiftTestingReport)
        let alone = try TestRunSummary(xunitOutput: "\(folder.path)/results.xml", runnerStatus: 1)
        #expect(alone.total == 6)
        try folder.write("results.xml", xctestReport)
        let both = try TestRunSummary(xunitOutput: "\(folder.path)/results.xml", runnerStatus: 1)
        #expect(both.line == "9 tests: 3 passed, 2 failed, 4 skipped (2: no tapyrusd; 1: eBPF not permitted; 1: no Debug tapyrusd); failed: Tests.Legacy.testB, FunctionalTests.RequiredTapyrusdTests.requiredTapyrusdIsTraceable(); the test runner exited with status 1")
    }

    @Test("no report at all (the runner died first) is an error naming both files and the runner's status")
    func noReport() throws {
        let folder = try ReportFolder()
        #expect { try TestRunSummary(xunitOutput: "\(folder.path)/results.xml", runnerStatus: 137) } throws: { error in
            "\(error)" == "no JUnit report at \(folder.path)/results.xml or \(folder.path)/results-swift-testing.xml; the test runner exited with status 137"
        }
        #expect(TestRunSummary.xunitFiles(for: "out") == ["out", "out-swift-testing"])
        #expect(TestRunSummary.xunitFiles(for: ".build/a.b/test-results.xml") == [".build/a.b/test-results.xml", ".build/a.b/test-results-swift-testing.xml"])
    }

    @Test("a skip's cause is its reason up to the first colon, else the reason cut at 60 characters")
    func causes() {
        #expect(TestRunSummary.cause(of: "no tapyrusd: tapyrusd not found; looked in: /a") == "no tapyrusd")
        #expect(TestRunSummary.cause(of: "REQUIRE_TAPYRUSD=1: no tapyrusd: x") == "REQUIRE_TAPYRUSD=1")
        #expect(TestRunSummary.cause(of: "tmux or the tapyrus-trace executable is missing") == "tmux or the tapyrus-trace executable is missing")
        #expect(TestRunSummary.cause(of: "") == "no reason given")
        #expect(TestRunSummary.cause(of: ": starts with a colon") == ": starts with a colon")
        let long = String(repeating: "x", count: 80)
        #expect(TestRunSummary.cause(of: long) == String(repeating: "x", count: 59) + "…")
    }

    @Test("more than five failed tests: five named, the rest counted")
    func manyFailures() {
        let report = JUnitReport(testCases: (1...7).map { .init(name: "t\($0)", outcome: .failed("x")) })
        #expect(TestRunSummary(reports: [report]).line == "7 tests: 0 passed, 7 failed, 0 skipped; failed: t1, t2, t3, t4, t5 and 2 more")
    }
}

import Foundation

/// One test run counted: how many tests passed, failed and were skipped, and why.
///
/// For example, a machine without tapyrusd:
///
/// ```
/// 331 tests: 267 passed, 0 failed, 64 skipped (63: no tapyrusd; 1: no Debug tapyrusd)
/// ```
///
/// Skips are grouped by their cause: the text of the reason before its first
/// `": "` (`no tapyrusd: tapyrusd not found; looked in …` counts as
/// `no tapyrusd`), or the whole reason, cut at 60 characters, when it has none.
public struct TestRunSummary: Sendable, Equatable {
    public var passed = 0
    /// The failed tests' names, in report order.
    public var failed: [String] = []
    /// Each cause of skipping with how many tests it skipped, most first (ties in report order).
    public var skipped: [(cause: String, count: Int)] = []
    /// The runner's exit status, when known; anything but 0 fails the run.
    public var runnerStatus: Int32?

    public var skippedCount: Int { skipped.reduce(0) { $0 + $1.count } }
    public var total: Int { passed + failed.count + skippedCount }

    /// Whether the run passed: no failed test, and the runner exited 0 (or was not asked).
    public var succeeded: Bool { failed.isEmpty && (runnerStatus ?? 0) == 0 }

    public init(reports: [JUnitReport], runnerStatus: Int32? = nil) {
        self.runnerStatus = runnerStatus
        var causes: [String: Int] = [:], order: [String] = []
        for testCase in reports.flatMap(\.testCases) {
            switch testCase.outcome {
            case .passed:
                passed += 1
            case .failed:
                failed.append(testCase.name)
            case .skipped(let reason):
                let cause = Self.cause(of: reason)
                if causes[cause] == nil { order.append(cause) }
                causes[cause, default: 0] += 1
            }
        }
        skipped = order.enumerated()
            .sorted { (causes[$0.element]!, -$0.offset) > (causes[$1.element]!, -$1.offset) }
            .map { ($0.element, causes[$0.element]!) }
    }

    public static func == (lhs: TestRunSummary, rhs: TestRunSummary) -> Bool {
        lhs.passed == rhs.passed && lhs.failed == rhs.failed && lhs.runnerStatus == rhs.runnerStatus
            && lhs.skipped.map(\.cause) == rhs.skipped.map(\.cause) && lhs.skipped.map(\.count) == rhs.skipped.map(\.count)
    }

    /// The cause a skip `reason` names: its text before the first `": "`, else the whole reason, cut at 60 characters.
    public static func cause(of reason: String) -> String {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        if reason.isEmpty { return "no reason given" }
        if let colon = reason.range(of: ": "), reason.distance(from: reason.startIndex, to: colon.lowerBound) > 0 {
            return String(reason[..<colon.lowerBound])
        }
        return reason.count <= 60 ? reason : String(reason.prefix(59)) + "…"
    }

    /// The one line: `N tests: P passed, F failed, S skipped (n: cause; …)`,
    /// then the failed tests (up to five) and the runner's status when it was not 0.
    public var line: String {
        var line = "\(total) tests: \(passed) passed, \(failed.count) failed, \(skippedCount) skipped"
        if !skipped.isEmpty {
            line += " (" + skipped.map { "\($0.count): \($0.cause)" }.joined(separator: "; ") + ")"
        }
        if !failed.isEmpty {
            let shown = failed.prefix(5).joined(separator: ", ")
            line += "; failed: " + shown + (failed.count > 5 ? " and \(failed.count - 5) more" : "")
        }
        if let runnerStatus, runnerStatus != 0 {
            line += "; the test runner exited with status \(runnerStatus)"
        }
        return line
    }
}

extension TestRunSummary {
    /// The JUnit files `swift test --xunit-output PATH` writes: PATH for
    /// XCTest, and PATH with `-swift-testing` before its extension for Swift
    /// Testing (SwiftPM 6); each only when that library ran tests.
    public static func xunitFiles(for path: String) -> [String] {
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension
        let base = ext.isEmpty ? path : String(path.dropLast(ext.count + 1))
        return [path, base + "-swift-testing" + (ext.isEmpty ? "" : "." + ext)]
    }

    /// The summary of the reports `swift test --xunit-output path` left.
    ///
    /// Throws when neither file exists (the runner died before writing), or
    /// when one cannot be read or is not JUnit XML.
    public init(xunitOutput path: String, runnerStatus: Int32? = nil,
                fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }) throws(JUnitSummaryError) {
        let files = Self.xunitFiles(for: path).filter(fileExists)
        guard !files.isEmpty else {
            let status = runnerStatus.map { "; the test runner exited with status \($0)" } ?? ""
            throw JUnitSummaryError("no JUnit report at \(Self.xunitFiles(for: path).joined(separator: " or "))\(status)")
        }
        var reports: [JUnitReport] = []
        for file in files { reports.append(try JUnitReport(contentsOf: file)) }
        self.init(reports: reports, runnerStatus: runnerStatus)
    }
}

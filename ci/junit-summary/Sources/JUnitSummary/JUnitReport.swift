import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The test cases of one JUnit XML report, each with its outcome.
///
/// Reads what SwiftPM writes for `swift test --xunit-output`, for XCTest and
/// for Swift Testing alike: `<testcase>` elements, anywhere below the root,
/// holding a `<failure>` or `<error>` when they failed (once per issue; the
/// case counts once) and a `<skipped>` when they did not run, with the reason
/// as its text or its `message` attribute.
public struct JUnitReport: Sendable, Equatable {
    /// What became of one test case.
    public enum Outcome: Sendable, Equatable {
        case passed
        /// Failed, with the first failure's message.
        case failed(String)
        /// Not run, with the reason the runner gave (empty when none).
        case skipped(String)
    }

    /// One `<testcase>`: `classname.name` and what became of it.
    public struct TestCase: Sendable, Equatable {
        public var name: String
        public var outcome: Outcome

        public init(name: String, outcome: Outcome) {
            self.name = name
            self.outcome = outcome
        }
    }

    /// Every test case, in document order.
    public var testCases: [TestCase]

    public init(testCases: [TestCase]) {
        self.testCases = testCases
    }

    /// Parses the JUnit XML `data`; `source` names it in errors.
    public init(data: Data, source: String) throws(JUnitSummaryError) {
        let delegate = Reader()
        let parser = XMLParser(data: data)
        parser.delegate = delegate
        guard parser.parse(), delegate.sawRoot, delegate.depth == 0 else {
            let reason = parser.parserError.map { "\($0.localizedDescription) at line \(parser.lineNumber)" }
                ?? (delegate.sawRoot ? "it ends before its elements close (cut short?)" : "no XML element in it")
            throw JUnitSummaryError("\(source) is not a JUnit XML report: \(reason)")
        }
        testCases = delegate.testCases
    }

    /// Parses the JUnit XML file at `path`.
    public init(contentsOf path: String) throws(JUnitSummaryError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw JUnitSummaryError("cannot read \(path): \(error.localizedDescription)")
        }
        try self.init(data: data, source: path)
    }
}

/// The SAX side of ``JUnitReport``: collects each `<testcase>` as it closes.
private final class Reader: NSObject, XMLParserDelegate {
    var testCases: [JUnitReport.TestCase] = []
    var sawRoot = false
    /// Elements opened and not yet closed: 0 at the end of a whole document.
    var depth = 0
    private var current: (name: String, failure: String?, skip: String?)?
    private var skipText: String?

    func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        sawRoot = true
        depth += 1
        switch element {
        case "testcase":
            let name = [attributes["classname"], attributes["name"]].compactMap { $0 }.filter { !$0.isEmpty }
            current = (name.joined(separator: "."), nil, nil)
        case "failure", "error":
            guard current != nil, current?.failure == nil else { return }
            current?.failure = attributes["message"] ?? element
        case "skipped":
            guard current != nil else { return }
            current?.skip = attributes["message"] ?? ""
            skipText = ""
        default:
            break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        skipText? += string
    }

    func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
        depth -= 1
        switch element {
        case "skipped":
            if let text = skipText, current?.skip?.isEmpty == true {
                current?.skip = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            skipText = nil
        case "testcase":
            guard let testCase = current else { return }
            let outcome: JUnitReport.Outcome
            if let failure = testCase.failure {
                outcome = .failed(failure)
            } else if let skip = testCase.skip {
                outcome = .skipped(skip)
            } else {
                outcome = .passed
            }
            testCases.append(.init(name: testCase.name, outcome: outcome))
            current = nil
        default:
            break
        }
    }
}

/// Why a summary could not be made: one line, for standard error.
public struct JUnitSummaryError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

import Foundation
import Testing

/// One test of this test binary run again in a child process of its own, for
/// a test that must see a process no other test shares (its descriptors, its
/// parent's death).
///
/// The child is this very binary with `--filter` naming the test and
/// ``roleVariable`` set to a role; the test asks ``role`` which part it plays.
///
/// ```swift
/// @Test func leaksNothing() async throws {
///     if ChildTestRun.role == "count" { try countDescriptors(); return }
///     try await ChildTestRun.expectPasses("FixtureCaptureTests/leaksNothing", role: "count")
/// }
/// ```
enum ChildTestRun {
    /// The environment variable naming the role of the child.
    static let roleVariable = "TAPYRUS_TRACE_CHILD_TEST_ROLE"

    /// The role this process plays, or nil in the test run itself.
    static var role: String? { ProcessInfo.processInfo.environment[roleVariable] }

    /// This test binary.
    static func executable() throws -> String {
        try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    }

    /// The arguments that run only the tests `filter` matches (`Suite/test`).
    static func arguments(filter: String) -> [String] {
        ["--testing-library", "swift-testing", "--filter", filter]
    }

    /// Runs the test `filter` in a child in `role`, to its end, and records an
    /// issue with the child's failures unless it passed.
    static func expectPasses(_ filter: String, role: String, timeout: Duration = .seconds(180),
                             sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let result = try await BoundedRun.run(try executable(), arguments(filter: filter),
                                              environment: [roleVariable: role], timeout: timeout)
        // Swift Testing reports on standard error, XCTest on standard output.
        let output = result.standardOutput + result.standardError
        let ran = output.contains("Test run with 1 test ")
        let failures = output.split(separator: "\n").filter { $0.contains("✘") }
        #expect(result.status == 0 && ran && failures.isEmpty,
                "the child running \(filter) exited \(result.status)\(ran ? "" : " having run no test"): \(failures.isEmpty ? String(output.suffix(2000)) : failures.joined(separator: "\n"))",
                sourceLocation: sourceLocation)
    }
}

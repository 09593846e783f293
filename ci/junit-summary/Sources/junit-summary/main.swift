import Foundation
import JUnitSummary

/// `junit-summary [--runner-status N] PATH`: prints one line counting the
/// tests in the JUnit reports `swift test --xunit-output PATH` wrote. Exit
/// status: 0 when every test that ran passed (and the runner exited 0), 1 when
/// one failed or the runner did not exit 0, 2 when the reports cannot be read.
let usage = "usage: junit-summary [--runner-status N] PATH   (PATH as given to swift test --xunit-output)"

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("junit-summary: \(message)\n".utf8))
    exit(status)
}

var arguments = Array(CommandLine.arguments.dropFirst())
var runnerStatus: Int32?
if let flag = arguments.firstIndex(of: "--runner-status") {
    guard flag + 1 < arguments.count, let status = Int32(arguments[flag + 1]) else {
        fail("--runner-status needs the runner's exit status, a number; \(usage)", status: 2)
    }
    runnerStatus = status
    arguments.removeSubrange(flag...flag + 1)
}
guard arguments.count == 1, let path = arguments.first, !path.hasPrefix("-") else {
    fail(arguments.isEmpty ? "no report path given; \(usage)" : "unexpected arguments \(arguments.joined(separator: " ")); \(usage)", status: 2)
}
do {
    let summary = try TestRunSummary(xunitOutput: path, runnerStatus: runnerStatus)
    print(summary.line)
    exit(summary.succeeded ? 0 : 1)
} catch {
    fail(error.description, status: runnerStatus.map { $0 == 0 ? 2 : 1 } ?? 2)
}

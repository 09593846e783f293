import Foundation
import NodeControl

/// A program run to its end from async code, bounded by a timeout, without
/// blocking a thread.
///
/// It is started with NodeControl's ``ChildProcess`` (it dies with the test
/// process, inherits none of its descriptors, and its exit is awaited, not
/// polled on a thread); its output goes to files rather than pipes, so that a
/// helper it leaves behind (a browser's crash handler, say) cannot keep the
/// test waiting for the end of a pipe. Past the deadline it is killed and the
/// run fails.
enum BoundedRun {
    /// Runs `executable` with `arguments` and returns its exit status (128 +
    /// the signal's number if a signal ended it) and output. `environment`
    /// entries are added to the test process's own environment.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        timeout: Duration = .seconds(60)
    ) async throws -> Fixture.Output {
        let fileManager = FileManager.default
        let directory = fileManager.temporaryDirectory.appendingPathComponent("bounded-run-\(UUID().uuidString.prefix(8))")
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? fileManager.removeItem(at: directory) }
        let outputPath = directory.appendingPathComponent("stdout").path
        let errorPath = directory.appendingPathComponent("stderr").path
        func read(_ path: String) -> String {
            String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data(), as: UTF8.self)
        }

        let child = try await ChildProcess.spawn(
            path: executable, arguments: arguments,
            environment: environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment) { $1 },
            standardOutput: outputPath, standardError: errorPath)
        guard let status = await child.waitForExit(timeout: timeout) else {
            child.send(SIGKILL)
            _ = await child.waitForExit(timeout: .seconds(10))
            let name = URL(fileURLWithPath: executable).lastPathComponent
            throw FixtureError("\(name) \(arguments.joined(separator: " ")) did not end within \(timeout) and was killed; stderr: \(read(errorPath).suffix(2000))")
        }
        let code: Int32
        switch status {
        case .exited(let exitCode): code = exitCode
        case .signaled(let signal): code = 128 + signal
        }
        return Fixture.Output(status: code, standardOutput: read(outputPath), standardError: read(errorPath))
    }
}

extension CLI {
    /// Runs `tapyrus-trace arguments…` to its end without blocking a thread
    /// (see ``BoundedRun``); `environment` entries are added to the test's own.
    static func runAsync(_ arguments: [String], environment: [String: String] = [:],
                         timeout: Duration = .seconds(60)) async throws -> Fixture.Output {
        guard let path else { throw FixtureError("tapyrus-trace was not built (run swift build first)") }
        return try await BoundedRun.run(path, arguments, environment: environment, timeout: timeout)
    }
}

import Foundation
import Testing
import TraceHarness

/// The USDT fixture program of fixtures/, compiled once per test run.
enum Fixture {
    /// The package's root folder.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// `<tmp>/tapyrus-trace-fixture-<pid>`: this test process's compiled
    /// programs; the folders of test processes that are gone are removed.
    static let buildDirectory: URL = {
        removeLeftovers(prefix: "tapyrus-trace-fixture-")
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("tapyrus-trace-fixture-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }()

    /// Removes `<tmp>/<prefix><pid>` entries whose process no longer exists.
    static func removeLeftovers(prefix: String) {
        let temporary = FileManager.default.temporaryDirectory.path
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? [] where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(atPath: "\(temporary)/\(name)")
        }
    }

    /// The compiled fixture, or why it could not be built.
    static let built: Result<String, FixtureError> = {
        let output = buildDirectory.appendingPathComponent("usdt-fixture").path
        let sources = ["usdt-fixture.c", "usdt-fixture-guarded.c"].map {
            packageRoot.appendingPathComponent("fixtures").appendingPathComponent($0).path
        }
        do {
            let result = try run("/usr/bin/env", ["cc", "-O2", "-o", output] + sources)
            guard result.status == 0 else { return .failure(FixtureError("cc failed: \(result.standardError)")) }
        } catch {
            return .failure(FixtureError("cannot run cc: \(error)"))
        }
        return .success(output)
    }()

    /// A private copy of the fixture (its own inode, so probes attached to it
    /// by path see no other test's processes).
    static func privateCopy() throws -> String {
        let original = try built.get()
        let copy = buildDirectory.appendingPathComponent("usdt-fixture-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.copyItem(atPath: original, toPath: copy)
        return copy
    }

    /// Compiles a C program with no probes at all, for bad-input tests.
    static func programWithoutProbes() throws -> String {
        let source = buildDirectory.appendingPathComponent("plain.c")
        try Data("int main(void) { return 0; }\n".utf8).write(to: source)
        let output = buildDirectory.appendingPathComponent("plain").path
        let result = try run("/usr/bin/env", ["cc", "-o", output, source.path])
        guard result.status == 0 else { throw FixtureError("cc failed: \(result.standardError)") }
        return output
    }

    /// Runs the fixture with one command to completion.
    static func run(copy: String, _ arguments: [String]) throws -> [FixtureLine] {
        let result = try run(copy, arguments)
        guard result.status == 0 else { throw FixtureError("fixture \(arguments) exited \(result.status): \(result.standardError)") }
        return try result.standardOutput.split(separator: "\n").map { try FixtureLine(parsing: String($0)) }
    }

    struct Output {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    /// Runs `executable` to completion, with `environment` added to this
    /// process's.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus,
                      standardOutput: String(decoding: outData, as: UTF8.self),
                      standardError: String(decoding: errData, as: UTF8.self))
    }

    /// Whether the fixture tests can run here, with the reason if not.
    static var unavailableReason: String? {
        if let missing = Privileges.missingForTracing() { return "eBPF not permitted: \(missing)" }
        if case .failure(let error) = built { return "the USDT fixture could not be built: \(error)" }
        return nil
    }
    static var isAvailable: Bool { unavailableReason == nil }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A fixture process in `serve` mode, driven line by line over stdin.
final class ServingFixture: @unchecked Sendable {
    let process = Process()
    private(set) var pid: Int32 = 0
    private let input = Pipe()
    private let output = Pipe()
    private var buffer = Data()

    init(copy: String) throws {
        process.executableURL = URL(fileURLWithPath: copy)
        process.arguments = ["serve"]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let ready = try readLine()
        guard case .ready(let pid) = ready.kind else { throw FixtureError("fixture said \(ready) instead of ready") }
        self.pid = pid
    }

    /// Sends a command and returns the lines it printed before "done".
    func send(_ command: String) throws -> [FixtureLine] {
        input.fileHandleForWriting.write(Data((command + "\n").utf8))
        var lines: [FixtureLine] = []
        while true {
            let line = try readLine()
            if case .done = line.kind { return lines }
            lines.append(line)
        }
    }

    private func readLine() throws -> FixtureLine {
        while true {
            if let newline = buffer.firstIndex(of: 0x0a) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return try FixtureLine(parsing: line)
            }
            let more = output.fileHandleForReading.availableData
            guard !more.isEmpty else { throw FixtureError("fixture closed its output") }
            buffer.append(more)
        }
    }

    /// Asks the fixture to quit and waits for it (bounded; then SIGKILL).
    /// Polls instead of `waitUntilExit`, which can spin forever when called
    /// off the thread that launched the process.
    func stop() {
        try? input.fileHandleForWriting.write(contentsOf: Data("quit\n".utf8))
        for _ in 0..<1000 where process.isRunning { usleep(10_000) }
        if process.isRunning {
            kill(pid, SIGKILL)
            for _ in 0..<500 where process.isRunning { usleep(10_000) }
        }
    }
}

import Foundation
import NodeControl
import Testing
import TraceHarness

/// Why the tool tests cannot run here (no eBPF privilege, no tapyrusd, CLI not built), or nil.
let toolTestsUnavailableReason: String? = {
    if let reason = NodeTestRequirements.tracingSkipReason { return reason }
    if CLI.path == nil { return "tapyrus-trace executable not built (run swift build first)" }
    return nil
}()

/// A `tapyrus-trace` tool running as a process, its output collected as it comes.
final class ToolProcess: @unchecked Sendable {
    struct Result {
        var status: Int32
        var standardOutput: String
        var standardError: String
        var lines: [String] { standardOutput.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
    }

    private let process = Process()
    private let lock = NSLock()
    private var output = Data()
    private var error = Data()
    private let readers = DispatchGroup()

    /// Starts `tapyrus-trace arguments…` and, with `waitUntilTracing`, waits until it says it is tracing.
    init(_ arguments: [String], timeout: Duration = .seconds(30), waitUntilTracing: Bool = true) async throws {
        guard let path = CLI.path else { throw FixtureError("tapyrus-trace was not built") }
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        try process.run()
        collect(outPipe.fileHandleForReading, toError: false)
        collect(errPipe.fileHandleForReading, toError: true)
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while waitUntilTracing, !standardError.contains("Ctrl-C") {
            if !process.isRunning || ContinuousClock.now > deadline {
                throw FixtureError("tapyrus-trace \(arguments.joined(separator: " ")) did not start tracing: \(standardError)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Reads `handle` to its end on a thread of its own. With read(2), not
    /// `availableData`, which traps when a signal interrupts the read (seen
    /// once while a test sent SIGINT to its tool).
    private func collect(_ handle: FileHandle, toError: Bool) {
        readers.enter()
        let descriptor = handle.fileDescriptor
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                if count <= 0 { break }
                lock.lock()
                if toError { error.append(contentsOf: buffer[0..<count]) } else { output.append(contentsOf: buffer[0..<count]) }
                lock.unlock()
            }
            readers.leave()
        }
    }

    var pid: Int32 { process.processIdentifier }
    var standardOutput: String { lock.lock(); defer { lock.unlock() }; return String(decoding: output, as: UTF8.self) }
    var standardError: String { lock.lock(); defer { lock.unlock() }; return String(decoding: error, as: UTF8.self) }

    /// Waits until standard output holds `text` (the tool flushes every second).
    func waitForOutput(containing text: String, timeout: Duration = .seconds(20)) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if standardOutput.contains(text) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return standardOutput.contains(text)
    }

    /// Sends Ctrl-C (SIGINT) and waits for the tool to end.
    func interrupt(timeout: Duration = .seconds(30)) async throws -> Result {
        // Only while it runs: once Foundation reaped it, its pid may already
        // be another process's (a tapyrusd of another test, which SIGINT
        // would shut down).
        if process.isRunning { kill(process.processIdentifier, SIGINT) }
        return try await finish(timeout: timeout)
    }

    /// Waits for the tool to end by itself.
    func finish(timeout: Duration = .seconds(60)) async throws -> Result {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                throw FixtureError("tapyrus-trace did not end within \(timeout); stderr: \(standardError)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        readers.wait()
        let result = Result(status: process.terminationStatus, standardOutput: standardOutput, standardError: standardError)
        // TAPYRUS_TRACE_TOOL_SAMPLES=DIR keeps each run's output, for documentation samples.
        if let directory = ProcessInfo.processInfo.environment["TAPYRUS_TRACE_TOOL_SAMPLES"] {
            let name = (process.arguments ?? []).first ?? "tool"
            let text = "$ tapyrus-trace \((process.arguments ?? []).joined(separator: " "))\n" + standardError.prefix { _ in true }
                + "--- stdout ---\n" + standardOutput
            try? text.write(toFile: "\(directory)/\(name)-\(process.processIdentifier).txt", atomically: true, encoding: .utf8)
        }
        return result
    }
}

/// Runs `tapyrus-trace arguments…` to its end without blocking a thread of the test's pool.
func runTool(_ arguments: [String], timeout: Duration = .seconds(120)) async throws -> ToolProcess.Result {
    try await ToolProcess(arguments, waitUntilTracing: false).finish(timeout: timeout)
}

/// Starts a dev-mode node for a tool test and finishes it whatever happens.
func withToolNode<R: Sendable>(_ name: String, binaries: TapyrusBinaries? = tapyrusBinaries,
                               _ body: (TapyrusNode) async throws -> R) async throws -> R {
    try await withNode(options: NodeOptions(name: name), binaries: binaries, body)
}

/// Checks a tool's summary on standard error: it stopped for `reason` and lost nothing.
func expectCleanSummary(_ result: ToolProcess.Result, reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status == 0, "exit status; stderr: \(result.standardError)", sourceLocation: sourceLocation)
    #expect(result.standardError.contains("stopped: \(reason)"), "stderr: \(result.standardError)", sourceLocation: sourceLocation)
    #expect(result.standardError.contains(" 0 lost, 0 payloads cut"), "stderr: \(result.standardError)", sourceLocation: sourceLocation)
}

import Foundation
import NodeControl
import Testing

/// Checks that no tapyrusd outlives the harness that started it.
///
/// The test re-runs this test binary as a child "harness" (``ChildTestRun``),
/// its role the path of a report file; in that role the same test starts a
/// node, writes the node's pid to the file and idles. The parent then SIGKILLs
/// the child and checks that the node's pid disappears.
@Suite("NodeControl functional: parent-death guarantee", .requiresTapyrusd)
struct NodeControlParentDeathFunctionalTests {
    @Test("A node dies when the harness process that started it is killed with SIGKILL")
    func nodeDiesWithHarness() async throws {
        if let reportPath = ChildTestRun.role {
            try await runAsHelper(reportingTo: reportPath)
            return
        }
        let reportPath = NSTemporaryDirectory() + "nodecontrol-parent-death-\(UInt32.random(in: 0...UInt32.max))"
        let log = reportPath + ".log"
        defer {
            try? FileManager.default.removeItem(atPath: reportPath)
            try? FileManager.default.removeItem(atPath: log)
        }
        // Foundation's Process is avoided: its waitUntilExit depends on the launching thread's run loop.
        var environment = ProcessInfo.processInfo.environment
        environment[ChildTestRun.roleVariable] = reportPath
        let harness = try await ChildProcess.spawn(
            path: try ChildTestRun.executable(),
            arguments: ChildTestRun.arguments(filter: "NodeControlParentDeathFunctionalTests/nodeDiesWithHarness"),
            environment: environment, standardOutput: log, standardError: log)
        defer { harness.send(SIGKILL) }

        // Wait for the child harness to report its node.
        try await waitUntil("the child harness to start a node", timeout: .seconds(60)) {
            let text = (try? String(contentsOfFile: reportPath, encoding: .utf8)) ?? ""
            if text.hasSuffix("\n"), text.split(separator: " ").count == 2 { return nil }
            if let status = harness.exitStatus {
                let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                throw HelperExited(status: status, output: String(output.suffix(500)))
            }
            return "no report yet"
        }
        let fields = try String(contentsOfFile: reportPath, encoding: .utf8).split(separator: " ")
        let nodePid = try #require(Int32(fields[0]))
        let dataDirectory = String(fields[1]).trimmingCharacters(in: .whitespacesAndNewlines)
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }

        // The child reported after the node answered an RPC. (That a node
        // outlives the thread it was started from is the next test's.)
        #expect(!processIsGone(nodePid), "the node died while its harness was alive")

        let clock = ContinuousClock()
        let killed = clock.now
        harness.send(SIGKILL)
        #expect(await harness.waitForExit(timeout: .seconds(10)) == .signaled(SIGKILL))
        let vanished = await waitForProcessToVanish(nodePid, timeout: .seconds(10))
        report("tapyrusd gone after harness SIGKILL", clock.now - killed)
        #expect(vanished, "tapyrusd pid \(nodePid) outlived its SIGKILLed harness")
        if !vanished { kill(nodePid, SIGKILL) }
    }

    /// The child's role: start a node, report its pid and datadir, and idle until killed.
    private func runAsHelper(reportingTo path: String) async throws {
        let node = try await TapyrusNode.start(options: NodeOptions(name: "orphan-probe"), binaries: tapyrusBinaries)
        let pid = try #require(await node.pid)
        try "\(pid) \(node.dataDirectory)\n".write(toFile: path, atomically: true, encoding: .utf8)
        try await Task.sleep(for: .seconds(120))
        await node.finish(passed: true)
    }

    @Test("A node started from a thread that then exits keeps running")
    func survivesSpawningThreadExit() async throws {
        let box = NodeBox()
        let semaphore = DispatchSemaphore(value: 0)
        let thread = Thread {
            // /proc/thread-self names this thread: "<pid>/task/<tid>".
            box.threadID = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self"))
                .flatMap { $0.split(separator: "/").last.flatMap { pid_t($0) } }
            Task {
                do {
                    box.result = .success(try await TapyrusNode.start(options: NodeOptions(name: "threadexit"),
                                                                      binaries: tapyrusBinaries))
                } catch {
                    box.result = .failure(error)
                }
                semaphore.signal()
            }
            semaphore.wait()
        }
        thread.start()
        try await waitUntil("node started from a short-lived thread") { box.result == nil ? "starting" : nil }
        let node = try #require(try box.result?.get())
        // Once the kernel has released the thread, any parent-death signal its
        // exit sent is on its way; a node so signalled can answer no RPC sent
        // after that, so the answer below proves none was sent.
        do {
            let threadID = try #require(box.threadID)
            try await waitUntil("the thread that started the node to exit", interval: .milliseconds(10)) {
                FileManager.default.fileExists(atPath: "/proc/self/task/\(threadID)") ? "thread \(threadID) still there" : nil
            }
            #expect(try await node.rpc.getBlockCount() == 0)
            #expect(await node.isRunning)
        } catch {
            await node.finish(passed: false)
            throw error
        }
        await node.finish(passed: true)
    }
}

private struct HelperExited: Error, CustomStringConvertible {
    var status: ProcessExitStatus
    var output: String
    var description: String { "the child harness exited (\(status)) before starting a node: \(output)" }
}

/// `@unchecked Sendable`: both values are only read and written under `lock`.
private final class NodeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Result<TapyrusNode, any Error>?
    private var storedThreadID: pid_t?
    var result: Result<TapyrusNode, any Error>? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
    /// The kernel's id of the thread that started the node.
    var threadID: pid_t? {
        get { lock.withLock { storedThreadID } }
        set { lock.withLock { storedThreadID = newValue } }
    }
}


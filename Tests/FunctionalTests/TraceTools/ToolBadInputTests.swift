import Foundation
import NodeControl
import Testing
import TraceHarness

@Suite("The tools' bad input", .serialized, .enabled(if: toolTestsUnavailableReason == nil, "\(toolTestsUnavailableReason ?? "")"))
struct ToolBadInputTests {
    static let tools: [[String]] = [["p2p-log"], ["raw-p2p"], ["flush-log"], ["utxo-log"], ["coin-selection-log"], ["connectblock", "1", "2", "0"]]

    @Test("a pid that does not exist: one line, non-zero exit", arguments: tools)
    func missingPid(tool: [String]) throws {
        let result = try CLI.run(tool + ["--pid", "999999999"])
        #expect(result.status != 0)
        #expect(result.standardError == "Error: no process with pid 999999999\n")
    }

    @Test("a pid that is not tapyrusd is named with its executable", arguments: tools)
    func notTapyrus(tool: [String]) throws {
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try sleeper.run()
        // SIGKILL: a signal ignored by the test process stays ignored in its children.
        defer { kill(sleeper.processIdentifier, SIGKILL); sleeper.waitUntilExit() }
        let result = try CLI.run(tool + ["--pid", "\(sleeper.processIdentifier)"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("process \(sleeper.processIdentifier) runs /usr/bin/sleep, which is not a traceable tapyrusd"))
        #expect(result.standardError.split(separator: "\n").count == 1)
    }

    @Test("a binary without probes: one line, non-zero exit", arguments: tools)
    func binaryWithoutProbes(tool: [String]) throws {
        let result = try CLI.run(tool + ["--tapyrusd", "/bin/sh"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("/bin/sh: has no USDT probes"))
        #expect(result.standardError.split(separator: "\n").count == 1)
    }

    @Test("utxo-log into a closed pipe (| head -n 2) ends cleanly, exit 0, with its summary")
    func closedPipe() async throws {
        try await withToolNode("closed-pipe") { node in
            let pid = try #require(await node.pid)
            let path = try #require(CLI.path)
            // --duration only guards against a tool that never notices the closed pipe.
            let script = "\"\(path)\" utxo-log --pid \(pid) --duration 600 2>\"$ERR\" | head -n 2; echo \"${PIPESTATUS[0]}\" > \"$ERR.status\""
            let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("closed-pipe-\(getpid()).err").path
            defer { try? FileManager.default.removeItem(atPath: errFile); try? FileManager.default.removeItem(atPath: errFile + ".status") }
            let shell = Process()
            shell.executableURL = URL(fileURLWithPath: "/bin/bash")
            shell.arguments = ["-c", script]
            shell.environment = ["ERR": errFile, "PATH": "/usr/bin:/bin"]
            let output = Pipe()
            shell.standardOutput = output
            try shell.run()
            // Wait until it traces, then mine until the pipeline has ended:
            // each block adds a coin, so lines flow past head, and the tool's
            // next write after head left finds the pipe closed.
            try await waitUntil("utxo-log to attach") {
                (try? String(contentsOfFile: errFile, encoding: .utf8))?.contains("Ctrl-C") == true ? nil : "no banner yet"
            }
            let address = try await node.rpc.getNewAddress()
            try await waitUntil("utxo-log | head -n 2 to end", timeout: .seconds(60), interval: .milliseconds(200)) {
                guard shell.isRunning else { return nil }
                _ = try await node.rpc.generateToAddress(1, address: address)
                return "still running"
            }
            let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            shell.waitUntilExit()
            let summary = try String(contentsOfFile: errFile, encoding: .utf8)
            let status = try String(contentsOfFile: errFile + ".status", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(printed.split(separator: "\n").count == 2)
            #expect(status == "0")
            #expect(summary.contains("stopped: standard output closed"), "\(summary)")
        }
    }
}

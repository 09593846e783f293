import Foundation
import NodeControl
import RegressionSuite
import Testing
import TraceHarness

/// `tapyrus-trace p2p-monitor` run for real in tmux against a live tapyrusd.
@Suite("p2p-monitor against a live tapyrusd under tmux", .serialized,
       // Needs tapyrusd, eBPF privilege, tmux and the built CLI.
       .requiresTraceableTapyrusd,
       .enabled(if: MonitorTmux.isAvailable && CLI.path != nil, "tmux or the tapyrus-trace executable is missing"))
struct P2PMonitorFunctionalTests {
    @Test("the peer list shows our raw peer's counts, bytes, type and address; ENTER shows its pings and pongs; resize and q work")
    func liveScreen() async throws {
        let cli = try #require(CLI.path)
        try await withNode(options: NodeOptions(name: "p2pmonitor")) { node in
            let pid = try #require(await node.pid)
            let tmux = try MonitorTmux("\"\(cli)\" p2p-monitor --pid \(pid) 2>\(NSTemporaryDirectory())p2pmonitor-\(pid).err")
            defer { tmux.kill() }
            try await tmux.waitFor("the monitor to attach") { $0.contains("waiting for P2P messages") }

            // A peer connects and pings three times.
            let peer = try await node.connectRawPeer()
            for nonce: UInt64 in 1...3 { _ = try await peer.ping(nonce: nonce) }
            let ours = try #require(try await node.rpc.getPeerInfo().first { $0.inbound })
            let sent = await peer.sent
            let sentBytes = sent.reduce(UInt64(0)) { $0 + UInt64($1.payloadSize) }
            let screen = try await tmux.waitFor("our peer's row with \(sent.count) inbound messages") { screen in
                MonitorPeerRow.rows(in: screen).contains { $0.id == Int64(ours.id) && $0.inboundCount == sent.count }
            }
            let row = try #require(MonitorPeerRow.rows(in: screen).first { $0.id == Int64(ours.id) })
            #expect(row.selected, "the only peer is selected")
            #expect(row.pid == pid && !row.exited, "the row names the traced node")
            #expect(row.inboundBytes == sentBytes, "inbound bytes are the payload bytes we sent")
            #expect(row.address == ours.addr)
            #expect(row.connectionType.hasPrefix("In-"))
            let received = await peer.received
            #expect(row.outboundCount >= received.count, "at least the \(received.count) messages we read came from the node")
            #expect(screen.contains("P2P Message Monitor"))
            MonitorSamples.save("p2p-monitor-list", screen)

            // ENTER opens the flow: three pings from the peer, three pongs from us.
            try tmux.send("Enter")
            let flow = try await tmux.waitFor("the flow of peer \(ours.id)") { screen in
                screen.contains("PEER \(ours.id) (\(ours.addr))")
                    && screen.components(separatedBy: "<--- ping (8 bytes)").count - 1 == 3
                    && screen.components(separatedBy: "pong (8 byte) --->").count - 1 >= 3
            }
            #expect(flow.contains("OUR NODE"))
            MonitorSamples.save("p2p-monitor-flow", flow)
            #expect(flow.contains("<--- version ("), "the peer's version on the right")
            #expect(flow.contains("| version ("), "our version on the left")
            #expect(flow.contains("<--- verack (0 bytes)"))

            // Too small, then back.
            try tmux.resize(width: 50, height: 8)
            MonitorSamples.save("p2p-monitor-small", try await tmux.waitFor("the too-small message") { $0.contains("terminal too small") })
            try tmux.resize(width: 120, height: 40)
            try await tmux.waitFor("the flow redrawn") { $0.contains("PEER \(ours.id) (\(ours.addr))") && !$0.contains("too small") }

            // A second peer connects and leaves while we watch the list.
            try tmux.send("q")
            try await tmux.waitFor("the peer list again") { $0.contains("P2P Message Monitor") }
            let second = try await node.connectRawPeer()
            _ = try await second.ping(nonce: 9)
            let secondInfo = try #require(try await node.rpc.getPeerInfo().first { $0.inbound && $0.id != ours.id })
            await second.close()
            let both = try await tmux.waitFor("two peer rows") { MonitorPeerRow.rows(in: $0).count == 2 }
            MonitorSamples.save("p2p-monitor-two-peers", both)
            #expect(MonitorPeerRow.rows(in: both).map(\.id) == [Int64(ours.id), Int64(secondInfo.id)])
            try tmux.send("j")
            try await tmux.waitFor("the second peer selected") { screen in
                MonitorPeerRow.rows(in: screen).first { $0.selected }?.id == Int64(secondInfo.id)
            }
            try tmux.send("Space")
            try await tmux.waitFor("the second peer's flow") { $0.contains("PEER \(secondInfo.id) (") && $0.contains("<--- ping (8 bytes)") }
            try tmux.send("Escape")
            try await tmux.waitFor("the list after ESC") { $0.contains("P2P Message Monitor") }

            // q quits; the terminal is back in cooked mode.
            try tmux.send("q")
            let end = try await tmux.waitFor("the monitor to exit") { $0.contains("EXIT ") }
            #expect(end.contains("EXIT 0"))
            #expect(!end.contains("P2P Message Monitor"), "the alternate screen was left")
            let after = try await tmux.settingsAfterExit()
            #expect(after.contains(" icanon") && after.contains(" echo "), "the terminal is out of raw mode: \(after)")
            let summary = (try? String(contentsOfFile: "\(NSTemporaryDirectory())p2pmonitor-\(pid).err", encoding: .utf8)) ?? ""
            #expect(summary.contains("stopped: quit"))
            #expect(summary.contains(" 0 lost, 0 payloads cut"))
            MonitorSamples.save("p2p-monitor-summary", end + "\n" + summary)
            await peer.close()
        }
    }

    @Test("Ctrl-C and SIGTERM end the monitor cleanly with the terminal restored; a closed terminal ends it with its summary",
          arguments: ["Ctrl-C", "SIGTERM", "hang-up"])
    func signals(_ how: String) async throws {
        let cli = try #require(CLI.path)
        try await withNode(options: NodeOptions(name: "p2pmonsignal")) { node in
            let pid = try #require(await node.pid)
            let errors = "\(NSTemporaryDirectory())p2pmonitor-signal-\(pid).err"
            let tmux = try MonitorTmux("\"\(cli)\" p2p-monitor --pid \(pid) 2>\(errors)", width: 100, height: 20)
            defer { tmux.kill() }
            try await tmux.waitFor("the monitor to attach") { $0.contains("waiting for P2P messages") }
            let monitor = try #require(try tmux.commandPID())
            if how == "hang-up" {
                tmux.killServer()
                let deadline = ContinuousClock.now.advanced(by: .seconds(10))
                var summary = ""
                while ContinuousClock.now < deadline {
                    summary = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
                    if summary.contains(" lost, ") { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(summary.contains("stopped: terminal"), "the summary after the terminal closed: \(summary)")
                #expect(await waitForProcessToVanish(monitor))
                return
            }
            if how == "Ctrl-C" {
                try tmux.send("C-c")
            } else {
                #expect(Foundation.kill(monitor, SIGTERM) == 0)
            }
            let end = try await tmux.waitFor("the monitor to exit") { $0.contains("EXIT ") }
            #expect(end.contains("EXIT 0"))
            #expect(try await tmux.settingsAfterExit().contains(" icanon"), "the terminal is out of raw mode")
            let summary = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
            #expect(summary.contains(how == "Ctrl-C" ? "stopped: interrupted" : "stopped: terminated"))
        }
    }

    @Test("--json prints one line per message with the peer's id, address and type; --duration ends the monitor by itself")
    func jsonLines() async throws {
        _ = try #require(CLI.path)
        try await withNode(options: NodeOptions(name: "p2pmonjson")) { node in
            let pid = try #require(await node.pid)
            let monitor = try await ToolProcess(["p2p-monitor", "--pid", "\(pid)", "--json"])
            let peer = try await node.connectRawPeer()
            // The pong is the barrier: the node fired inbound_message for all
            // we sent before it, and outbound_message for the pong before it
            // sent it. Ctrl-C then drains what the kernel holds.
            _ = try await peer.ping(nonce: 42)
            let ours = try #require(try await node.rpc.getPeerInfo().first { $0.inbound })
            let result = try await monitor.interrupt()
            let printed = result.standardOutput, summary = result.standardError
            #expect(result.status == 0)
            let records = try printed.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            let inbound = records.filter { $0["direction"] as? String == "inbound" && ($0["peer_id"] as? NSNumber)?.intValue == ours.id }
            let sent = await peer.sent
            #expect(inbound.map { $0["type"] as? String ?? "" } == sent.map(\.command))
            #expect(inbound.map { ($0["size"] as? NSNumber)?.intValue ?? -1 } == sent.map(\.payloadSize))
            #expect(inbound.allSatisfy { $0["address"] as? String == ours.addr })
            #expect(records.contains { $0["direction"] as? String == "outbound" && $0["type"] as? String == "pong" })
            MonitorSamples.save("p2p-monitor-json", printed + summary)
            #expect(summary.contains("stopped: interrupted"), "\(summary)")
            #expect(summary.contains(" 0 lost, 0 payloads cut"))
            await peer.close()

            // --duration: the monitor stops by itself, however much traffic there was.
            let timed = try await ToolProcess(["p2p-monitor", "--pid", "\(pid)", "--json", "--duration", "1"]).finish()
            #expect(timed.status == 0)
            #expect(timed.standardError.contains("stopped: 1.0 s elapsed"), "\(timed.standardError)")
            #expect(timed.standardError.contains(" 0 lost, 0 payloads cut"))
        }
    }

    @Test("bad input: not a terminal, a pid that does not exist, a process that is not tapyrusd")
    func badInput() throws {
        let notTerminal = try CLI.run(["p2p-monitor", "--pid", "\(getpid())"])
        #expect(notTerminal.status != 0)
        #expect(notTerminal.standardError.contains("standard output is not a terminal"))
        let missing = try CLI.run(["p2p-monitor", "--json", "--pid", "999999999"])
        #expect(missing.status != 0)
        #expect(missing.standardError.contains("no process with pid 999999999"))
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try sleeper.run()
        defer { sleeper.terminate() }
        let other = try CLI.run(["p2p-monitor", "--json", "--pid", "\(sleeper.processIdentifier)"])
        #expect(other.status != 0)
        #expect(other.standardError.contains("process \(sleeper.processIdentifier) runs"))
        #expect(other.standardError.contains("has no USDT probes"))
        #expect(other.standardError.split(separator: "\n").count == 1)
    }
}

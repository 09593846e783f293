import Foundation
import NodeControl
import Testing
import TraceHarness

/// The P2P tools traced by binary path with two nodes of one tapyrusd.
@Suite("P2P tools by binary path keep two nodes of one tapyrusd apart", .serialized,
       .enabled(if: toolTestsUnavailableReason == nil, "\(toolTestsUnavailableReason ?? "")"))
struct TwoNodeP2PToolTests {
    @Test("p2p-log, raw-p2p --json, p2p-monitor --json and log: every message names its node and matches that node's getpeerinfo; each raw peer's traffic is on its own node only")
    func p2pTools() async throws {
        try await withTwoNodes("p2p-tools", connect: false) { nodes in
            let binary = nodes.tapyrusd.path
            let (pidA, pidB) = try await nodes.pids()
            let p2pLog = try await ToolProcess(["p2p-log", "--tapyrusd", binary])
            let rawP2P = try await ToolProcess(["raw-p2p", "--tapyrusd", binary, "--json"])
            let rawText = try await ToolProcess(["raw-p2p", "--tapyrusd", binary])
            let monitor = try await ToolProcess(["p2p-monitor", "--tapyrusd", binary, "--json"])
            let log = try await ToolProcess(["log", binary, "--probe", "net:inbound_message", "--probe", "net:outbound_message"])

            // a connects out to b: the first peer, id 0, of each. Then a raw
            // peer of each, pinging a twice and b three times.
            let wired = try await nodes.wire(pings: (2, 3))
            let (rawA, rawB, table) = (wired.rawA, wired.rawB, wired.table)
            let (linkOnA, linkOnB, rawOnA, rawOnB) = (wired.linkOnA, wired.linkOnB, wired.rawOnA, wired.rawOnB)
            #expect(linkOnA.id == 0 && linkOnB.id == 0, "each node's peer 0 is the other node")
            #expect(linkOnA.addr == nodes.b.p2pAddress)
            #expect(table.peers[pidA]?.count == 2 && table.peers[pidB]?.count == 2)

            var truthA = await RawPeerTruth.before(rawA), truthB = await RawPeerTruth.before(rawB)
            let results = (p2pLog: try await p2pLog.interrupt(), rawP2P: try await rawP2P.interrupt(), rawText: try await rawText.interrupt(),
                           monitor: try await monitor.interrupt(), log: try await log.interrupt())
            try await truthA.after(rawA, barrier: 100)
            try await truthB.after(rawB, barrier: 100)
            await rawA.close()
            await rawB.close()
            for result in [results.p2pLog, results.rawP2P, results.rawText, results.monitor, results.log] { expectCleanSummary(result, reason: "interrupted") }

            // p2p-log: every line in the PID column.
            let lines = results.p2pLog.lines.filter { !$0.isEmpty }
            let fromLog = lines.compactMap(PrintedMessage.init(p2pLogLine:))
            #expect(fromLog.count == lines.count, "every line parses: \(lines.filter { PrintedMessage(p2pLogLine: $0) == nil })")
            #expect(lines.allSatisfy { pidColumn(of: $0) == pidA || pidColumn(of: $0) == pidB })
            // raw-p2p and p2p-monitor --json: a pid in every object.
            let rawLines = results.rawText.lines.filter { $0.contains(" msg '") }
            let fromRawText = rawLines.compactMap(PrintedMessage.init(rawP2PLine:))
            #expect(fromRawText.count == rawLines.count && !rawLines.isEmpty)
            let rawObjects = try jsonObjects(results.rawP2P)
            let fromRaw = rawObjects.compactMap(PrintedMessage.init(json:))
            #expect(fromRaw.count == rawObjects.count)
            let monitorObjects = try jsonObjects(results.monitor)
            let fromMonitor = monitorObjects.compactMap(PrintedMessage.init(json:))
            #expect(fromMonitor.count == monitorObjects.count)
            // log: pid/tid on every line.
            let logLines = results.log.lines.filter { !$0.isEmpty }
            let fromEventLog = logLines.compactMap(PrintedMessage.init(logLine:))
            #expect(fromEventLog.count == logLines.count, "every log line parses")

            for (tool, printed) in [("p2p-log", fromLog), ("raw-p2p", fromRawText), ("raw-p2p --json", fromRaw), ("p2p-monitor --json", fromMonitor), ("log", fromEventLog)] {
                // Each message's peer is that node's getpeerinfo peer: address and direction.
                for message in printed {
                    let peer = table.peer(message.pid, message.peerID)
                    #expect(peer?.addr == message.address, "\(tool): \(message) is \(peer.map { "\($0.addr)" } ?? "no peer") in process \(message.pid)'s getpeerinfo")
                    #expect(message.connectionType.hasPrefix(peer?.inbound == true ? "In-" : "Out-"), "\(tool): \(message)")
                }
                #expect(Set(printed.map(\.pid)) == [pidA, pidB], "\(tool): both nodes")
                // Each raw peer's traffic, exactly, on its own node only.
                truthA.check(printed.filter { $0.pid == pidA && $0.peerID == Int64(rawOnA.id) }, "\(tool), a's raw peer")
                truthB.check(printed.filter { $0.pid == pidB && $0.peerID == Int64(rawOnB.id) }, "\(tool), b's raw peer")
                #expect(printed.filter { $0.pid == pidA && $0.peerID == Int64(rawOnA.id) && $0.inbound && $0.type == "ping" }.count == 2, "\(tool)")
                #expect(printed.filter { $0.pid == pidB && $0.peerID == Int64(rawOnB.id) && $0.inbound && $0.type == "ping" }.count == 3, "\(tool)")
                // The two peer 0s: what a sent b received, in order, and back.
                let aToB = printed.filter { $0.pid == pidA && $0.peerID == 0 && !$0.inbound }.map(\.type)
                let bFromA = printed.filter { $0.pid == pidB && $0.peerID == 0 && $0.inbound }.map(\.type)
                let bToA = printed.filter { $0.pid == pidB && $0.peerID == 0 && !$0.inbound }.map(\.type)
                let aFromB = printed.filter { $0.pid == pidA && $0.peerID == 0 && $0.inbound }.map(\.type)
                #expect(Array(aToB.prefix(2)) == ["version", "verack"] && Array(bToA.prefix(2)) == ["version", "verack"], "\(tool): \(aToB) / \(bToA)")
                #expect(bFromA == Array(aToB.prefix(bFromA.count)) && bFromA.count >= 2, "\(tool): b received what a sent: \(bFromA) of \(aToB)")
                #expect(aFromB == Array(bToA.prefix(aFromB.count)) && aFromB.count >= 2, "\(tool): a received what b sent: \(aFromB) of \(bToA)")
            }
            // raw-p2p's bytes of what each raw peer sent are those bytes.
            let rawInboundHex = { (pid: Int32, peer: Int64) in
                rawObjects.filter { ($0["pid"] as? NSNumber)?.int32Value == pid && ($0["peer_id"] as? NSNumber)?.int64Value == peer
                    && $0["direction"] as? String == "inbound" }.map { $0["hex"] as? String ?? "" }
            }
            #expect(rawInboundHex(pidA, Int64(rawOnA.id)) == truthA.sent.map { $0.message.payload.hexString })
            #expect(rawInboundHex(pidB, Int64(rawOnB.id)) == truthB.sent.map { $0.message.payload.hexString })
            // raw-p2p closes with each node's count, then the sum; all whole.
            let countA = fromRawText.filter { $0.pid == pidA }.count, countB = fromRawText.filter { $0.pid == pidB }.count
            #expect(results.rawText.lines.first == "Logging raw P2P messages, whole (up to 32 MiB each).")
            // a's version to b is the first message of all, so a's count comes first.
            #expect(results.rawText.lines.filter { $0.contains(" messages: ") } == [
                "\(pidColumnText(pidA))\(countA) messages: \(countA) whole, 0 incomplete",
                "\(pidColumnText(pidB))\(countB) messages: \(countB) whole, 0 incomplete",
                "all     \(countA + countB) messages: \(countA + countB) whole, 0 incomplete",
            ], "\(results.rawText.lines.suffix(4))")
        }
    }
}

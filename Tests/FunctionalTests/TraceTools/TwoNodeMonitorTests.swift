import Foundation
import NodeControl
import RegressionSuite
import Testing
import TraceHarness

/// The monitors traced by binary path with two nodes of one tapyrusd, under tmux.
@Suite("monitors by binary path keep two nodes of one tapyrusd apart, under tmux", .serialized,
       // Needs tapyrusd, eBPF privilege, tmux and the built CLI.
       .enabled(if: toolTestsUnavailableReason == nil && MonitorTmux.isAvailable,
                "\(toolTestsUnavailableReason ?? "tmux is missing")"))
struct TwoNodeMonitorTests {
    @Test("p2p-monitor: a row per node and peer (two peer 0s), each as that node's getpeerinfo says; ENTER opens that node's conversation only; an exited node is marked, its restart is a node of its own")
    func p2pMonitor() async throws {
        let cli = try #require(CLI.path)
        try await withTwoNodes("p2pmon-two", connect: false) { nodes in
            let (pidA, pidB) = try await nodes.pids()
            let errors = "\(NSTemporaryDirectory())p2pmonitor-two-\(pidA).err"
            let tmux = try MonitorTmux("\"\(cli)\" p2p-monitor --tapyrusd \(nodes.tapyrusd.path) 2>\(errors)", width: 140, height: 40)
            defer { tmux.kill() }
            try await tmux.waitFor("the monitor to attach") { $0.contains("waiting for P2P messages") }

            let wired = try await nodes.wire(pings: (2, 3))
            let (rawA, rawB, table) = (wired.rawA, wired.rawB, wired.table)
            let (linkOnB, rawOnA, rawOnB) = (wired.linkOnB, wired.rawOnA, wired.rawOnB)
            var truthA = await RawPeerTruth.before(rawA), truthB = await RawPeerTruth.before(rawB)

            let screen = try await tmux.waitFor("four rows, each raw peer's with all its messages") { screen in
                let rows = MonitorPeerRow.rows(in: screen)
                return rows.count == 4
                    && rows.contains { $0.pid == pidA && $0.id == Int64(rawOnA.id) && $0.inboundCount == truthA.sent.count }
                    && rows.contains { $0.pid == pidB && $0.id == Int64(rawOnB.id) && $0.inboundCount == truthB.sent.count }
            }
            MonitorSamples.save("p2p-monitor-two-nodes", screen)
            try await truthA.after(rawA, barrier: 100)
            try await truthB.after(rawB, barrier: 100)
            let rows = MonitorPeerRow.rows(in: screen)
            // Node by node in the order they appeared (a sent the first message), each node's peers in id order.
            #expect(rows.map { "\($0.pid)/\($0.id)" } == ["\(pidA)/0", "\(pidA)/\(rawOnA.id)", "\(pidB)/0", "\(pidB)/\(rawOnB.id)"])
            #expect(rows.filter { $0.id == 0 }.map(\.pid) == [pidA, pidB], "the two peer 0s, a row each")
            for row in rows {
                let peer = table.peer(row.pid, row.id)
                #expect(row.address == peer?.addr, "row \(row.pid)/\(row.id) has process \(row.pid)'s getpeerinfo address")
                #expect(row.connectionType.hasPrefix(peer?.inbound == true ? "In-" : "Out-"))
                #expect(!row.exited)
            }
            for (truth, pid, id) in [(truthA, pidA, Int64(rawOnA.id)), (truthB, pidB, Int64(rawOnB.id))] {
                let row = try #require(rows.first { $0.pid == pid && $0.id == id })
                #expect(row.inboundBytes == truth.sent.reduce(0) { $0 + UInt64($1.payloadSize) })
                #expect(row.outboundCount >= truth.readBeforeStop && row.outboundCount <= truth.sentByNode.count)
                #expect(row.outboundBytes == truth.sentByNode.prefix(row.outboundCount).reduce(0) { $0 + UInt64($1.payloadSize) })
            }
            #expect(screen.contains(" 2 nodes, 4 peers · "), "the footer counts nodes and peers")

            // ENTER on b's raw peer: b's three pings only, not a's two.
            func open(_ pid: Int32, _ id: Int64, header: String, _ condition: @escaping (String) -> Bool) async throws -> String {
                let index = try #require(MonitorPeerRow.rows(in: try tmux.capture()).firstIndex { $0.pid == pid && $0.id == id })
                for _ in 0..<4 { try tmux.send("k") }
                for _ in 0..<index { try tmux.send("j") }
                try await tmux.waitFor("row \(pid)/\(id) selected") { MonitorPeerRow.rows(in: $0).first { $0.selected }.map { $0.pid == pid && $0.id == id } == true }
                try tmux.send("Enter")
                return try await tmux.waitFor("the flow of \(header)") { $0.contains(header) && condition($0) }
            }
            func pings(_ screen: String) -> Int { screen.components(separatedBy: "<--- ping (8 bytes)").count - 1 }
            // (The barriers' pings included: the raw peers sent them before ENTER.)
            let pingsA = await rawA.sent.filter { $0.command == "ping" }.count, pingsB = await rawB.sent.filter { $0.command == "ping" }.count
            #expect(pingsA == 3 && pingsB == 4)
            let flowB = try await open(pidB, Int64(rawOnB.id), header: "NODE \(pidB) · PEER \(rawOnB.id) (\(rawOnB.addr))") { pings($0) >= pingsB }
            #expect(pings(flowB) == pingsB)
            MonitorSamples.save("p2p-monitor-two-nodes-flow", flowB)
            try tmux.send("q")
            try await tmux.waitFor("the list again") { $0.contains("P2P Message Monitor") }
            let flowA = try await open(pidA, Int64(rawOnA.id), header: "NODE \(pidA) · PEER \(rawOnA.id) (\(rawOnA.addr))") { pings($0) >= pingsA }
            #expect(pings(flowA) == pingsA)
            try tmux.send("q")
            // b's peer 0 is a: its version came in, b's went out.
            let linkFlow = try await open(pidB, 0, header: "NODE \(pidB) · PEER 0 (\(linkOnB.addr))") { $0.contains("<--- version (") }
            #expect(linkFlow.contains("| version ("))
            try tmux.send("q")
            try await tmux.waitFor("the list again") { $0.contains("P2P Message Monitor") }

            // b exits: its rows are marked; restarted, it is a new process, a node of its own.
            _ = try await nodes.b.stop()
            let exited = try await tmux.waitFor("b's rows marked exited") { screen in
                MonitorPeerRow.rows(in: screen).filter { $0.pid == pidB }.map(\.exited) == [true, true] && screen.contains(" 2 nodes (1 exited), 4 peers")
            }
            #expect(MonitorPeerRow.rows(in: exited).filter { $0.pid == pidA }.allSatisfy { !$0.exited })
            try await nodes.b.restart()
            let pidB2 = try #require(await nodes.b.pid)
            #expect(pidB2 != pidB)
            let rawB2 = try await nodes.b.connectRawPeer()
            _ = try await rawB2.ping(nonce: 7)
            let sentB2 = await rawB2.sent
            let restartedInfo = try #require(try await nodes.b.rpc.getPeerInfo().first { $0.inbound })
            let restarted = try await tmux.waitFor("the restarted node's row") { screen in
                MonitorPeerRow.rows(in: screen).contains { $0.pid == pidB2 && $0.inboundCount == sentB2.count }
            }
            MonitorSamples.save("p2p-monitor-two-nodes-restart", restarted)
            let newRow = try #require(MonitorPeerRow.rows(in: restarted).first { $0.pid == pidB2 })
            #expect(newRow.id == Int64(restartedInfo.id) && newRow.address == restartedInfo.addr && !newRow.exited)
            #expect(restarted.contains(" 3 nodes (1 exited), 5 peers · "))
            #expect(MonitorPeerRow.rows(in: restarted).filter { $0.pid == pidB }.count == 2, "the exited node keeps its rows")

            try tmux.send("q")
            let end = try await tmux.waitFor("the monitor to exit") { $0.contains("EXIT ") }
            #expect(end.contains("EXIT 0"))
            let summary = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
            #expect(summary.contains("stopped: quit"), "\(summary)")
            #expect(summary.contains(" 0 lost, 0 payloads cut"))
            await rawA.close()
            await rawB.close()
            await rawB2.close()
        }
    }

    @Test("mempool-monitor and its --json: each node's totals as its RPC says, the sum over both, every recent event and JSON line naming its node")
    func mempoolMonitor() async throws {
        let cli = try #require(CLI.path)
        // -blocksonly: no transaction relay, so each mempool holds only its
        // own wallet's payments (which -walletbroadcast still puts there);
        // the blocks still travel.
        try await withTwoNodes("mempoolmon-two", arguments: ["-blocksonly", "-walletbroadcast=1"]) { nodes in
            let (pidA, pidB) = try await nodes.pids()
            let addressA = try await nodes.a.rpc.getNewAddress(), addressB = try await nodes.b.rpc.getNewAddress()
            try await nodes.a.rpc.generateToAddress(2, address: addressA)
            try await nodes.network.waitForSync()
            try await nodes.b.rpc.generateToAddress(2, address: addressB)
            try await nodes.network.waitForSync()

            let errors = "\(NSTemporaryDirectory())mempoolmonitor-two-\(pidA).err"
            let tmux = try MonitorTmux("\"\(cli)\" mempool-monitor --tapyrusd \(nodes.tapyrusd.path) 2>\(errors)", width: 170, height: 40)
            defer { tmux.kill() }
            let json = try await ToolProcess(["mempool-monitor", "--tapyrusd", nodes.tapyrusd.path, "--json"])
            try await tmux.waitFor("the monitor to attach") { $0.contains("RECENT EVENTS") }

            // a pays twice, b once; each mempool has its own payments only.
            let paidA = [try await nodes.a.rpc.sendToAddress(addressA, amount: .tpc(1)), try await nodes.a.rpc.sendToAddress(addressA, amount: .tpc(2))]
            let paidB = [try await nodes.b.rpc.sendToAddress(addressB, amount: .tpc(3))]
            #expect(Set(try await nodes.a.rpc.getRawMempool()) == Set(paidA))
            #expect(Set(try await nodes.b.rpc.getRawMempool()) == Set(paidB))
            var entries: [String: MempoolEntry] = [:]
            for txid in paidA { entries[txid] = try await nodes.a.rpc.getMempoolEntry(txid) }
            for txid in paidB { entries[txid] = try await nodes.b.rpc.getMempoolEntry(txid) }
            func sums(_ txids: [String]) throws -> (fees: Int64, bytes: Int64) {
                try txids.reduce((Int64(0), Int64(0))) { sum, txid in
                    let entry = try #require(entries[txid])
                    return (sum.0 + (try #require(entry.fees).base.units), sum.1 + Int64(entry.size))
                }
            }
            // Each node mines its own payments.
            let blockA = try #require(try await nodes.a.rpc.generateToAddress(1, address: addressA).first)
            try await nodes.network.waitForSync()
            let blockB = try #require(try await nodes.b.rpc.generateToAddress(1, address: addressB).first)
            try await nodes.network.waitForSync()
            #expect(Set(try await nodes.a.rpc.getBlock(hash: blockA).tx.dropFirst()) == Set(paidA))
            #expect(Set(try await nodes.b.rpc.getBlock(hash: blockB).tx.dropFirst()) == Set(paidB))

            let screen = try await tmux.waitFor("both nodes' payments removed") { screen in
                Self.totals("removed", of: "\(pidA)", in: screen)?.count == 2 && Self.totals("removed", of: "\(pidB)", in: screen)?.count == 1
            }
            MonitorSamples.save("mempool-monitor-two-nodes", screen)
            let (feesA, bytesA) = try sums(paidA), (feesB, bytesB) = try sums(paidB)
            for (who, count, fees, bytes) in [("\(pidA)", 2, feesA, bytesA), ("\(pidB)", 1, feesB, bytesB), ("all", 3, feesA + feesB, bytesA + bytesB)] {
                for kind in ["added", "removed"] {
                    let row = Self.totals(kind, of: who, in: screen)
                    #expect(row?.count == count && row?.fees == fees && row?.bytes == bytes, "\(who) \(kind): \(String(describing: row))")
                }
                #expect(Self.totals("removed", of: who, in: screen)?.reasons == "block \(count)")
                #expect(Self.totals("replaced", of: who, in: screen)?.count == 0)
            }
            for (txid, pid) in paidA.map({ ($0, pidA) }) + paidB.map({ ($0, pidB) }) {
                let entry = try #require(entries[txid])
                let fee = try #require(entry.fees).base.units
                #expect(screen.contains("  \(pidColumnText(pid))added    \(txid)  \(entry.size) B  fee \(fee)"), "\(txid) added on \(pid)")
                #expect(screen.contains("  \(pidColumnText(pid))removed  \(txid)  \(entry.size) B  fee \(fee)  block"), "\(txid) removed on \(pid)")
            }
            #expect(screen.contains(" 2 nodes · "))

            try tmux.send("q")
            let end = try await tmux.waitFor("the monitor to exit") { $0.contains("EXIT ") }
            #expect(end.contains("EXIT 0"))
            let summary = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
            #expect(summary.contains("stopped: quit"))
            #expect(summary.contains("  process \(pidA) added: 2 transactions, fees \(feesA), \(bytesA) bytes"), "\(summary)")
            #expect(summary.contains("  process \(pidB) added: 1 transactions, fees \(feesB), \(bytesB) bytes"))
            #expect(summary.contains("  all processes removed: 3 transactions, fees \(feesA + feesB), \(bytesA + bytesB) bytes"))
            #expect(summary.contains(" 0 lost, 0 payloads cut"))

            let result = try await json.interrupt()
            expectCleanSummary(result, reason: "interrupted")
            let records = try jsonObjects(result)
            func events(of pid: Int32) -> [String] {
                records.filter { ($0["pid"] as? NSNumber)?.int32Value == pid }.map { record in
                    "\(record["probe"] as? String ?? "?") \((record["fields"] as? [String: Any])?["txid"] as? String ?? "?")"
                }
            }
            #expect(records.allSatisfy { [pidA, pidB].contains(($0["pid"] as? NSNumber)?.int32Value ?? -1) })
            #expect(Set(events(of: pidA)) == Set(paidA.flatMap { ["mempool:added \($0)", "mempool:removed \($0)"] }) && events(of: pidA).count == 4)
            #expect(events(of: pidB) == paidB.flatMap { ["mempool:added \($0)", "mempool:removed \($0)"] })
        }
    }

    /// The totals row of `kind` of node `who` (a pid, or `all`): count, fees, bytes, reasons.
    static func totals(_ kind: String, of who: String, in screen: String) -> (count: Int, fees: Int64, bytes: Int64, reasons: String)? {
        MempoolMonitorFunctionalTests.totals(kind, of: who, in: screen)
    }
}

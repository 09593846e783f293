import Foundation
import NodeControl
import RegressionSuite
import TapyrusEncoding
import Testing
import TraceHarness

/// `tapyrus-trace mempool-monitor` run for real against a live tapyrusd.
@Suite("mempool-monitor against a live tapyrusd", .serialized,
       // Needs tapyrusd, eBPF privilege, tmux and the built CLI.
       .requiresTraceableTapyrusd,
       .enabled(if: MonitorTmux.isAvailable && CLI.path != nil, "tmux or the tapyrus-trace executable is missing"))
struct MempoolMonitorFunctionalTests {
    /// The totals row of `kind` of node `pid` (nil: the only node's; `all`
    /// the sum's): count, fees, bytes and the reasons text.
    static func totals(_ kind: String, of pid: String? = nil, in screen: String) -> (count: Int, fees: Int64, bytes: Int64, reasons: String)? {
        for line in screen.split(separator: "\n") {
            var tokens = line.split(separator: " ")
            guard tokens.count >= 5, pid.map({ tokens[0] == $0 }) ?? (Int32(tokens[0]) != nil) else { continue }
            tokens.removeFirst()
            if tokens.first == "exited" { tokens.removeFirst() }
            guard tokens.count >= 4, tokens[0] == kind, let count = Int(tokens[1]) else { continue }
            return (count, Int64(tokens[2]) ?? -1, Int64(tokens[3]) ?? -1, tokens.dropFirst(4).joined(separator: " "))
        }
        return nil
    }

    @Test("a zero-fee spend shows as rejected with its reason, a payment as added with its fee and size, its block as removed for reason block; resize and q work")
    func liveScreen() async throws {
        let cli = try #require(CLI.path)
        try await withNode(options: NodeOptions(name: "mempoolmonitor")) { node in
            let pid = try #require(await node.pid)
            let rpc = node.rpc
            let address = try await rpc.getNewAddress()
            let blocks = try await rpc.generateToAddress(3, address: address)
            // A spend of the first coinbase paying no fee, signed, then the
            // cache flushed: tapyrusd fires mempool:rejected for it (once per
            // input coin not cached, see the mempool-rejected scenario).
            let coinbase = try #require(try await rpc.getBlock(hash: blocks[0]).tx.first)
            let coin = try #require(try await rpc.getRawTransaction(coinbase, blockHash: blocks[0]).vout.first)
            let unsigned = try await rpc.createRawTransaction(inputs: [OutPoint(txid: coinbase, vout: 0)],
                                                              outputs: [try await rpc.getNewAddress(): coin.value])
            let zeroFee = try await rpc.signRawTransactionWithWallet(unsigned)
            let zeroFeeTxid = try #require(try await rpc.call("decoderawtransaction", [.string(zeroFee.hex)])["txid"]?.stringValue)
            _ = try await rpc.getTxOutSetInfo()

            let tmux = try MonitorTmux("\"\(cli)\" mempool-monitor --pid \(pid) 2>\(NSTemporaryDirectory())mempoolmonitor-\(pid).err", width: 160)
            defer { tmux.kill() }
            try await tmux.waitFor("the monitor to attach") { $0.contains("RECENT EVENTS") }

            var rejection = ""
            do {
                _ = try await rpc.sendRawTransaction(zeroFee.hex)
                Issue.record("sendrawtransaction accepted a transaction paying no fee")
            } catch let error as RPCError {
                guard case let .server(_, _, message) = error else { throw error }
                rejection = message
            }
            let rejected = try await tmux.waitFor("the zero-fee spend rejected") { Self.totals("rejected", in: $0)?.count == 1 }
            let reasons = try #require(Self.totals("rejected", in: rejected)?.reasons)
            #expect(reasons.hasSuffix(" 1"), "one rejection with its reason: \(reasons)")
            let reason = String(reasons.dropLast(2))
            #expect(rejection.hasPrefix(reason), "the reason shown is sendrawtransaction's: \(rejection)")
            #expect(rejected.contains("rejected \(zeroFeeTxid)  \(reason)"))

            let txid = try await rpc.sendToAddress(try await rpc.getNewAddress(), amount: .tpc(2))
            let entry = try await rpc.getMempoolEntry(txid)
            let fee = try #require(entry.fees).base.units
            let added = try await tmux.waitFor("the payment added") { Self.totals("added", in: $0)?.count == 1 }
            let addedTotals = try #require(Self.totals("added", in: added))
            #expect(addedTotals.fees == fee)
            #expect(addedTotals.bytes == Int64(entry.size))
            #expect(added.contains("added    \(txid)  \(entry.size) B  fee \(fee)"))

            try await rpc.generateToAddress(1, address: address)
            let removed = try await tmux.waitFor("the payment removed") { Self.totals("removed", in: $0)?.count == 1 }
            let removedTotals = try #require(Self.totals("removed", in: removed))
            #expect(removedTotals.fees == fee)
            #expect(removedTotals.bytes == Int64(entry.size))
            #expect(removedTotals.reasons == "block 1")
            #expect(removed.contains("removed  \(txid)  \(entry.size) B  fee \(fee)  block"))
            #expect(Self.totals("replaced", in: removed)?.count == 0)
            MonitorSamples.save("mempool-monitor", removed)

            try tmux.resize(width: 40, height: 6)
            try await tmux.waitFor("the too-small message") { $0.contains("terminal too small") }
            try tmux.resize(width: 160, height: 40)
            try await tmux.waitFor("the screen redrawn") { Self.totals("removed", in: $0)?.count == 1 }

            try tmux.send("q")
            let end = try await tmux.waitFor("the monitor to exit") { $0.contains("EXIT ") }
            #expect(end.contains("EXIT 0"))
            #expect(try await tmux.settingsAfterExit().contains(" icanon"), "the terminal is out of raw mode")
            let summary = (try? String(contentsOfFile: "\(NSTemporaryDirectory())mempoolmonitor-\(pid).err", encoding: .utf8)) ?? ""
            MonitorSamples.save("mempool-monitor-summary", summary)
            #expect(summary.contains("stopped: quit"))
            #expect(summary.contains("added: 1 transactions, fees \(fee), \(entry.size) bytes"))
            #expect(summary.contains(" 0 lost, 0 payloads cut"))
        }
    }

    @Test("--json prints the added and removed events of a payment as JSON Lines")
    func jsonLines() async throws {
        _ = try #require(CLI.path)
        try await withNode(options: NodeOptions(name: "mempoolmonjson")) { node in
            let pid = try #require(await node.pid)
            let rpc = node.rpc
            let address = try await rpc.getNewAddress()
            try await rpc.generateToAddress(3, address: address)
            let monitor = try await ToolProcess(["mempool-monitor", "--pid", "\(pid)", "--json"])
            let txid = try await rpc.sendToAddress(try await rpc.getNewAddress(), amount: .tpc(1))
            let entry = try await rpc.getMempoolEntry(txid)
            let fee = try #require(entry.fees).base.units
            // Both events fired before their RPCs returned: the node adds the
            // payment in sendtoaddress and removes it while connecting the
            // block in generatetoaddress. Ctrl-C then drains what the kernel holds.
            try await rpc.generateToAddress(1, address: address)
            let result = try await monitor.interrupt()
            let printed = result.standardOutput, summary = result.standardError
            #expect(result.status == 0)
            #expect(summary.contains("stopped: interrupted"), "\(summary)")
            MonitorSamples.save("mempool-monitor-json", printed + summary)
            #expect(summary.contains(" 0 lost, 0 payloads cut"))
            let records = try printed.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            #expect(records.map { $0["probe"] as? String ?? "" } == ["mempool:added", "mempool:removed"])
            let fields = records.map { $0["fields"] as? [String: Any] ?? [:] }
            #expect(fields.allSatisfy { $0["txid"] as? String == txid })
            #expect(fields.allSatisfy { ($0["fee"] as? NSNumber)?.int64Value == fee })
            #expect(fields.last?["reason"] as? String == "block")
        }
    }
}

import Foundation
import NodeControl
import TapyrusEncoding
import Testing
import TraceHarness
import TraceTools

@Suite("utxo-log against a real tapyrusd", .serialized, .enabled(if: toolTestsUnavailableReason == nil, "\(toolTestsUnavailableReason ?? "")"))
struct UTXOLogTests {
    /// The text columns of a `utxo-log` line.
    struct Row: Equatable {
        var op: String, txid: String, index: UInt32, token: String, value: Int64, height: UInt32, coinbase: Bool
        init?(_ line: String) {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard parts.count == 8, parts[1] == ":", let index = UInt32(parts[3]), let value = Int64(parts[5]),
                  let height = UInt32(parts[6]) else { return nil }
            op = parts[0]; txid = parts[2]; self.index = index; token = parts[4]; self.value = value; self.height = height
            coinbase = parts[7] == "Yes"
        }
    }

    @Test("the coinbase of a block just mined is Added with 5000000000 and Yes; a payment Spends it and Adds its outputs")
    func coinbaseAndPayment() async throws {
        try await withToolNode("utxo-log") { node in
            let pid = try #require(await node.pid)
            let address = try await node.rpc.getNewAddress()
            let tool = try await ToolProcess(["utxo-log", "--pid", "\(pid)"])
            let mined = try await node.rpc.generateToAddress(1, address: address)
            let block = try await node.rpc.getBlock(hash: try #require(mined.first))
            let coinbase = try #require(block.tx.first)
            let txid = try await node.rpc.sendToAddress(try await node.rpc.getNewAddress(), amount: Amount(units: 150_000_000))
            let paidIn = try await node.rpc.generateToAddress(1, address: address)
            let payment = try await node.rpc.getRawTransaction(txid)
            let paidHeight = try await node.rpc.getBlock(hash: try #require(paidIn.first)).height
            #expect(await tool.waitForOutput(containing: "Added   : \(txid) 1"))
            let result = try await tool.interrupt()
            expectCleanSummary(result, reason: "interrupted")

            #expect(result.lines.first == UTXOLog.columnTitles)
            let rows = result.lines.compactMap(Row.init)
            #expect(rows.contains(Row(op: "Added", txid: coinbase, index: 0, token: "TPC", value: 5_000_000_000, height: UInt32(block.height), coinbase: true)))
            #expect(rows.contains(Row(op: "Spent", txid: coinbase, index: 0, token: "TPC", value: 5_000_000_000, height: UInt32(block.height), coinbase: true)))
            for output in payment.vout {
                #expect(rows.contains(Row(op: "Added", txid: txid, index: UInt32(output.n), token: "TPC", value: output.value.units, height: UInt32(paidHeight), coinbase: false)))
            }
        }
    }
}

extension UTXOLogTests.Row {
    init(op: String, txid: String, index: UInt32, token: String, value: Int64, height: UInt32, coinbase: Bool) {
        self.op = op; self.txid = txid; self.index = index; self.token = token; self.value = value; self.height = height; self.coinbase = coinbase
    }
}

@Suite("flush-log against a real tapyrusd", .serialized, .enabled(if: toolTestsUnavailableReason == nil, "\(toolTestsUnavailableReason ?? "")"))
struct FlushLogTests {
    @Test("a node's shutdown shows as an ALWAYS flush with its coins and memory; the tool ends when the node exits")
    func shutdownFlush() async throws {
        try await withToolNode("flush-log") { node in
            let pid = try #require(await node.pid)
            let address = try await node.rpc.getNewAddress()
            let tool = try await ToolProcess(["flush-log", "--pid", "\(pid)"])
            _ = try await node.rpc.generateToAddress(3, address: address)
            try await node.stop()
            let result = try await tool.finish()
            expectCleanSummary(result, reason: "process \(pid) exited")
            let lines = result.lines.filter { !$0.isEmpty }
            #expect(lines.first == UTXOCacheFlushLog.columnTitles)
            let rows = lines.dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            #expect(!rows.isEmpty)
            for row in rows {
                #expect(row.count == 6, "\(row)")
                guard row.count == 6 else { continue }
                #expect(Int64(row[0]) != nil)
                #expect(FlushMode.allCases.map(\.description).contains(row[1]))
                #expect(UInt64(row[2]) != nil)
                #expect(row[3].range(of: #"^\d+\.\d\d$"#, options: .regularExpression) != nil && row[4] == "kB")
                #expect(row[5] == "False")
            }
            #expect(rows.contains { $0.count == 6 && $0[1] == "ALWAYS" })
        }
    }
}

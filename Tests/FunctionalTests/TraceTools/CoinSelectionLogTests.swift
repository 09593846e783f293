import Foundation
import NodeControl
import TapyrusEncoding
import Testing
import TraceHarness

@Suite("coin-selection-log against a real tapyrusd", .serialized, .enabled(if: toolTestsUnavailableReason == nil, "\(toolTestsUnavailableReason ?? "")"))
struct CoinSelectionLogTests {
    @Test("a payment of 1.5 TPC prints one block: requested 150000000 TPC, the 50 TPC coin selected, change, and the transaction's fee")
    func onePayment() async throws {
        try await withToolNode("coin-selection-log") { node in
            let pid = try #require(await node.pid)
            let address = try await node.rpc.getNewAddress()
            _ = try await node.rpc.generateToAddress(1, address: address)
            let tool = try await ToolProcess(["coin-selection-log", "--pid", "\(pid)"])
            let txid = try await node.rpc.sendToAddress(try await node.rpc.getNewAddress(), amount: Amount(units: 150_000_000))
            // The only coin is the 50 TPC coinbase: the fee is what the outputs leave of it.
            let fee = 5_000_000_000 - (try await node.rpc.getRawTransaction(txid).vout.reduce(0) { $0 + $1.value.units })
            #expect(await tool.waitForOutput(containing: "  fee "))
            let result = try await tool.interrupt()
            expectCleanSummary(result, reason: "interrupted")

            let lines = result.lines.filter { !$0.isEmpty }
            try #require(lines.count >= 4, "\(lines)")
            #expect(lines[0] == "send 1 (process \(pid), thread \(lines[0].split(separator: " ").last?.dropLast() ?? ""))")
            #expect(lines[1] == "  requested 150000000 TPC")
            let selected = lines[2].split(separator: " ").map(String.init)
            #expect(lines[2].hasPrefix("  selected  5000000000 TPC in 1 coin for target "), "\(lines[2])")
            let target = try #require(Int64(selected[selected.count - 2]))
            #expect(target > 150_000_000 && target < 5_000_000_000)
            #expect(lines.contains { $0.hasPrefix("  change    ") && $0.hasSuffix(" TPC") })
            #expect(lines.last == "  fee       \(fee) paid, \(fee) needed")
        }
    }

    @Test("with --json each send is one object with requested, selected, change and fee")
    func json() async throws {
        try await withToolNode("coin-selection-json") { node in
            let pid = try #require(await node.pid)
            let address = try await node.rpc.getNewAddress()
            _ = try await node.rpc.generateToAddress(2, address: address)
            let tool = try await ToolProcess(["coin-selection-log", "--pid", "\(pid)", "--json"])
            for _ in 0..<2 {
                _ = try await node.rpc.sendToAddress(try await node.rpc.getNewAddress(), amount: Amount(units: 100_000_000))
            }
            #expect(await tool.waitForOutput(containing: "\"send\":2"))
            let result = try await tool.interrupt()
            expectCleanSummary(result, reason: "interrupted")
            let objects = try result.lines.filter { !$0.isEmpty }.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            #expect(objects.count == 2)
            for (number, object) in objects.enumerated() {
                #expect(object["send"] as? Int == number + 1)
                let requested = try #require(object["requested"] as? [[String: Any]])
                #expect(requested.first?["value"] as? Int64 == 100_000_000)
                #expect(requested.first?["token"] as? String == "TPC")
                #expect((object["selected"] as? [[String: Any]])?.first?["coin_count"] as? Int == 1)
                #expect((object["fee"] as? [String: Any])?["paid"] as? Int64 ?? 0 > 0)
            }
        }
    }
}

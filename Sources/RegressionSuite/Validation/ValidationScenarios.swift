import Foundation
import NodeControl
import TraceHarness

extension ScenarioCatalog {
    static let validation: [any Scenario] = [BlockConnectedScenario()]
}

/// `validation:block_connected`: one event per generated block, each agreeing
/// with `getblock`, including a block with several transactions and inputs.
struct BlockConnectedScenario: Scenario {
    let name = "block-connected"
    let tracepoints = [BlockConnected.tracepoint.probe]

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        try await withScenarioNode(context, check, name: name) { node in
            let rpc = node.rpc
            let address = try await rpc.getNewAddress()
            let recording = try await context.record(node)
            let empty = try await rpc.generateToAddress(3, address: address)
            // Three payments, then a block holding them.
            for amount in [1, 2, 3] {
                _ = try await rpc.sendToAddress(try await rpc.getNewAddress(), amount: .tpc(Int64(amount)))
            }
            let full = try await rpc.generateToAddress(1, address: address)
            let hashes = empty + full

            let events = try await recording.wait(for: hashes.count, BlockConnected.self)
            check.equal(events.count, hashes.count, "one block_connected per generated block (\(hashes.count))")
            check.equal(events.map(\.hash.hex), hashes, "block hashes equal generatetoaddress's, in order")
            let heights = events.map { Int($0.height) }
            check.that(heights == Array(heights.indices.map { heights.first! + $0 }), "heights are consecutive: \(heights)")
            for event in events {
                let block = try await rpc.getBlock(hash: event.hash.hex)
                check.equal(Int(event.height), block.height, "height of \(block.hash.prefix(16))")
                check.equal(Int(event.transactions), block.nTx, "transactions of block \(block.height)")
                let inputs = try await Self.inputCount(of: block, rpc: rpc)
                check.equal(Int(event.inputs), inputs, "inputs of block \(block.height)")
                check.that(event.sigops >= Int64(block.nTx), "sigops cost of block \(block.height) covers its \(block.nTx) transactions", detail: "\(event.sigops)")
                check.that(event.durationMicroseconds > 0, "ConnectBlock took a measured time at height \(block.height)", detail: "\(event.durationMicroseconds) µs")
            }
            let last = try requireScenario(events.last, "the block with payments")
            check.that(last.transactions >= 4 && last.inputs >= 4, "the last block carries the 3 payments and their inputs", detail: "\(last.transactions) transactions, \(last.inputs) inputs")
        }
    }

    /// The number of inputs of every transaction of `block` (a coinbase counts one).
    static func inputCount(of block: Block, rpc: RPCClient) async throws -> Int {
        var total = 0
        for txid in block.tx {
            let transaction = try await rpc.call("getrawtransaction", [.string(txid), .bool(true), .string(block.hash)])
            guard case .array(let inputs)? = transaction["vin"] else {
                throw ScenarioError("getrawtransaction \(txid) has no vin")
            }
            total += inputs.count
        }
        return total
    }
}

import Foundation
import TapyrusEncoding
import NodeControl
import TraceHarness

extension ScenarioCatalog {
    static let validation: [any Scenario] = [BlockConnectedScenario(), ChainReorgScenario()]
}

/// `validation:block_connected`: one event per generated block, every field
/// equal to ground truth that does not come from the events.
///
/// - hash, height, transactions and inputs from `getblock` and
///   `getrawtransaction`;
/// - the sigops cost counted from the block's own transactions and the
///   outputs they spend, as `ConnectBlock` counts it (see
///   ``SignatureOperations``); the chain holds P2PKH payments and a 2-of-3
///   P2SH multisig spend, so the legacy and P2SH counts both matter;
/// - the duration from the node's own `-debug=bench` lines, which log the
///   four parts of `ConnectBlock` it totals in milliseconds with two
///   decimals: equal within their rounding, so a change of unit (ns, ms) or
///   a factor of two fails; and at most the wall time of the
///   `generatetoaddress` call that connected the block.
struct BlockConnectedScenario: Scenario {
    let name = "block-connected"
    let tracepoints = [BlockConnected.tracepoint.probe]

    var coverage: [PathCoverage] {
        [
            .exercised(BlockConnected.tracepoint.probe, "a block mined by generatetoaddress (ConnectTip), empty and with payments"),
            .exercised(BlockConnected.tracepoint.probe, "sigops of a P2SH 2-of-3 multisig spend (3, counted from its redeem script)"),
        ]
    }

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        try await withScenarioNode(context, check, name: name, configure: { $0.arguments += NodeLog.arguments }) { node in
            let rpc = node.rpc
            let address = try await rpc.getNewAddress()
            let recording = try await context.record(node)
            var blocks: [(hash: String, wallMicroseconds: Int64)] = []
            func mine() async throws {
                let start = ContinuousClock.now
                let hash = try requireScenario(try await rpc.generateToAddress(1, address: address).first, "a generated block")
                blocks.append((hash, (ContinuousClock.now - start).microseconds))
            }
            for _ in 0..<3 { try await mine() }
            // Three payments and a payment to a 2-of-3 multisig P2SH address, then a block holding them.
            for amount in [1, 2, 3] {
                _ = try await rpc.sendToAddress(try await rpc.getNewAddress(), amount: .tpc(Int64(amount)))
            }
            let multisig = try await MultisigCoin.fund(rpc: rpc, amount: .tpc(4))
            try await mine()
            // A block spending the multisig coin: its redeem script counts 3 sigops (P2SH, accurate).
            _ = try await multisig.spend(rpc: rpc)
            try await mine()

            let events = try await recording.wait(for: blocks.count, BlockConnected.self)
            check.equal(events.map(\.hash.hex), blocks.map(\.hash), "one block_connected per generated block (\(blocks.count)), hashes equal generatetoaddress's, in order")
            let log = try NodeLog.read(node)
            let outputs = ChainOutputs(rpc: rpc)
            for (event, mined) in zip(events, blocks) {
                try await checkBlockConnected(event, hash: mined.hash, rpc: rpc, outputs: outputs, log: log,
                                              wallMicroseconds: mined.wallMicroseconds, check)
            }
            let multisigBlock = try requireScenario(events.last, "the multisig spend's block")
            check.that(multisigBlock.sigops > Int64(multisigBlock.transactions), "the multisig spend's block counts more sigops than transactions (P2SH redeem script)",
                       detail: "\(multisigBlock.sigops) sigops, \(multisigBlock.transactions) transactions")
            check.equal(await recording.count(of: BlockConnected.self), blocks.count, "no block_connected beyond the \(blocks.count) blocks")
        }
    }

    /// The number of inputs of every transaction of `block` (a coinbase counts one).
    static func inputCount(of block: BlockInfo, rpc: RPCClient) async throws -> Int {
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

/// Checks one `validation:block_connected` event against block `hash` as
/// the node's RPC and its `-debug=bench` log state it: height, transactions,
/// inputs (the coinbase's included), the sigops cost as `ConnectBlock`
/// counts it (``SignatureOperations``), and the duration, equal to the
/// logged parts within their rounding and at most `wallMicroseconds`, the
/// wall time of the call that connected the block.
func checkBlockConnected(_ event: BlockConnected, hash: String, rpc: RPCClient, outputs: ChainOutputs, log: NodeLog,
                         wallMicroseconds: Int64, _ check: Check) async throws {
    let block = try await rpc.getBlock(hash: hash)
    let label = "block \(block.height) \(hash.prefix(16))"
    check.equal(event.hash.hex, hash, "hash of \(label)")
    check.equal(Int(event.height), block.height, "height of \(label) equals getblock's")
    check.equal(Int(event.transactions), block.nTx, "transactions of \(label) equal getblock's nTx")
    let inputs = try await BlockConnectedScenario.inputCount(of: block, rpc: rpc)
    check.equal(Int(event.inputs), inputs, "inputs of \(label) equal its transactions' inputs, the coinbase's included (\(inputs))")
    let sigops = try await SignatureOperations.cost(ofBlock: hash, rpc: rpc, outputs: outputs)
    check.equal(event.sigops, Int64(sigops), "sigops cost of \(label) equals the legacy and P2SH counts of its transactions (\(sigops))")

    guard let logged = log.lastConnection(of: hash), logged.partsMicroseconds.count == 4 else {
        check.fail("debug.log (-debug=bench) has no ConnectBlock parts followed by UpdateTip for \(label)")
        return
    }
    let total = logged.totalMicroseconds
    let slack = logged.roundingMicroseconds + 1
    check.within(Double(event.durationMicroseconds), (total - slack)...(total + slack),
                 "ConnectBlock duration of \(label) in µs equals debug.log's sanity, fork, verify and index parts \(logged.partsMicroseconds.map { $0 / 1000 }) ms within their rounding")
    check.within(event.durationMicroseconds, 0...wallMicroseconds,
                 "ConnectBlock duration of \(label) is at most the \(wallMicroseconds) µs the call that connected it took")
}

/// A coin locked by a 2-of-3 multisig P2SH script of three wallet keys, and
/// the transaction that spends it (signed by the wallet, which holds the keys).
struct MultisigCoin: Sendable {
    var txid: String
    var vout: Int
    var amount: Amount
    var redeemScript: String

    /// Pays `amount` to a new 2-of-3 multisig address of the wallet (left in the mempool).
    static func fund(rpc: RPCClient, amount: Amount) async throws -> MultisigCoin {
        var keys: [JSONValue] = []
        for _ in 0..<3 {
            let info = try await rpc.call("getaddressinfo", [.string(try await rpc.getNewAddress())])
            keys.append(.string(try requireScenario(info["pubkey"]?.stringValue, "a wallet public key")))
        }
        let multisig = try await rpc.call("addmultisigaddress", [2, .array(keys)])
        let address = try requireScenario(multisig["address"]?.stringValue, "addmultisigaddress's address")
        let redeemScript = try requireScenario(multisig["redeemScript"]?.stringValue, "addmultisigaddress's redeem script")
        let txid = try await rpc.sendToAddress(address, amount: amount)
        let transaction = try await rpc.call("getrawtransaction", [.string(txid), true])
        let outputs = try requireScenario(transaction["vout"]?.arrayValue, "the outputs of \(txid)")
        let index = try requireScenario(outputs.firstIndex { $0["scriptPubKey"]?["addresses"]?[0]?.stringValue == address },
                                        "the output of \(txid) paying \(address)")
        return MultisigCoin(txid: txid, vout: index, amount: amount, redeemScript: redeemScript)
    }

    /// Keeps the wallet from spending the coin in its own payments (`lockunspent`);
    /// ``spend(rpc:)`` still can.
    func lock(rpc: RPCClient) async throws {
        try await rpc.call("lockunspent", [false, .array([.object(["txid": .string(txid), "vout": .int(Int64(vout))])])])
    }

    /// Spends the coin to a new wallet address (leaving a fee of 0.001 TPC); returns the txid.
    func spend(rpc: RPCClient) async throws -> String {
        let unsigned = try await rpc.createRawTransaction(inputs: [OutPoint(txid: txid, vout: vout)],
                                                          outputs: [try await rpc.getNewAddress(): amount - Amount(units: 100_000)])
        let signed = try await rpc.signRawTransactionWithWallet(unsigned)
        guard signed.complete else { throw ScenarioError("the wallet did not sign the multisig spend of \(txid):\(vout)") }
        return try await rpc.sendRawTransaction(signed.hex)
    }
}

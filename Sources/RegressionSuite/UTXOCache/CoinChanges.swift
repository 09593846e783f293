import Foundation
import NodeControl
import TapyrusEncoding
import TraceHarness

/// One coin as the utxocache tracepoints describe it, comparable with what
/// RPC says of the same coin.
typealias CoinRecord = CoinEventFields

/// A change to the UTXO cache: a coin added or spent.
enum CoinChange: Sendable, Hashable, CustomStringConvertible {
    case add(CoinRecord)
    case spent(CoinRecord)

    var description: String {
        switch self {
        case .add(let coin): "add \(coin)"
        case .spent(let coin): "spent \(coin)"
        }
    }

    /// The change a recorded utxocache add or spent event stands for, else nil.
    init?(_ event: TraceEvent) {
        if let add = try? event.as(UTXOCacheAdd.self) {
            self = .add(add.coin)
        } else if let spent = try? event.as(UTXOCacheSpent.self) {
            self = .spent(spent.coin)
        } else {
            return nil
        }
    }
}

/// What RPC says about coins: the ground truth the coin events are compared with.
enum CoinTruth {
    /// The changes connecting block `hash` makes to the active cache, in the
    /// order `ConnectBlock` makes them: for each transaction in block order,
    /// a spent per input (in input order), then an add per spendable output
    /// (an OP_RETURN output is never added).
    static func changes(connecting hash: String, rpc: RPCClient) async throws -> [CoinChange] {
        let block = try await rpc.call("getblock", [.string(hash), 2])
        let height = try UInt32(requireScenario(block["height"]?.intValue, "height of block \(hash)"))
        let transactions = try requireScenario(block["tx"]?.arrayValue, "transactions of block \(hash)")
        var changes: [CoinChange] = []
        for (position, transaction) in transactions.enumerated() {
            let txid = try requireScenario(transaction["txid"]?.stringValue, "a txid in block \(hash)")
            for input in transaction["vin"]?.arrayValue ?? [] where input["coinbase"] == nil {
                let spentTxid = try requireScenario(input["txid"]?.stringValue, "an input's txid in \(txid)")
                let spentIndex = try requireScenario(input["vout"]?.intValue, "an input's index in \(txid)")
                changes.append(.spent(try await coin(spentTxid, Int(spentIndex), rpc: rpc)))
            }
            let outputs = try requireScenario(transaction["vout"]?.arrayValue, "outputs of \(txid)")
            for (index, output) in outputs.enumerated() where output["scriptPubKey"]?["type"]?.stringValue != "nulldata" {
                changes.append(.add(try record(txid: txid, index: index, output: output, height: height, isCoinbase: position == 0)))
            }
        }
        return changes
    }

    /// How many coins connecting block `hash` spends and adds, counted from
    /// its serialised transactions (cheaper than decoded JSON for blocks of
    /// tens of thousands of outputs): every input but the coinbase's, and
    /// every output but unspendable ones (``Transaction/Output/isUnspendable``).
    static func counts(connecting hash: String, rpc: RPCClient) async throws -> (spents: Int, adds: Int) {
        let block = try await rpc.getBlock(hash: hash)
        var spents = 0
        var adds = 0
        for (position, txid) in block.tx.enumerated() {
            let hex = try requireScenario(try await rpc.call("getrawtransaction", [.string(txid), false, .string(hash)]).stringValue,
                                          "transaction \(txid)")
            let transaction = try Transaction(hex: hex)
            if position > 0 { spents += transaction.inputs.count }
            adds += transaction.outputs.filter { !$0.isUnspendable }.count
        }
        return (spents, adds)
    }

    /// Output `index` of transaction `txid`, as a coin: its block's height and
    /// whether it is a coinbase come from the block that holds it.
    ///
    /// The transaction is found through the wallet (`gettransaction` names
    /// its block), so `txid` must be a wallet transaction; that way no
    /// `-txindex` (which catches up asynchronously) is needed.
    static func coin(_ txid: String, _ index: Int, rpc: RPCClient) async throws -> CoinRecord {
        let walletTransaction = try await rpc.getTransaction(txid)
        let blockHash = try requireScenario(walletTransaction.blockhash, "the block of wallet transaction \(txid)")
        let block = try await rpc.getBlock(hash: blockHash)
        let transaction = try await rpc.call("getrawtransaction", [.string(txid), true, .string(blockHash)])
        let output = try requireScenario(transaction["vout"]?[index], "output \(index) of \(txid)")
        return try record(txid: txid, index: index, output: output, height: UInt32(block.height),
                          isCoinbase: block.tx.first == txid)
    }

    /// A decoded output as a coin. TPC values are printed in decimal coins and
    /// converted to tapyrus units; token values are printed as whole counts.
    static func record(txid: String, index: Int, output: JSONValue, height: UInt32, isCoinbase: Bool) throws -> CoinRecord {
        let colour = try requireScenario(output["token"]?.stringValue, "the token of \(txid):\(index)")
        let number = try requireScenario(output["value"]?.doubleValue, "the value of \(txid):\(index)")
        let value = colour == "TPC" ? Amount(rpcValue: number).units : Int64(number.rounded())
        return CoinRecord(txid: txid, index: UInt32(index), colourID: colour, height: height, value: value, isCoinbase: isCoinbase)
    }
}

extension ScenarioContext {
    /// Mines the transactions waiting in `node`'s mempool into one block,
    /// disconnects it (`invalidateblock`, so that its transactions return to
    /// the mempool), starts recording, and connects it again
    /// (`reconsiderblock`): the recording then holds only the active cache's
    /// changes for that block, without the temporary caches that building
    /// and testing a block template use (upstream's own trick).
    ///
    /// Returns the block's hash and the recording, after the reconnection.
    func reconnectMinedBlock(_ node: TapyrusNode, address: String) async throws -> (hash: String, recording: EventRecording) {
        let rpc = node.rpc
        let hash = try requireScenario(try await rpc.generateToAddress(1, address: address).first, "the mined block")
        try await rpc.invalidateBlock(hash)
        let recording = try await recordFromNow(node)
        try await rpc.reconsiderBlock(hash)
        let tip = try await rpc.getBlockchainInfo().bestblockhash
        guard tip == hash else { throw ScenarioError("reconsiderblock did not make \(hash) the tip again (tip \(tip))") }
        return (hash, recording)
    }

    /// Starts recording `node`'s events from now on: events the kernel still
    /// holds from before (the tracer is shared and drained lazily) are dropped.
    func recordFromNow(_ node: TapyrusNode) async throws -> EventRecording {
        let recording = try await record(node)
        await recording.clear()
        return recording
    }

    /// Waits for the add and spent events of `expected` in `recording` and compares the whole sequence of coin changes
    /// with `expected` (see ``compareCoinChangeSequence(_:arrived:_:label:)``).
    func compareCoinChanges(_ expected: [CoinChange], in recording: EventRecording, _ check: Check, block: String) async throws -> [CoinChange] {
        let adds = expected.filter(\.isAdd).count
        try await recording.wait(for: adds, UTXOCacheAdd.self)
        try await recording.wait(for: expected.count - adds, UTXOCacheSpent.self)
        // reconsiderblock connected the block before it returned: every event is in the ring, and all() drains it.
        let arrived = await recording.all().compactMap(CoinChange.init)
        return compareCoinChangeSequence(expected, arrived: arrived, check, label: "block \(block.prefix(16))")
    }
}

/// Compares a sequence of coin changes with `expected`: exact count, order
/// and every field.
///
/// The colour id of an add whose coin is coloured is compared on its own,
/// as a known issue pinned to today's wrong value "TPC": `CCoinsViewCache::AddCoin`
/// fires utxocache_add with the colour id of `coin.out.scriptPubKey` after
/// `coin` was moved into the cache, so the script it reads is empty and the
/// colour is "TPC". Every caller of `AddCoin` shares it: `AddCoins`
/// (connecting a block, replaying the mempool) and `ApplyTxInUndo`
/// (re-adding a coin when a block is disconnected).
@discardableResult
func compareCoinChangeSequence(_ expected: [CoinChange], arrived: [CoinChange], _ check: Check, label: String) -> [CoinChange] {
    let adds = expected.filter(\.isAdd).count
    let spents = expected.count - adds
    let arrivedAdds = arrived.filter(\.isAdd).count
    check.equal(arrivedAdds, adds, "utxocache_add count for \(label) equals its spendable outputs (\(adds))")
    check.equal(arrived.count - arrivedAdds, spents, "utxocache_spent count for \(label) equals its inputs (\(spents))")
    check.equal(arrived.map(\.withoutAddColour), expected.map(\.withoutAddColour),
                "coin changes for \(label) equal getblock/getrawtransaction's in the order the node makes them, every field but adds' colour ids (\(expected.count) changes)")
    let colours = zip(arrived, expected).compactMap { arrived, expected -> (arrived: String, expected: String, outpoint: String)? in
        guard case .add(let arrivedCoin) = arrived, case .add(let expectedCoin) = expected else { return nil }
        return (arrivedCoin.colourID, expectedCoin.colourID, expectedCoin.outpoint)
    }
    let native = colours.filter { $0.expected == "TPC" }
    check.equal(native.map(\.arrived), native.map(\.expected), "colour id of \(native.count) TPC adds in \(label) is TPC")
    for colour in colours where colour.expected != "TPC" {
        check.knownIssue("utxocache_add passes colour id \"TPC\" for coloured coins: AddCoin reads the colour from the coin after moving it into the cache",
                         "colour id of the coloured add \(colour.outpoint.prefix(16))… in \(label)",
                         arrived: colour.arrived, documented: colour.expected, today: "TPC")
    }
    return arrived
}

extension CoinChange {
    var isAdd: Bool { if case .add = self { true } else { false } }

    /// The coin added, or nil.
    var added: CoinRecord? { if case .add(let coin) = self { coin } else { nil } }

    /// The coin spent, or nil.
    var spentCoin: CoinRecord? { if case .spent(let coin) = self { coin } else { nil } }

    /// The change with an add's colour id blanked (compared on its own).
    var withoutAddColour: CoinChange {
        guard case .add(var coin) = self else { return self }
        coin.colourID = "(colour compared apart)"
        return .add(coin)
    }
}

import Foundation
import NodeControl
import TapyrusEncoding

/// Every coin of a set of blocks, by outpoint, as the coins cache holds it,
/// read from `getblock <hash> 2`: the ground truth for coins that no single
/// wallet knows (the other node's, a branch that lost a reorg).
///
/// From it follow the changes the three code paths that fire
/// `utxocache_add` and `utxocache_spent` on a block's coins make, in their
/// order:
/// - `ConnectBlock` (``changes(connecting:)``): per transaction in block
///   order, a spent per input, then an add per spendable output;
/// - `DisconnectBlock` (``changes(disconnecting:)``): per transaction in
///   reverse block order, a spent per spendable output (in output order),
///   then, but for the coinbase, an add per input in reverse input order,
///   re-adding the coin the block's undo data kept (`ApplyTxInUndo`);
/// - the mempool consistency check (``changes(checkingMempool:)``), which
///   dev mode runs after every block connection and mempool acceptance
///   (`-checkmempool` defaults to 1 where `fDefaultConsistencyChecks`):
///   `CTxMemPool::check` replays every mempool transaction on a view of the
///   tip with `UpdateCoins(tx, view, 1000000)`, so its adds carry height
///   1,000,000.
struct CoinLedger: Sendable {
    /// The height `CTxMemPool::check` gives the coins it adds.
    static let mempoolCheckHeight: UInt32 = 1_000_000

    /// One decoded transaction of a block.
    struct BlockTransaction: Sendable {
        var txid: String
        /// The outpoints its inputs spend (none for a coinbase).
        var inputs: [(txid: String, index: Int)]
        /// Its spendable outputs as coins (an unspendable one never enters the cache).
        var coins: [CoinRecord]
    }

    private var coins: [String: CoinRecord] = [:]
    private var blocks: [String: [BlockTransaction]] = [:]

    /// Reads blocks `hashes` from `rpc` (each once, however often asked).
    mutating func load(blocks hashes: [String], rpc: RPCClient) async throws {
        for hash in hashes where blocks[hash] == nil {
            let block = try await rpc.call("getblock", [.string(hash), 2])
            let height = try UInt32(requireScenario(block["height"]?.intValue, "height of block \(hash)"))
            let transactions = try requireScenario(block["tx"]?.arrayValue, "transactions of block \(hash)")
            var decoded: [BlockTransaction] = []
            for (position, transaction) in transactions.enumerated() {
                let entry = try Self.transaction(transaction, height: height, isCoinbase: position == 0)
                for coin in entry.coins { coins["\(coin.txid):\(coin.index)"] = coin }
                decoded.append(entry)
            }
            blocks[hash] = decoded
        }
    }

    /// Reads every block of `rpc`'s active chain, genesis to tip.
    mutating func loadActiveChain(rpc: RPCClient) async throws {
        var hashes: [String] = []
        for height in 0...(try await rpc.getBlockCount()) { hashes.append(try await rpc.getBlockHash(height: height)) }
        try await load(blocks: hashes, rpc: rpc)
    }

    /// The coin at `txid:index`, as the block that made it holds it.
    func coin(_ txid: String, _ index: Int) throws -> CoinRecord {
        try requireScenario(coins["\(txid):\(index)"], "coin \(txid):\(index) in the blocks read")
    }

    /// The changes `ConnectBlock` makes connecting block `hash`.
    func changes(connecting hash: String) throws -> [CoinChange] {
        try requireScenario(blocks[hash], "block \(hash) read").flatMap { transaction in
            try transaction.inputs.map { .spent(try coin($0.txid, $0.index)) } + transaction.coins.map(CoinChange.add)
        }
    }

    /// The changes `DisconnectBlock` makes disconnecting block `hash`.
    func changes(disconnecting hash: String) throws -> [CoinChange] {
        try requireScenario(blocks[hash], "block \(hash) read").reversed().flatMap { transaction in
            try transaction.coins.map(CoinChange.spent) + transaction.inputs.reversed().map { .add(try coin($0.txid, $0.index)) }
        }
    }

    /// The changes of `CTxMemPool::check` for each of `transactions` (the
    /// mempool's, `getrawtransaction <txid> true`), one group per
    /// transaction: its inputs spent (a coin of a block read, or one an
    /// earlier group added), then its outputs added at height 1,000,000.
    ///
    /// The check walks the mempool in the order of its hashed txid index
    /// (salted per process), holding back a transaction with a parent in the
    /// mempool until that parent was replayed: so the groups' order is not
    /// given, only that a parent's comes first (see ``parents``).
    func changes(checkingMempool transactions: [JSONValue]) throws -> [(txid: String, changes: [CoinChange], parents: Set<String>)] {
        let decoded = try transactions.map { try Self.transaction($0, height: Self.mempoolCheckHeight, isCoinbase: false) }
        let added = Dictionary(decoded.flatMap(\.coins).map { ("\($0.txid):\($0.index)", $0) }, uniquingKeysWith: { first, _ in first })
        return try decoded.map { transaction in
            let spent = try transaction.inputs.map { input in
                try added["\(input.txid):\(input.index)"] ?? coin(input.txid, input.index)
            }
            let parents = Set(transaction.inputs.map(\.txid).filter { txid in decoded.contains { $0.txid == txid } })
            return (transaction.txid, spent.map(CoinChange.spent) + transaction.coins.map(CoinChange.add), parents)
        }
    }

    /// A decoded transaction (`getblock` verbosity 2 or `getrawtransaction` verbose).
    private static func transaction(_ json: JSONValue, height: UInt32, isCoinbase: Bool) throws -> BlockTransaction {
        let txid = try requireScenario(json["txid"]?.stringValue, "a transaction's txid")
        var inputs: [(txid: String, index: Int)] = []
        for input in json["vin"]?.arrayValue ?? [] where input["coinbase"] == nil {
            inputs.append((try requireScenario(input["txid"]?.stringValue, "an input's txid in \(txid)"),
                           Int(try requireScenario(input["vout"]?.intValue, "an input's index in \(txid)"))))
        }
        var coins: [CoinRecord] = []
        for (index, output) in (json["vout"]?.arrayValue ?? []).enumerated() {
            let script = try requireScenario(output["scriptPubKey"]?["hex"]?.stringValue.flatMap(Hex.decode), "the script of \(txid):\(index)")
            guard !Transaction.Output(value: 0, script: script).isUnspendable else { continue }
            coins.append(try CoinTruth.record(txid: txid, index: index, output: output, height: height, isCoinbase: isCoinbase))
        }
        return BlockTransaction(txid: txid, inputs: inputs, coins: coins)
    }
}

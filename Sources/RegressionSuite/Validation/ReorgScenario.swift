import Foundation
import NodeControl
import TapyrusEncoding
import TraceHarness

/// `validation:block_connected`, `utxocache_add` and `utxocache_spent`
/// across a reorganisation and across `invalidateblock`/`reconsiderblock`:
/// every coin the disconnected blocks made is spent, every coin they spent is
/// re-added from the undo data, and the blocks connected afterwards spend and
/// add theirs, in the order the code makes the changes, each field equal to
/// `getblock <hash> 2` of the blocks involved (see ``CoinLedger``).
///
/// Two nodes share a history (coinbases of both wallets, a token, a 2-of-3
/// P2SH multisig coin per wallet, and a payment T in both mempools), then part:
/// - A mines a branch of two blocks: T, three payments, its multisig spend and a
///   token send, then a transaction spending an output of the first block;
/// - B mines a longer branch of three: T and four payments, then its multisig
///   spend and a transaction spending an output of its first block, then one payment.
///
/// While apart, B invalidates its second block and reconsiders it:
/// `DisconnectBlock` of its last two blocks, tip first, then `ConnectBlock`
/// of both, with a `block_connected` each. Then A
/// reconnects and reorganises onto B's branch in one step
/// (`ActivateBestChainStep`): it disconnects its two blocks (tip first),
/// connects B's three (a `block_connected` after each one's coin changes),
/// puts its own branch's transactions but T back into its mempool, and runs
/// the mempool check, which replays them (``CoinLedger/changes(checkingMempool:)``).
/// The coins T spent are re-added when A's first block is disconnected and
/// spent again when B's first block connects.
///
/// Every block's coinbase pays an address no wallet holds, so no wallet
/// spends a branch's coinbase and every transaction of the losing branch
/// returns to the mempool. `block_connected`'s fields are compared as in
/// block-connected (``checkBlockConnected(_:hash:rpc:outputs:log:wallMicroseconds:_:)``);
/// the multisig spends make the sigops of B's last block exceed its transactions.
struct ChainReorgScenario: Scenario {
    let name = "chain-reorg"
    let tracepoints = [BlockConnected.tracepoint.probe, UTXOCacheAdd.tracepoint.probe, UTXOCacheSpent.tracepoint.probe]

    var coverage: [PathCoverage] {
        [
            .exercised(BlockConnected.tracepoint.probe, "blocks of a longer branch from a peer, connected in one reorganisation (ActivateBestChainStep)"),
            .exercised(BlockConnected.tracepoint.probe, "blocks connected again by reconsiderblock after invalidateblock"),
            .exercised(UTXOCacheAdd.tracepoint.probe, "inputs restored by DisconnectBlock (the undo data, ApplyTxInUndo)"),
            .exercised(UTXOCacheAdd.tracepoint.probe, "the dev-mode mempool check replaying the returned transactions (height 1,000,000)"),
            .exercised(UTXOCacheSpent.tracepoint.probe, "outputs of a disconnected block spent by DisconnectBlock, tip first"),
            .exercised(UTXOCacheSpent.tracepoint.probe, "the dev-mode mempool check replaying the returned transactions"),
        ]
    }

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        // B runs without the dev-mode mempool check: whether reconsiderblock's
        // first step finds the last block's transactions back in the mempool
        // (and the check replays them between the two ConnectBlocks) varies
        // from run to run under load; A's reorganisation covers the replay.
        try await withScenarioNodes(context, check, names: ["\(name)-a", "\(name)-b"], configure: { index, options in
            options.arguments += NodeLog.arguments + (index == 1 ? ["-checkmempool=0"] : [])
        }) { nodes in
            let (a, b) = (nodes[0], nodes[1])
            let shared = try await SharedHistory.make(a, b)
            try await Self.part(a, b)

            // B's branch, then its last two blocks disconnected and connected again.
            var branchB: [String] = []
            for _ in 0..<4 { _ = try await b.rpc.sendToAddress(try await b.rpc.getNewAddress(), amount: .tpc(2)) }
            branchB.append(try await Self.mine(b, coinbase: 2))
            _ = try await Self.spendOutput(of: branchB[0], excluding: shared.payment, rpc: b.rpc)
            _ = try await shared.multisigB.spend(rpc: b.rpc)
            branchB.append(try await Self.mine(b, coinbase: 3))
            _ = try await b.rpc.sendToAddress(SyntheticAddress.dev(10), amount: .tpc(1))
            branchB.append(try await Self.mine(b, coinbase: 4))
            try await checkInvalidateReconsider(context, b, blocks: Array(branchB.dropFirst()), check)

            // A's branch.
            var branchA: [String] = []
            for amount in [1, 2, 3] { _ = try await a.rpc.sendToAddress(try await a.rpc.getNewAddress(), amount: .tpc(Int64(amount))) }
            _ = try await shared.multisigA.spend(rpc: a.rpc)
            _ = try await a.rpc.sendTokens(to: try await a.rpc.getNewAddress(color: shared.colour), count: 300)
            branchA.append(try await Self.mine(a, coinbase: 0))
            _ = try await Self.spendOutput(of: branchA[0], excluding: shared.payment, rpc: a.rpc)
            branchA.append(try await Self.mine(a, coinbase: 1))

            try await checkReorg(context, a, b, losing: branchA, winning: branchB, shared: shared, check)
        }
    }

    /// A reconnects to B and reorganises onto B's longer branch.
    private func checkReorg(_ context: ScenarioContext, _ a: TapyrusNode, _ b: TapyrusNode, losing: [String], winning: [String],
                            shared: SharedHistory, _ check: Check) async throws {
        let recording = try await context.recordFromNow(a)
        defer { recording.stop() }
        let (_, wall) = try await timed {
            try await NodeNetwork.connect(a, to: b)
            try await NodeNetwork.waitForSync([a, b])
        }
        // getblockchaininfo waits for cs_main, which ActivateBestChain holds
        // from the first disconnection through the mempool check: every
        // event of the reorganisation is in the ring.
        var ledger = CoinLedger()
        try await ledger.loadActiveChain(rpc: a.rpc)
        try await ledger.load(blocks: losing, rpc: a.rpc)
        let mempool = try await a.rpc.getRawMempool()
        var mempoolTransactions: [JSONValue] = []
        for txid in mempool { mempoolTransactions.append(try await a.rpc.call("getrawtransaction", [.string(txid), true])) }

        // The losing branch's transactions but T (in B's first block too) and the coinbases are back in the mempool.
        var expectedMempool: Set<String> = []
        for hash in losing { expectedMempool.formUnion(try await a.rpc.getBlock(hash: hash).tx.dropFirst()) }
        expectedMempool.remove(shared.payment)
        check.equal(Set(mempool), expectedMempool, "A's mempool holds its losing branch's \(expectedMempool.count) transactions but T, which B's branch holds")
        let winningFirst = try await a.rpc.getBlock(hash: winning[0])
        check.that(winningFirst.tx.contains(shared.payment), "T is in B's first block too")

        var deterministic: [ChainChange] = []
        for hash in losing.reversed() { deterministic += try ledger.changes(disconnecting: hash).map(ChainChange.coin) }
        for hash in winning { deterministic += try ledger.changes(connecting: hash).map(ChainChange.coin) + [.connected(hash)] }
        let groups = try ledger.changes(checkingMempool: mempoolTransactions)
        await compareChainChanges(deterministic: deterministic, mempoolCheck: groups, in: recording, "A's reorganisation", check)

        // T's inputs: re-added when A's first block is disconnected, spent again when B's first block connects.
        let paymentInputs = try ledger.changes(connecting: winning[0]).compactMap(\.spentCoin)
            .filter { coin in shared.paymentInputs.contains(coin.outpoint) }
        check.equal(Set(paymentInputs.map(\.outpoint)), shared.paymentInputs, "B's first block spends T's \(shared.paymentInputs.count) input(s) again")
        check.that(try ledger.changes(disconnecting: losing[0]).compactMap(\.added).filter { shared.paymentInputs.contains($0.outpoint) }.count == shared.paymentInputs.count,
                   "disconnecting A's first block re-adds T's inputs")

        try await checkBlocksConnected(winning, on: a, in: recording, "one block_connected per block of B's branch, in order",
                                       wallMicroseconds: wall.microseconds, check)
    }

    /// B disconnects `blocks`, its chain's last, with `invalidateblock` of the
    /// first (tip first), and connects them again with `reconsiderblock`.
    private func checkInvalidateReconsider(_ context: ScenarioContext, _ b: TapyrusNode, blocks: [String], _ check: Check) async throws {
        let recording = try await context.recordFromNow(b)
        defer { recording.stop() }
        var ledger = CoinLedger()
        try await ledger.loadActiveChain(rpc: b.rpc)
        let disconnecting = try blocks.reversed().flatMap { try ledger.changes(disconnecting: $0) }
        try await b.rpc.invalidateBlock(blocks[0])
        // Both RPCs return after the chain state changed: their events are in the ring.
        let afterInvalidate = await recording.all().compactMap(CoinChange.init)
        check.equal(afterInvalidate.count, disconnecting.count,
                    "invalidateblock fires one utxocache event per change DisconnectBlock makes to the \(blocks.count) blocks (\(disconnecting.count))")
        let (_, wall) = try await timed { try await b.rpc.reconsiderBlock(blocks[0]) }
        check.equal(try await b.rpc.getBlockchainInfo().bestblockhash, blocks.last, "reconsiderblock makes the last block the tip again")
        check.equal(try await b.rpc.getRawMempool(), [], "the blocks' transactions left the mempool again")
        var expected = disconnecting.map(ChainChange.coin)
        for hash in blocks { expected += try ledger.changes(connecting: hash).map(ChainChange.coin) + [.connected(hash)] }
        await compareChainChanges(deterministic: expected, mempoolCheck: [], in: recording, "B's invalidateblock and reconsiderblock", check)

        let events = try await checkBlocksConnected(blocks, on: b, in: recording, "one block_connected per reconsidered block, in order",
                                                    wallMicroseconds: wall.microseconds, check)
        if let multisig = events.first {
            check.that(multisig.sigops > Int64(multisig.transactions), "the block with B's P2SH multisig spend counts more sigops than transactions",
                       detail: "\(multisig.sigops) sigops, \(multisig.transactions) transactions")
        }
    }

    /// Mines one block on `node` paying its coinbase to synthetic address `coinbase`; returns its hash.
    private static func mine(_ node: TapyrusNode, coinbase: UInt32) async throws -> String {
        try requireScenario(try await node.rpc.generateToAddress(1, address: SyntheticAddress.dev(coinbase)).first, "a block of \(node.name)")
    }

    /// Sends an unspent wallet-owned TPC output of a transaction of block
    /// `hash` other than `excluded` on to a new wallet address (a transaction whose parent
    /// is in that block); returns its txid.
    private static func spendOutput(of hash: String, excluding excluded: String, rpc: RPCClient) async throws -> String {
        let block = try await rpc.getBlock(hash: hash)
        let txid = try requireScenario(block.tx.dropFirst().first { $0 != excluded }, "a transaction in block \(hash)")
        let transaction = try await rpc.getRawTransaction(txid, blockHash: hash)
        var mine: TransactionOutput?
        for output in transaction.vout where output.token == nil || output.token == "TPC" {
            guard let address = output.scriptPubKey.addresses?.first else { continue }
            let info = try await rpc.call("getaddressinfo", [.string(address)])
            // Unspent, the mempool's spends included.
            let unspent = try await rpc.call("gettxout", [.string(txid), .int(Int64(output.n)), true]) != .null
            if info["ismine"]?.boolValue == true && unspent { mine = output; break }
        }
        let output = try requireScenario(mine, "a wallet output of \(txid)")
        let unsigned = try await rpc.createRawTransaction(inputs: [OutPoint(txid: txid, vout: output.n)],
                                                          outputs: [try await rpc.getNewAddress(): output.value - Amount(units: 100_000)])
        let signed = try await rpc.signRawTransactionWithWallet(unsigned)
        guard signed.complete else { throw ScenarioError("the wallet did not sign the spend of \(txid):\(output.n)") }
        return try await rpc.sendRawTransaction(signed.hex)
    }

    /// Disconnects the two nodes and waits until neither lists a peer.
    private static func part(_ a: TapyrusNode, _ b: TapyrusNode) async throws {
        try await a.rpc.disconnectNode(address: b.p2pAddress)
        let connected = try await pollUntil(timeout: .seconds(10)) {
            let counts = [try await a.rpc.getConnectionCount(), try await b.rpc.getConnectionCount()]
            return counts == [0, 0] ? nil : "connections \(counts)"
        }
        if let connected { throw ScenarioError("the nodes did not part: \(connected)") }
    }
}

/// What two nodes share before they part.
private struct SharedHistory: Sendable {
    var multisigA: MultisigCoin
    var multisigB: MultisigCoin
    /// The colour of a token A issued.
    var colour: String
    /// T: A's payment to B, in both mempools when they part.
    var payment: String
    /// The outpoints T spends.
    var paymentInputs: Set<String>

    static func make(_ a: TapyrusNode, _ b: TapyrusNode) async throws -> SharedHistory {
        try await NodeNetwork.connect(a, to: b)
        try await a.rpc.generateToAddress(3, address: try await a.rpc.getNewAddress())
        try await NodeNetwork.waitForSync([a, b])
        try await b.rpc.generateToAddress(2, address: try await b.rpc.getNewAddress())
        try await NodeNetwork.waitForSync([a, b])

        let unspent = try requireScenario(try await a.rpc.call("listunspent").arrayValue?.first, "a wallet coin of A")
        let issued = try await a.rpc.issueToken(type: .nonReissuable, value: 1000,
                                                source: try requireScenario(unspent["txid"]?.stringValue, "the coin's txid"),
                                                outputIndex: Int(try requireScenario(unspent["vout"]?.intValue, "the coin's index")))
        let multisigA = try await MultisigCoin.fund(rpc: a.rpc, amount: .tpc(4))
        let multisigB = try await MultisigCoin.fund(rpc: b.rpc, amount: .tpc(5))
        try await multisigA.lock(rpc: a.rpc)
        try await multisigB.lock(rpc: b.rpc)
        // Each node mines its own transactions (transaction relay trickles for seconds; blocks go at once).
        try await a.rpc.generateToAddress(1, address: try await a.rpc.getNewAddress())
        try await NodeNetwork.waitForSync([a, b])
        try await b.rpc.generateToAddress(1, address: try await b.rpc.getNewAddress())
        try await NodeNetwork.waitForSync([a, b])

        // T, handed to B's mempool directly.
        let payment = try await a.rpc.sendToAddress(try await b.rpc.getNewAddress(), amount: .tpc(7))
        try await b.rpc.sendRawTransaction(try await a.rpc.getRawTransactionHex(payment))
        let raw = try await a.rpc.call("getrawtransaction", [.string(payment), true])
        let inputs = try (raw["vin"]?.arrayValue ?? []).map { input in
            "\(try requireScenario(input["txid"]?.stringValue, "an input of T")):\(try requireScenario(input["vout"]?.intValue, "an input index of T"))"
        }
        return SharedHistory(multisigA: multisigA, multisigB: multisigB, colour: issued.color, payment: payment, paymentInputs: Set(inputs))
    }
}

/// A change the chain state makes that a scenario watches: a coin added or
/// spent, or a block connected (`validation:block_connected`).
enum ChainChange: Sendable, Hashable, CustomStringConvertible {
    case coin(CoinChange)
    case connected(String)

    init?(_ event: TraceEvent) {
        if let change = CoinChange(event) {
            self = .coin(change)
        } else if let connected = try? event.as(BlockConnected.self) {
            self = .connected(connected.hash.hex)
        } else {
            return nil
        }
    }

    var description: String {
        switch self {
        case .coin(let change): change.description
        case .connected(let hash): "block_connected \(hash.prefix(16))"
        }
    }
}

/// Compares the coin and block events of `recording` with `deterministic`
/// (the changes whose order the code fixes) followed by the mempool check's
/// groups in the order they arrived, parents first: exact counts, order and
/// every field (adds' colour ids as ``ScenarioContext/compareCoinChanges(_:in:_:block:)`` does),
/// and each `block_connected` right after its block's coin changes.
func compareChainChanges(deterministic: [ChainChange], mempoolCheck groups: [(txid: String, changes: [CoinChange], parents: Set<String>)],
                         in recording: EventRecording, _ what: String, _ check: Check) async {
    let arrived = await recording.all().compactMap(ChainChange.init)
    // The groups in the order their first change arrived after the deterministic part.
    let tail = Array(arrived.dropFirst(deterministic.count))
    let ordered = groups.sorted { lhs, rhs in
        let left = lhs.changes.first.flatMap { tail.firstIndex(of: .coin($0)) } ?? Int.max
        let right = rhs.changes.first.flatMap { tail.firstIndex(of: .coin($0)) } ?? Int.max
        return left < right
    }
    let order = ordered.map(\.txid)
    for group in ordered {
        let position = order.firstIndex(of: group.txid) ?? 0
        check.that(group.parents.allSatisfy { (order.firstIndex(of: $0) ?? Int.max) < position },
                   "\(what): the mempool check replays \(group.txid.prefix(16))… after its mempool parents \(group.parents.map { $0.prefix(16) })")
    }
    let expected = deterministic + ordered.flatMap { $0.changes.map(ChainChange.coin) }
    let coins = expected.compactMap { if case .coin(let change) = $0 { change } else { nil } }
    compareCoinChangeSequence(coins, arrived: arrived.compactMap { if case .coin(let change) = $0 { change } else { nil } }, check, label: what)
    let blockPositions = { (changes: [ChainChange]) -> [String] in
        var seen = 0
        return changes.compactMap { change in
            if case .connected(let hash) = change { return "\(hash.prefix(16)) after \(seen) coin changes" }
            seen += 1
            return nil
        }
    }
    check.equal(blockPositions(arrived), blockPositions(expected), "\(what): each block_connected fires right after its block's coin changes")
    if !groups.isEmpty {
        check.equal(groups.count, Set(groups.map(\.txid)).count, "\(what): the mempool check replays each of the \(groups.count) mempool transactions once")
    }
}

/// Checks that `recording` holds one `validation:block_connected` per block
/// of `hashes`, in order (`what` names the comparison), each as
/// ``checkBlockConnected(_:hash:rpc:outputs:log:wallMicroseconds:_:)`` of
/// `node` checks it; returns the events.
@discardableResult
func checkBlocksConnected(_ hashes: [String], on node: TapyrusNode, in recording: EventRecording, _ what: String,
                          wallMicroseconds: Int64, _ check: Check) async throws -> [BlockConnected] {
    let events = try await recording.events(BlockConnected.self)
    check.equal(events.map(\.hash.hex), hashes, what)
    let log = try NodeLog.read(node)
    let outputs = ChainOutputs(rpc: node.rpc)
    for (event, hash) in zip(events, hashes) {
        try await checkBlockConnected(event, hash: hash, rpc: node.rpc, outputs: outputs, log: log, wallMicroseconds: wallMicroseconds, check)
    }
    return events
}

import Foundation
import NodeControl
import TapyrusEncoding
import TraceHarness

/// `mempool:removed` with reason "expiry", and what expiry brings about.
///
/// tapyrusd expires entries in `LimitMempoolSize`, which runs after every
/// acceptance: `CTxMemPool::Expire(now − -mempoolexpiry)` removes each entry
/// that entered before that time together with its in-mempool descendants,
/// as one staged set (removed in txid order, `setEntries`). With
/// `-mempoolexpiry=1` and `setmocktime` the scenario:
///
/// 1. sends A at mock time t, then B at t + 3,601 s: accepting B expires A;
/// 2. `importaddress … rescan` offers every unconfirmed wallet transaction to
///    the mempool again (`ReacceptWalletTransactions`): A re-enters with entry
///    time t + 3,601, and B, already there, is refused as
///    "txn-already-in-mempool" before its inputs are looked up, so with no
///    `mempool:rejected` at all (a known issue);
/// 3. sends a parent P at t + 3,601 and its child C at t + 7,202: accepting C
///    expires A, B and P, and C with P as its descendant, so the acceptance
///    fails as "mempool full"; `mempool:rejected` fires once, for C's one
///    input coin (P's output), which the coins cache did not hold.
struct MempoolExpiryScenario: Scenario {
    let name = "mempool-removed-expiry"
    let tracepoints = [MempoolRemoved.tracepoint.probe, MempoolAdded.tracepoint.probe, MempoolRejected.tracepoint.probe]
    var coverage: [PathCoverage] {
        [
            .exercised(MempoolRemoved.tracepoint.probe, "reason \"expiry\": an entry older than -mempoolexpiry, at the next acceptance (Expire in LimitMempoolSize)"),
            .exercised(MempoolRemoved.tracepoint.probe, "reason \"expiry\" for a descendant of an expired entry, the staged set in txid order"),
            .exercised(MempoolAdded.tracepoint.probe, "a wallet transaction offered again by ReacceptWalletTransactions (importaddress with rescan)"),
            .exercised(MempoolRejected.tracepoint.probe, "reason \"mempool full\": a transaction accepted, then expired with its parent by its own LimitMempoolSize"),
            .exercised(MempoolRejected.tracepoint.probe, "reason \"txn-already-in-mempool\" (ReacceptWalletTransactions): no event, refused before its inputs are fetched"),
        ]
    }

    /// `-mempoolexpiry=1`: one hour.
    static let expirySeconds: Int64 = 3600

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        try await withScenarioNode(context, check, name: name, configure: {
            $0.arguments += ["-mempoolexpiry=1", CoinSelectionFees.argument]
        }) { node in
            let rpc = node.rpc
            let blocks = try await rpc.generateToAddress(3, address: try await rpc.getNewAddress())
            // The wallet pays A and B from the first two coinbases; the third is kept for P.
            let parentCoin = try await Coin.coinbase(of: blocks[2], rpc: rpc)
            try await rpc.lockUnspent([parentCoin.outpoint])
            let start = Int64(Date().timeIntervalSince1970)
            try await rpc.setMockTime(start)
            let recording = try await context.record(node)

            // 1. B's acceptance expires A.
            let first = try await rpc.sendToAddress(try await rpc.getNewAddress(), amount: .tpc(1))
            let firstEntry = try await rpc.getMempoolEntry(first)
            check.equal(firstEntry.time, start, "A entered the mempool at the mock time")
            let later = start + Self.expirySeconds + 1
            try await rpc.setMockTime(later)
            let second = try await rpc.sendToAddress(try await rpc.getNewAddress(), amount: .tpc(1))
            let secondTransaction = try await TransactionFacts.wallet(second, rpc: rpc)
            check.that(!secondTransaction.inputs.contains { $0.txid == first }, "B spends none of A's outputs (A's expiry takes nothing else along)")
            check.equal(try await rpc.getRawMempool(), [second], "only B is left in the mempool")
            let expired = try await recording.events(MempoolRemoved.self)
            check.equal(expired.map(RemovalRecord.init), [try RemovalRecord(first, "expiry", entry: firstEntry)],
                        "one mempool:removed: A, reason \"expiry\", with its getmempoolentry size, fee and entry time")
            check.equal(try await recording.events(MempoolAdded.self).map(\.txid.hex), [first, second], "mempool:added for A, then B")
            check.equal(await recording.count(of: MempoolRejected.self), 0, "no mempool:rejected while A expires")

            // 2. The wallet offers A and B again.
            await recording.clear()
            try await rpc.importAddress("51", rescan: true)
            check.equal(Set(try await rpc.getRawMempool()), [first, second], "A is back in the mempool beside B")
            let entries = try await mempoolEntries([first, second], rpc: rpc)
            let readded = try requireScenario(entries[first], "A's mempool entry")
            check.equal(readded.time, later, "A re-entered at the mock time of the rescan")
            let added = try await recording.events(MempoolAdded.self)
            check.equal(added.map { "\($0.txid.hex) \($0.size) \($0.fee)" }, ["\(first) \(readded.size) \(try baseFee(of: readded))"],
                        "one mempool:added, for A, with its new entry's size and fee")
            check.equal(await recording.count(of: MempoolRemoved.self), 0, "nothing removed while the wallet offers its transactions")
            check.knownIssue("tapyrusd fires no mempool:rejected for a rejection decided before the inputs are looked up (coins_to_uncache is empty)",
                             "mempool:rejected events for B, refused by ReacceptWalletTransactions as txn-already-in-mempool",
                             arrived: await recording.count(of: MempoolRejected.self), documented: 1, today: 0)

            // 3. The child's acceptance expires every entry and itself.
            await recording.clear()
            let parent = try await RawSpend.paying([parentCoin], fee: 10_000, rpc: rpc)
            try await rpc.sendRawTransaction(parent.hex)
            let parentEntry = try await rpc.getMempoolEntry(parent.txid)
            let childFee: Int64 = 10_000
            let child = try await RawSpend.paying([try Coin.output(0, of: parent)], fee: childFee, rpc: rpc)
            let childTime = later + Self.expirySeconds + 1
            try await rpc.setMockTime(childTime)
            let reason = try await RawSpend.rejection(of: child, rpc: rpc, check: check)
            check.equal(reason, "mempool full", "sendrawtransaction refuses the child as \"mempool full\"")
            check.equal(try await rpc.getRawMempool(), [], "the mempool is empty")
            let childRecord = RemovalRecord(txid: child.txid, reason: "expiry", size: child.size, fee: childFee, entryTime: childTime)
            let records = [try RemovalRecord(first, "expiry", entry: readded),
                           try RemovalRecord(second, "expiry", entry: try requireScenario(entries[second], "B's mempool entry")),
                           try RemovalRecord(parent.txid, "expiry", entry: parentEntry), childRecord]
            let order = stagedRemovalOrder(records.map(\.txid))
            let expected = order.compactMap { txid in records.first { $0.txid == txid } }
            check.equal(try await recording.events(MempoolRemoved.self).map(RemovalRecord.init), expected,
                        "mempool:removed \"expiry\" for A, B, P and P's child C (its serialised size, its fee, the mock time it entered), in txid order")
            let rejected = try await recording.events(MempoolRejected.self)
            check.equal(rejected.map { "\($0.txid.hex) \($0.reason)" }, ["\(child.txid) \(reason)"],
                        "one mempool:rejected: C, \"mempool full\" (one input coin, not in the coins cache)")
            check.equal(await mempoolSequence(recording),
                        ["added \(parent.txid.prefix(12))", "added \(child.txid.prefix(12))"]
                            + expected.map { "removed \($0.txid.prefix(12)) expiry" } + ["rejected \(child.txid.prefix(12)) \"mempool full\""],
                        "P and C are added, then all four expire, then C is rejected")
        }
    }
}

/// `mempool:removed` with reason "sizelimit": with `-maxmempool=1` (which
/// needs `-limitdescendantsize=25`: the limit must be at least 40 times it),
/// wide transactions (2,900 outputs, about 99 kB and 117 kB of mempool
/// memory each) fill the mempool; the one whose acceptance takes the memory
/// use past 1,000,000 bytes makes `TrimToSize` remove the entry with the
/// lowest fee rate (with descendants), which the scenario gave 2 units a byte
/// against the others' 10, and nothing else, since one wide entry's memory
/// brings the use under the limit again.
///
/// Trimming raises the mempool's minimum fee rate to the removed rate plus
/// the incremental relay fee (1,000 units per kB), until the next block; a
/// transaction paying less is then refused as "mempool min fee not met",
/// and `mempool:rejected` fires once for its one input coin, read from disk.
struct MempoolSizeLimitScenario: Scenario {
    let name = "mempool-removed-sizelimit"
    let tracepoints = [MempoolRemoved.tracepoint.probe, MempoolAdded.tracepoint.probe, MempoolRejected.tracepoint.probe]
    var coverage: [PathCoverage] {
        [
            .exercised(MempoolRemoved.tracepoint.probe, "reason \"sizelimit\": the lowest fee rate entry when an acceptance takes the memory use past -maxmempool (TrimToSize)"),
            .exercised(MempoolRejected.tracepoint.probe, "reason \"mempool min fee not met\": below the rolling minimum fee rate a trim raised"),
        ]
    }

    /// Outputs of each wide transaction and their value (above the 546-unit dust threshold).
    static let outputs = 2900
    static let outputValue: Int64 = 600
    static let maxMempoolBytes = 1_000_000
    /// Units per kB that `CTxMemPool::trackPackageRemoved` adds to the removed rate (`-incrementalrelayfee`).
    static let incrementalRelayFeePerKilobyte: Int64 = 1000

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        try await withScenarioNode(context, check, name: name, configure: {
            $0.arguments += ["-maxmempool=1", "-limitdescendantsize=25"]
        }) { node in
            let rpc = node.rpc
            let blocks = try await rpc.generateToAddress(11, address: try await rpc.getNewAddress())
            var coins: [Coin] = []
            for block in blocks { coins.append(try await Coin.coinbase(of: block, rpc: rpc)) }
            let script = try await rpc.scriptPubKey(of: try await rpc.getNewAddress())

            let lowTxid = try await rpc.sendRawTransaction(try await Self.wide(spending: coins[0], unitsPerByte: 2, paying: script, rpc: rpc))
            let lowEntry = try await rpc.getMempoolEntry(lowTxid)
            let recording = try await context.record(node)

            var kept: [String] = []
            var usageBefore = try await rpc.getMempoolInfo().usage
            for coin in coins[1...9] {
                kept.append(try await rpc.sendRawTransaction(try await Self.wide(spending: coin, unitsPerByte: 10, paying: script, rpc: rpc)))
                if !(try await rpc.getRawMempool()).contains(lowTxid) { break }
                usageBefore = try await rpc.getMempoolInfo().usage
            }
            let info = try await rpc.getMempoolInfo()
            guard !(try await rpc.getRawMempool()).contains(lowTxid) else {
                throw ScenarioError("nine wide transactions did not take the mempool past -maxmempool (usage \(info.usage) of \(info.maxmempool))")
            }
            check.equal(info.maxmempool, Self.maxMempoolBytes, "getmempoolinfo maxmempool is -maxmempool=1's 1,000,000 bytes")
            check.that(usageBefore <= Self.maxMempoolBytes && info.usage <= Self.maxMempoolBytes,
                       "the memory use was within the limit before the last acceptance (\(usageBefore)) and is again after the trim (\(info.usage))")
            check.equal(Set(try await rpc.getRawMempool()), Set(kept), "every wide transaction paying 10 units a byte stays")
            check.equal(try await recording.events(MempoolRemoved.self).map(RemovalRecord.init),
                        [try RemovalRecord(lowTxid, "sizelimit", entry: lowEntry)],
                        "one mempool:removed: the 2-unit-a-byte transaction, reason \"sizelimit\", with its getmempoolentry size, fee and entry time")
            check.equal(try await recording.events(MempoolAdded.self).map(\.txid.hex), kept, "mempool:added for each 10-unit-a-byte transaction")
            check.equal(await recording.count(of: MempoolRejected.self), 0, "no mempool:rejected: the last acceptance stays, the trim takes another")

            // The rolling minimum fee rate: the removed entry's rate plus the incremental relay fee.
            let lowFee = try baseFee(of: lowEntry)
            let minimumRate = lowFee * 1000 / Int64(lowEntry.size) + Self.incrementalRelayFeePerKilobyte
            check.equal(info.mempoolminfee.units, minimumRate, "getmempoolinfo mempoolminfee is the removed rate \(lowFee * 1000 / Int64(lowEntry.size)) plus 1,000 units per kB")
            let cheap = try await RawSpend.paying([coins[10]], fee: 300, rpc: rpc)
            check.within(Int64(300) * 1000 / Int64(cheap.size), 1001...(minimumRate - 1), "the cheap transaction's rate is above the minimum relay fee and below the rolling minimum")
            // Signing read its coin into the cache: flush, so that the acceptance fetches it.
            _ = try await rpc.getTxOutSetInfo()
            await recording.clear()
            let reason = try await RawSpend.rejection(of: cheap, rpc: rpc, check: check)
            check.equal(reason, "mempool min fee not met", "sendrawtransaction refuses it as \"mempool min fee not met\"")
            let rejected = try await recording.events(MempoolRejected.self)
            check.equal(rejected.map { "\($0.txid.hex) \($0.reason)" }, ["\(cheap.txid) \(reason)"],
                        "one mempool:rejected: the cheap transaction, \"mempool min fee not met\" (one input coin, fetched from disk)")
            check.equal(await recording.count(of: MempoolAdded.self) + recording.count(of: MempoolRemoved.self), 0, "it is neither added nor removed")
        }
    }

    /// A signed transaction (hex) spending `coin` into ``outputs`` outputs of
    /// ``outputValue`` and one change output, all paying `script`, with a fee
    /// of `unitsPerByte` times its size with a 107-byte signature script (the
    /// largest a compressed-key signature makes).
    static func wide(spending coin: Coin, unitsPerByte: Int64, paying script: [UInt8], rpc: RPCClient) async throws -> String {
        var transaction = Transaction(inputs: [.init(spending: coin.outpoint)],
                                      outputs: Array(repeating: .init(value: outputValue, script: script), count: outputs)
                                          + [.init(value: 0, script: script)])
        let fee = unitsPerByte * Int64(transaction.serialized().count + 107)
        transaction.outputs[outputs].value = coin.value.units - Int64(outputs) * outputValue - fee
        let signed = try await rpc.signRawTransactionWithWallet(transaction.hex)
        guard signed.complete else { throw ScenarioError("signrawtransactionwithwallet left the wide transaction unsigned") }
        return signed.hex
    }
}

/// `mempool:removed` with reason "reorg" on each of the paths a reorg takes,
/// and the `mempool:rejected` of a disconnected transaction that cannot
/// return. Blocks b0, b1 (coinbase c1) and b2 (coinbase c2 and M, which
/// spends c1) are mined; the mempool holds M's child K, S spending c2, and T
/// spending b0's coinbase with lock time b2's height (non-final inputs).
/// `invalidateblock b1` disconnects b2 and b1, and `UpdateMempoolForReorg`
/// walks their transactions from the earliest block on:
///
/// - coinbase c1: nothing in the mempool spends it;
/// - coinbase c2: `removeRecursive` removes S, "reorg";
/// - M: offered to the mempool again, it is refused for missing inputs (c1
///   is gone), so `mempool:rejected` fires once (one uncached input coin) with
///   an empty reason (a known issue); `removeRecursive` then removes K;
/// - `removeForReorg`: T is no longer final at the new next height
///   (b2's height − 1), "reorg".
struct MempoolReorgScenario: Scenario {
    let name = "mempool-removed-reorg"
    let tracepoints = [MempoolRemoved.tracepoint.probe, MempoolRejected.tracepoint.probe, MempoolAdded.tracepoint.probe]
    var coverage: [PathCoverage] {
        [
            .exercised(MempoolRemoved.tracepoint.probe, "reason \"reorg\": a spend of a disconnected coinbase (UpdateMempoolForReorg, removeRecursive)"),
            .exercised(MempoolRemoved.tracepoint.probe, "reason \"reorg\": the child of a disconnected transaction that cannot return (removeRecursive)"),
            .exercised(MempoolRemoved.tracepoint.probe, "reason \"reorg\": a transaction no longer final at the new height (removeForReorg)"),
            .exercised(MempoolRejected.tracepoint.probe, "a disconnected block's transaction refused when offered again (missing inputs, reason \"\")"),
            .unreachable(MempoolRemoved.tracepoint.probe, "reason \"reorg\": a spend of a coinbase no longer mature (removeForReorg)",
                         reason: "Tapyrus has no coinbase maturity: a coinbase is spendable from the next block on, so a reorg never makes a spend of it immature"),
            .unreachable(MempoolRemoved.tracepoint.probe, "reason \"reorg\": a soft fork activating at the next height (removeForScriptFlagChange)",
                         reason: "dev mode registers no soft fork (CSoftForkManager is empty), so ActivationFlagsChange is always 0"),
            .unreachable(MempoolRemoved.tracepoint.probe, "reason \"reorg\": the disconnect pool outgrowing MAX_DISCONNECTED_TX_POOL_SIZE (DisconnectTip)",
                         reason: "needs more than 20 MB of transactions in disconnected blocks: minutes of block building, beyond check's budget"),
            .unreachable(MempoolRemoved.tracepoint.probe, "reason \"unknown\"",
                         reason: "no caller passes MemPoolRemovalReason::UNKNOWN (the default of removeRecursive and RemoveStaged) in master"),
        ]
    }

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        try await withScenarioNode(context, check, name: name) { node in
            let rpc = node.rpc
            let address = try await rpc.getNewAddress()
            let early = try await rpc.generateToAddress(2, address: address)
            let lockedCoin = try await Coin.coinbase(of: early[0], rpc: rpc)
            let minedCoin = try await Coin.coinbase(of: early[1], rpc: rpc)
            let fee: Int64 = 10_000
            let mined = try await RawSpend.paying([minedCoin], fee: fee, rpc: rpc)
            try await rpc.sendRawTransaction(mined.hex)
            let tip = try requireScenario(try await rpc.generateToAddress(1, address: address).first, "block b2")
            let tipBlock = try await rpc.getBlock(hash: tip)
            check.equal(Array(tipBlock.tx.dropFirst()), [mined.txid], "b2 holds M beside its coinbase")
            let child = try await RawSpend.paying([try Coin.output(0, of: mined)], fee: fee, rpc: rpc)
            try await rpc.sendRawTransaction(child.hex)
            let orphaned = try await RawSpend.paying([try await Coin.coinbase(of: tip, rpc: rpc)], fee: fee, rpc: rpc)
            try await rpc.sendRawTransaction(orphaned.hex)
            let height = try await rpc.getBlockCount()
            let locked = try await RawSpend.paying([lockedCoin], fee: fee, lockTime: Int64(height), rpc: rpc)
            try await rpc.sendRawTransaction(locked.hex)
            let entries = try await mempoolEntries([child.txid, orphaned.txid, locked.txid], rpc: rpc)
            let recording = try await context.record(node)

            try await rpc.invalidateBlock(early[1])
            check.equal(try await rpc.getBlockCount(), height - 2, "invalidateblock b1 disconnected b2 and b1")
            check.equal(try await rpc.getRawMempool(), [], "nothing is left in the mempool")
            let expected = [try RemovalRecord(orphaned.txid, "reorg", entry: try requireScenario(entries[orphaned.txid], "S's entry")),
                            try RemovalRecord(child.txid, "reorg", entry: try requireScenario(entries[child.txid], "K's entry")),
                            try RemovalRecord(locked.txid, "reorg", entry: try requireScenario(entries[locked.txid], "T's entry"))]
            check.equal(try await recording.events(MempoolRemoved.self).map(RemovalRecord.init), expected,
                        "mempool:removed \"reorg\" for S (spends c2), K (M's child) and T (no longer final), with their getmempoolentry sizes, fees and entry times")
            let rejected = try await recording.events(MempoolRejected.self)
            check.equal(rejected.map(\.txid.hex), [mined.txid], "one mempool:rejected, for M (one input coin, c1, which is gone)")
            check.equal(await mempoolSequence(recording),
                        ["removed \(orphaned.txid.prefix(12)) reorg", "rejected \(mined.txid.prefix(12)) \"\"",
                         "removed \(child.txid.prefix(12)) reorg", "removed \(locked.txid.prefix(12)) reorg"],
                        "S is removed, M is refused and K removed, then T is removed; nothing is added")
            let missing = try await rpc.testMempoolAccept([mined.hex])
            let named = missing.verdicts[mined.txid]?.rejectReason ?? ""
            check.equal(named, "missing-inputs", "testmempoolaccept names M's refusal \"missing-inputs\"")
            if let event = rejected.first {
                checkMissingInputsReason(event.reason, named: named, check)
            }
        }
    }
}

/// Compares the reason of a `mempool:rejected` for missing inputs, which
/// tapyrusd leaves empty: `DoAllInputsExist` returns without invalidating
/// the validation state, whose reject reason is then "".
func checkMissingInputsReason(_ reason: String, named: String, _ check: Check) {
    check.knownIssue("mempool:rejected passes an empty reject reason for a transaction refused for missing inputs (the validation state is not invalid)",
                     "reject reason of a missing-inputs rejection", isDocumented: reason == named, isToday: reason.isEmpty,
                     documented: "\"\(named)\" (testmempoolaccept's name)", today: "\"\"", arrived: "\"\(reason)\"")
}

/// `mempool:removed` with reason "conflict": a block that spends a mempool
/// transaction's input another way removes it and its descendants.
///
/// One node makes such a block by a reorg: R (BIP 125 opt-in) is mined in
/// block b; `invalidateblock b` returns R to the mempool; R′, paying more
/// from the same coin, replaces it, and K spends R′. `reconsiderblock b`
/// connects b again, whose R conflicts with R′: `removeForBlock` →
/// `removeConflicts` → `removeRecursive(R′, CONFLICT)` removes R′ and K as
/// one staged set, in txid order.
struct MempoolConflictScenario: Scenario {
    let name = "mempool-removed-conflict"
    let tracepoints = [MempoolRemoved.tracepoint.probe, MempoolAdded.tracepoint.probe, MempoolReplaced.tracepoint.probe]
    var coverage: [PathCoverage] {
        [
            .exercised(MempoolRemoved.tracepoint.probe, "reason \"conflict\": a connected block spends a mempool transaction's input (removeConflicts), with its descendant"),
            .exercised(MempoolAdded.tracepoint.probe, "a disconnected block's transaction returning to the mempool (UpdateMempoolForReorg, limits bypassed)"),
        ]
    }

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        try await withScenarioNode(context, check, name: name) { node in
            let rpc = node.rpc
            let address = try await rpc.getNewAddress()
            let coin = try await Coin.coinbase(of: try requireScenario(try await rpc.generateToAddress(1, address: address).first, "block 1"), rpc: rpc)
            let minedFee: Int64 = 10_000
            let mined = try await RawSpend.paying([coin], fee: minedFee, replaceable: true, rpc: rpc)
            try await rpc.sendRawTransaction(mined.hex)
            let block = try requireScenario(try await rpc.generateToAddress(1, address: address).first, "block b")
            check.equal(Array(try await rpc.getBlock(hash: block).tx.dropFirst()), [mined.txid], "block b holds R")
            let recording = try await context.record(node)

            try await rpc.invalidateBlock(block)
            check.equal(try await rpc.getRawMempool(), [mined.txid], "invalidateblock returned R to the mempool")
            let minedEntry = try await rpc.getMempoolEntry(mined.txid)
            let replacement = try await RawSpend.paying([coin], fee: 3 * minedFee, rpc: rpc)
            try await rpc.sendRawTransaction(replacement.hex)
            let child = try await RawSpend.paying([try Coin.output(0, of: replacement)], fee: minedFee, rpc: rpc)
            try await rpc.sendRawTransaction(child.hex)
            check.equal(Set(try await rpc.getRawMempool()), [replacement.txid, child.txid], "R′ replaced R, and K spends R′")
            let returned = try await recording.events(MempoolAdded.self)
            check.equal(returned.map { "\($0.txid.hex) \($0.size) \($0.fee)" },
                        ["\(mined.txid) \(minedEntry.size) \(minedFee)", "\(replacement.txid) \(replacement.size) \(3 * minedFee)", "\(child.txid) \(child.size) \(minedFee)"],
                        "mempool:added for R returning from block b, then R′ and K")
            check.equal(try await recording.events(MempoolRemoved.self).map(RemovalRecord.init),
                        [try RemovalRecord(mined.txid, "replaced", entry: minedEntry)], "R is removed as \"replaced\"")
            check.equal(await recording.count(of: MempoolReplaced.self), 1, "one mempool:replaced")
            let entries = try await mempoolEntries([replacement.txid, child.txid], rpc: rpc)

            await recording.clear()
            try await rpc.reconsiderBlock(block)
            check.equal(try await rpc.getBlockchainInfo().bestblockhash, block, "reconsiderblock connected block b again")
            check.equal(try await rpc.getRawMempool(), [], "the block's conflict emptied the mempool")
            let records = try [replacement.txid, child.txid].map { txid in
                try RemovalRecord(txid, "conflict", entry: try requireScenario(entries[txid], "entry of \(txid)"))
            }
            let expected = stagedRemovalOrder(records.map(\.txid)).compactMap { txid in records.first { $0.txid == txid } }
            check.equal(try await recording.events(MempoolRemoved.self).map(RemovalRecord.init), expected,
                        "mempool:removed \"conflict\" for R′ and its child K, in txid order, with their getmempoolentry sizes, fees and entry times")
            check.equal(await recording.count(of: MempoolAdded.self) + recording.count(of: MempoolReplaced.self), 0,
                        "connecting the block adds and replaces nothing")
        }
    }
}

import Foundation
import NodeControl
import TapyrusEncoding
import TraceHarness

extension ScenarioCatalog {
    static let mempool: [any Scenario] = [
        MempoolAddedRemovedScenario(),
        MempoolReplacedScenario(),
        MempoolRejectedScenario(),
        MempoolExpiryScenario(),
        MempoolSizeLimitScenario(),
        MempoolReorgScenario(),
        MempoolConflictScenario(),
        MempoolRejectReasonsScenario(),
    ]
}

/// `mempool:added` and `mempool:removed`: a wallet send enters the mempool
/// with the txid, size and fee `getmempoolentry` reports, and a block removes
/// it with reason "block" and the entry's size, fee and entry time.
struct MempoolAddedRemovedScenario: Scenario {
    let name = "mempool-added-removed"
    let tracepoints = [MempoolAdded.tracepoint.probe, MempoolRemoved.tracepoint.probe]
    var coverage: [PathCoverage] {
        [
            .exercised(MempoolAdded.tracepoint.probe, "a wallet send (sendtoaddress, CommitTransaction)"),
            .exercised(MempoolRemoved.tracepoint.probe, "reason \"block\": a mined transaction (removeForBlock)"),
        ]
    }

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        try await withScenarioNode(context, check, name: name) { node in
            let rpc = node.rpc
            let address = try await rpc.getNewAddress()
            try await rpc.generateToAddress(1, address: address)
            let recording = try await context.record(node)

            let txid = try await rpc.sendToAddress(try await rpc.getNewAddress(), amount: .tpc(1))
            let entry = try await rpc.getMempoolEntry(txid)
            let fee = try baseFee(of: entry)
            let added = try await recording.wait(for: 1, MempoolAdded.self)
            check.equal(try await recording.events(MempoolAdded.self).count, 1, "one mempool:added for one send")
            if let event = added.first {
                check.equal(event.txid.hex, txid, "added txid is sendtoaddress's")
                check.equal(Int(event.size), entry.size, "added size equals getmempoolentry size")
                check.equal(event.fee, fee, "added fee equals getmempoolentry fees.base (\(fee) units)")
            }

            let block = try await rpc.generateToAddress(1, address: address)
            let removed = try await recording.wait(for: 1, MempoolRemoved.self)
            let confirmed = try await rpc.getTransaction(txid)
            check.equal(confirmed.blockhash, block.first, "the send was mined in the generated block")
            check.equal(try await recording.events(MempoolRemoved.self).count, 1, "one mempool:removed for one mined transaction")
            check.equal(try await recording.events(MempoolAdded.self).count, 1, "mining adds nothing to the mempool")
            if let event = removed.first {
                check.equal(event.txid.hex, txid, "removed txid is the mined send's")
                check.equal(event.reason, "block", "removal reason is MemPoolRemovalReason::BLOCK as RemovalReasonToString names it")
                check.equal(Int(event.size), entry.size, "removed size equals getmempoolentry size")
                check.equal(event.fee, fee, "removed fee equals getmempoolentry fees.base")
                check.equal(event.entryTime, entry.time, "removed entry time equals getmempoolentry time (\(entry.time))")
            }
            check.equal(try await rpc.getRawMempool(), [], "the mempool is empty after the block")
        }
    }
}

/// `mempool:replaced` (and the `mempool:removed` with reason "replaced" it
/// implies): `bumpfee` replaces a BIP 125 opt-in wallet send, and the event
/// carries both transactions' ids, sizes and entry time as RPC reports them.
///
/// tapyrusd passes the replacement's modified fee as the third argument and the
/// sum of the replaced transactions' modified fees as the seventh, the other
/// way round from its doc/tracing.md; the scenario asserts what each really is
/// and records the disagreement with the documentation as a known issue.
struct MempoolReplacedScenario: Scenario {
    let name = "mempool-replaced"
    let tracepoints = [MempoolReplaced.tracepoint.probe, MempoolRemoved.tracepoint.probe, MempoolAdded.tracepoint.probe]
    var coverage: [PathCoverage] {
        [
            .exercised(MempoolReplaced.tracepoint.probe, "a BIP 125 replacement of one transaction without descendants (bumpfee)"),
            .exercised(MempoolRemoved.tracepoint.probe, "reason \"replaced\" (RemoveStaged of the conflicting set)"),
            .exercised(MempoolAdded.tracepoint.probe, "a BIP 125 replacement"),
        ]
    }

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        try await withScenarioNode(context, check, name: name) { node in
            let rpc = node.rpc
            let address = try await rpc.getNewAddress()
            try await rpc.generateToAddress(1, address: address)
            let recording = try await context.record(node)

            let original = try await rpc.sendToAddress(try await rpc.getNewAddress(), amount: .tpc(1), replaceable: true)
            let originalEntry = try await rpc.getMempoolEntry(original)
            let originalFee = try modifiedFee(of: originalEntry)
            try await recording.wait(for: 1, MempoolAdded.self)

            let bumped = try await rpc.call("bumpfee", [.string(original)])
            let replacement = try requireScenario(bumped["txid"]?.stringValue, "bumpfee txid")
            let replacementEntry = try await rpc.getMempoolEntry(replacement)
            let replacementFee = try modifiedFee(of: replacementEntry)
            let replacementSize = try await TransactionFacts.decode(try await rpc.getRawTransactionHex(replacement), rpc: rpc).size
            check.equal(try await rpc.getRawMempool(), [replacement], "only the replacement is left in the mempool")
            check.that(replacementFee > originalFee, "the replacement pays more (\(replacementFee) > \(originalFee) units)")

            let replaced = try await recording.wait(for: 1, MempoolReplaced.self)
            try await recording.wait(for: 2, MempoolAdded.self)
            try await recording.wait(for: 1, MempoolRemoved.self)
            check.equal(try await recording.events(MempoolReplaced.self).count, 1, "one mempool:replaced for one replaced transaction")
            let added = try await recording.events(MempoolAdded.self)
            check.equal(added.map(\.txid.hex), [original, replacement], "mempool:added for the original, then the replacement")
            let removed = try await recording.events(MempoolRemoved.self)
            check.equal(removed.map(\.txid.hex), [original], "one mempool:removed, for the original")
            check.equal(removed.map(\.reason), ["replaced"], "the original is removed with reason \"replaced\"")
            check.equal(removed.map(\.entryTime), [originalEntry.time], "the removed original keeps its entry time")

            guard let event = replaced.first else { return }
            check.equal(event.replacedTxid.hex, original, "replaced txid is the original send's")
            check.equal(Int(event.replacedSize), originalEntry.size, "replaced size equals the original's getmempoolentry size")
            check.equal(event.replacedEntryTime, originalEntry.time, "replaced entry time equals the original's getmempoolentry time")
            check.equal(event.replacementTxid.hex, replacement, "replacement txid is bumpfee's")
            check.equal(Int(event.replacementSize), replacementSize, "replacement size equals the replacement's serialised size (\(replacementSize) bytes)")
            check.equal(event.replacedFee, replacementFee, "argument 3 is the replacement's modified fee (getmempoolentry fees.modified, \(replacementFee) units)")
            check.equal(event.replacementFee, originalFee, "argument 7 is the replaced transactions' total modified fee (the original alone, \(originalFee) units)")
            check.knownIssue("tapyrusd passes the replacement's fee as mempool:replaced argument 3 and the replaced fee as argument 7, swapped against doc/tracing.md",
                             "mempool:replaced fees (argument 3, argument 7)",
                             arrived: [event.replacedFee, event.replacementFee],
                             documented: [originalFee, replacementFee], today: [replacementFee, originalFee])
        }
    }
}

/// `mempool:rejected`: a transaction paying no fee is refused by
/// `sendrawtransaction`, and the event carries its txid and the reason the
/// RPC error states.
///
/// tapyrusd fires the probe inside the loop that uncaches the rejected
/// transaction's input coins that were not cached before, so a rejected
/// transaction yields one event per such coin: two for two uncached inputs,
/// none when its inputs were already cached. The scenario covers the one
/// input case as the documented behaviour and the other two as known issues.
struct MempoolRejectedScenario: Scenario {
    let name = "mempool-rejected"
    let tracepoints = [MempoolRejected.tracepoint.probe]
    var coverage: [PathCoverage] {
        let probe = MempoolRejected.tracepoint.probe
        return [
            .exercised(probe, "reason \"min relay fee not met\" (sendrawtransaction): one event per uncached input coin (one, two)"),
            .exercised(probe, "reason \"min relay fee not met\" with every input coin cached: no event"),
        ]
    }

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        try await withScenarioNode(context, check, name: name) { node in
            let rpc = node.rpc
            let address = try await rpc.getNewAddress()
            // Two coinbases to spend from coins the cache does not hold.
            let early = try await rpc.generateToAddress(2, address: address)
            let firstCoin = try await Coin.coinbase(of: early[0], rpc: rpc)
            let secondCoin = try await Coin.coinbase(of: early[1], rpc: rpc)
            // Signing reads the spent coins into the cache: sign first, then flush.
            let oneInput = try await RawSpend.paying([firstCoin], fee: 0, rpc: rpc)
            let twoInputs = try await RawSpend.paying([firstCoin, secondCoin], fee: 0, rpc: rpc)
            _ = try await rpc.getTxOutSetInfo()
            // A coinbase made after the flush stays in the cache.
            let late = try await rpc.generateToAddress(1, address: address)
            let cachedCoin = try await Coin.coinbase(of: late[0], rpc: rpc)
            let cachedInput = try await RawSpend.paying([cachedCoin], fee: 0, rpc: rpc)

            let recording = try await context.record(node)

            // One input not in the cache: the documented one event.
            let reason = try await RawSpend.rejection(of: oneInput, rpc: rpc, check: check)
            let events = try await recording.wait(for: 1, MempoolRejected.self)
            let all = try await recording.events(MempoolRejected.self)
            check.equal(all.count, 1, "one mempool:rejected for one rejected transaction")
            if let event = events.first {
                check.equal(event.txid.hex, oneInput.txid, "rejected txid is the refused transaction's")
                check.equal(event.reason, reason, "reject reason is sendrawtransaction's (\(reason))")
            }

            // Two inputs not in the cache.
            await recording.clear()
            let twoReason = try await RawSpend.rejection(of: twoInputs, rpc: rpc, check: check)
            try await recording.wait(for: 1, MempoolRejected.self)
            let twoEvents = try await recording.events(MempoolRejected.self)
            check.equal(twoEvents.map(\.txid.hex), Array(repeating: twoInputs.txid, count: twoEvents.count), "every event of the two-input rejection names its txid")
            check.equal(twoEvents.map(\.reason), Array(repeating: twoReason, count: twoEvents.count), "every event of the two-input rejection carries sendrawtransaction's reason")
            check.knownIssue("tapyrusd fires mempool:rejected once per uncached input coin, not once per rejected transaction",
                             "mempool:rejected events for one rejected transaction with two uncached inputs",
                             arrived: twoEvents.count, documented: 1, today: 2)

            // The input already in the cache.
            await recording.clear()
            _ = try await RawSpend.rejection(of: cachedInput, rpc: rpc, check: check)
            let cachedEvents = try await recording.events(MempoolRejected.self)
            check.knownIssue("tapyrusd fires no mempool:rejected when every input of the rejected transaction was already cached",
                             "mempool:rejected events for one rejected transaction whose input was cached",
                             arrived: cachedEvents.count, documented: 1, today: 0)
        }
    }
}

import Foundation
import NodeControl
import TapyrusEncoding
import TraceHarness

/// `mempool:rejected` for reject reasons on both sides of the input lookup,
/// each with the number of events tapyrusd fires today.
///
/// `AcceptToMemoryPool` fires the probe once per entry of
/// `coins_to_uncache`, which only `DoAllInputsExist` fills, with each input
/// coin up to the first missing one that the coins cache did not hold. So a
/// rejection decided before the inputs are looked up (non-standard, already
/// conflicting with a non-replaceable mempool transaction) fires nothing,
/// and one decided later fires once per uncached input coin. The scenario
/// signs every transaction first and then flushes the cache
/// (`gettxoutsetinfo`), so that each input coin is read from disk again:
///
/// | transaction | refused by | reason | events |
/// |---|---|---|---|
/// | an output of 100 units | `IsStandardTx` | `dust` | 0 (known issue) |
/// | spends a non-replaceable mempool transaction's coin | `CheckConflictsInMempool` | `txn-mempool-conflict` | 0 (known issue) |
/// | spends a coin that never existed | `DoAllInputsExist` | "" (known issue) | 1 |
/// | spends a coin, then one that never existed | `DoAllInputsExist` | "" (known issue) | 2 (known issue) |
/// | pays a 0.2 TPC fee (`-maxtxfee` 0.1) | `nAbsurdFee` | `absurdly-high-fee` | 1 |
/// | pays no fee, by `testmempoolaccept` | `minRelayTxFee` | `min relay fee not met` | 1 (a dry run fires it too) |
/// | is already confirmed, by `testmempoolaccept` | `DoAllInputsExist` | `txn-already-known` | 1 |
///
/// A transaction `testmempoolaccept` allows fires nothing and is not added.
struct MempoolRejectReasonsScenario: Scenario {
    let name = "mempool-rejected-reasons"
    let tracepoints = [MempoolRejected.tracepoint.probe, MempoolAdded.tracepoint.probe]
    var coverage: [PathCoverage] {
        let probe = MempoolRejected.tracepoint.probe
        return [
            .exercised(probe, "reason \"dust\" (IsStandardTx, before the inputs): no event"),
            .exercised(probe, "reason \"txn-mempool-conflict\" (before the inputs): no event"),
            .exercised(probe, "missing inputs (reason \"\"): one event per uncached coin up to the missing one"),
            .exercised(probe, "reason \"absurdly-high-fee\" (sendrawtransaction's -maxtxfee)"),
            .exercised(probe, "testmempoolaccept (TEST_ONLY): reason \"min relay fee not met\"; an allowed dry run fires nothing"),
            .exercised(probe, "reason \"txn-already-known\" (a confirmed transaction, testmempoolaccept)"),
            .unreachable(probe, "non-standard transactions accepted with -acceptnonstdtxn",
                         reason: "the option exists only in DEBUG builds (#ifdef DEBUG in AcceptToMemoryPoolWorker); release tapyrusd always applies IsStandardTx"),
        ]
    }

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        try await withScenarioNode(context, check, name: name) { node in
            let rpc = node.rpc
            let address = try await rpc.getNewAddress()
            let blocks = try await rpc.generateToAddress(6, address: address)
            var coins: [Coin] = []
            for block in blocks { coins.append(try await Coin.coinbase(of: block, rpc: rpc)) }
            let fee: Int64 = 10_000

            let dust = try await RawSpend.signed(try await rpc.createRawTransaction(
                inputs: [coins[0].outpoint], outputs: [address: Amount(units: 100)]), rpc: rpc)
            let original = try await RawSpend.paying([coins[1]], fee: fee, rpc: rpc)
            let conflicting = try await RawSpend.paying([coins[1]], fee: 2 * fee, rpc: rpc)
            let never = Coin(outpoint: OutPoint(txid: String(repeating: "ab", count: 32), vout: 0), value: .tpc(1))
            // Unsigned: DoAllInputsExist refuses them before any script runs.
            let missingOne = try await TransactionFacts.decode(try await rpc.createRawTransaction(
                inputs: [never.outpoint], outputs: [address: .tpc(1)]), rpc: rpc)
            let missingSecond = try await TransactionFacts.decode(try await rpc.createRawTransaction(
                inputs: [coins[2].outpoint, never.outpoint], outputs: [address: .tpc(1)]), rpc: rpc)
            let absurd = try await RawSpend.paying([coins[3]], fee: 20_000_000, rpc: rpc)
            let free = try await RawSpend.paying([coins[4]], fee: 0, rpc: rpc)
            let acceptable = try await RawSpend.paying([coins[5]], fee: fee, rpc: rpc)
            try await rpc.sendRawTransaction(original.hex)
            _ = try await rpc.getTxOutSetInfo()
            let recording = try await context.record(node)

            func rejected() async throws -> [String] {
                try await recording.events(MempoolRejected.self).map { "\($0.txid.hex) \($0.reason)" }
            }

            // Before the inputs are looked up: nothing fires.
            let dustReason = try await RawSpend.rejection(of: dust, rpc: rpc, check: check)
            check.equal(dustReason, "dust", "sendrawtransaction refuses the 100-unit output as \"dust\"")
            check.knownIssue("tapyrusd fires no mempool:rejected for a rejection decided before the inputs are looked up (coins_to_uncache is empty)",
                             "mempool:rejected events for the dust transaction", arrived: try await rejected().count, documented: 1, today: 0)
            let conflictReason = try await RawSpend.rejection(of: conflicting, rpc: rpc, check: check)
            check.equal(conflictReason, "txn-mempool-conflict", "sendrawtransaction refuses the second spend of a non-replaceable transaction's coin as \"txn-mempool-conflict\"")
            check.knownIssue("tapyrusd fires no mempool:rejected for a rejection decided before the inputs are looked up (coins_to_uncache is empty)",
                             "mempool:rejected events for the conflicting transaction", arrived: try await rejected().count, documented: 1, today: 0)

            // Missing inputs: one event per input coin up to the missing one.
            let named = try await rpc.testMempoolAccept([missingOne.hex]).verdicts[missingOne.txid]?.rejectReason ?? ""
            check.equal(named, "missing-inputs", "testmempoolaccept names the refusal \"missing-inputs\"")
            await recording.clear()
            let missingMessage = try await RawSpend.rejection(of: missingOne, code: RPCErrorCode.verifyError, rpc: rpc, check: check)
            check.equal(missingMessage, "Missing inputs", "sendrawtransaction says \"Missing inputs\"")
            let missingEvents = try await recording.events(MempoolRejected.self)
            check.equal(missingEvents.map(\.txid.hex), [missingOne.txid], "one mempool:rejected for one missing input")
            if let event = missingEvents.first { checkMissingInputsReason(event.reason, named: named, check) }
            await recording.clear()
            _ = try await RawSpend.rejection(of: missingSecond, code: RPCErrorCode.verifyError, rpc: rpc, check: check)
            let secondEvents = try await recording.events(MempoolRejected.self)
            check.equal(Set(secondEvents.map(\.txid.hex)), Set([missingSecond.txid]), "every event of the second rejection names its txid")
            check.knownIssue("tapyrusd fires mempool:rejected once per uncached input coin, not once per rejected transaction",
                             "mempool:rejected events for a transaction spending an uncached coin and then a missing one",
                             arrived: secondEvents.count, documented: 1, today: 2)

            // After the inputs: once for the one uncached input coin.
            await recording.clear()
            let absurdReason = try await RawSpend.rejection(of: absurd, rpc: rpc, check: check)
            check.equal(absurdReason, "absurdly-high-fee", "sendrawtransaction refuses a 0.2 TPC fee as \"absurdly-high-fee\"")
            check.equal(try await rejected(), ["\(absurd.txid) absurdly-high-fee"], "one mempool:rejected: the absurd fee transaction, \"absurdly-high-fee\"")

            // testmempoolaccept validates with TEST_ONLY and fires the probe too.
            await recording.clear()
            let dryRun = try await rpc.testMempoolAccept([free.hex])
            let freeReason = try requireScenario(dryRun.verdicts[free.txid]?.rejectReason, "testmempoolaccept's reject reason")
            check.equal(freeReason, "66: min relay fee not met", "testmempoolaccept refuses the fee-less transaction (code 66, REJECT_INSUFFICIENTFEE)")
            check.equal(try await rejected(), ["\(free.txid) min relay fee not met"], "one mempool:rejected for the dry run: \"min relay fee not met\"")
            await recording.clear()
            let allowed = try await rpc.testMempoolAccept([acceptable.hex])
            check.equal(allowed.verdicts[acceptable.txid]?.allowed, true, "testmempoolaccept allows the transaction paying a fee")
            check.equal(await recording.count(of: MempoolRejected.self) + recording.count(of: MempoolAdded.self), 0,
                        "an allowed dry run fires neither mempool:rejected nor mempool:added")
            check.equal(try await rpc.getRawMempool(), [original.txid], "the dry runs added nothing to the mempool")

            // A confirmed transaction: its input is spent, its outputs are in the cache.
            try await rpc.generateToAddress(1, address: address)
            await recording.clear()
            let known = try await rpc.testMempoolAccept([original.hex])
            check.equal(known.verdicts[original.txid]?.rejectReason, "18: txn-already-known", "testmempoolaccept refuses the confirmed transaction (code 18, REJECT_DUPLICATE)")
            check.equal(try await rejected(), ["\(original.txid) txn-already-known"],
                        "one mempool:rejected for the confirmed transaction: \"txn-already-known\" (its spent input coin is not in the cache)")
        }
    }
}

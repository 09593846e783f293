import Foundation
import NodeControl
import TapyrusEncoding
import TraceHarness

/// A wallet coin a scenario spends by hand: its outpoint and value.
struct Coin: Sendable, Hashable {
    var outpoint: OutPoint
    var value: Amount

    /// Output 0 of the coinbase of `block` (the node's coinbases pay the
    /// wallet's address their whole value there).
    static func coinbase(of block: String, rpc: RPCClient) async throws -> Coin {
        let coinbase = try requireScenario(try await rpc.getBlock(hash: block).tx.first, "coinbase of \(block)")
        let transaction = try await rpc.getRawTransaction(coinbase, blockHash: block)
        let output = try requireScenario(transaction.vout.first, "output 0 of coinbase \(coinbase)")
        return Coin(outpoint: OutPoint(txid: coinbase, vout: 0), value: output.value)
    }

    /// Output `vout` of `transaction`.
    static func output(_ vout: Int, of transaction: TransactionFacts) throws -> Coin {
        guard transaction.outputs.indices.contains(vout) else { throw ScenarioError("\(transaction.txid) has no output \(vout)") }
        return Coin(outpoint: OutPoint(txid: transaction.txid, vout: vout), value: Amount(units: transaction.outputs[vout].units))
    }
}

/// Signed transactions the mempool scenarios build from chosen coins, so that
/// which coins they spend, their fee and their lock time are known exactly.
enum RawSpend {
    /// A signed transaction paying the value of `coins` less `fee` to one new
    /// wallet address. With a non-zero `lockTime` its inputs are not final
    /// (sequence 0xfffffffe, as `createrawtransaction` sets them), so the
    /// lock time applies; `replaceable` signals BIP 125.
    static func paying(
        _ coins: [Coin], fee: Int64, lockTime: Int64 = 0, replaceable: Bool = false, rpc: RPCClient
    ) async throws -> TransactionFacts {
        let total = coins.reduce(Amount(units: 0)) { $0 + $1.value }
        let unsigned = try await rpc.createRawTransaction(
            inputs: coins.map(\.outpoint), outputs: [try await rpc.getNewAddress(): total - Amount(units: fee)],
            lockTime: lockTime, replaceable: replaceable)
        return try await signed(unsigned, rpc: rpc)
    }

    /// `unsigned` signed by the wallet and decoded.
    static func signed(_ unsigned: String, rpc: RPCClient) async throws -> TransactionFacts {
        let signed = try await rpc.signRawTransactionWithWallet(unsigned)
        guard signed.complete else { throw ScenarioError("signrawtransactionwithwallet left inputs unsigned") }
        return try await TransactionFacts.decode(signed.hex, rpc: rpc)
    }

    /// Sends `transaction`, expects the node to refuse it with RPC error
    /// `code`, and returns the reject reason from the error message
    /// (`<reason>[, <debug>] (code <n>)`, or the bare message such as
    /// "Missing inputs").
    static func rejection(
        of transaction: TransactionFacts, code: Int = RPCErrorCode.verifyRejected, rpc: RPCClient, check: Check
    ) async throws -> String {
        do {
            let txid = try await rpc.sendRawTransaction(transaction.hex)
            throw ScenarioError("sendrawtransaction accepted \(txid), which the scenario built to be refused")
        } catch let error as RPCError {
            guard case let .server(_, arrivedCode, message) = error else { throw error }
            check.equal(arrivedCode, code, "sendrawtransaction refuses \(transaction.txid.prefix(16)) with code \(code) (\(message))")
            var reason = message
            if let codeSuffix = reason.range(of: " (code ", options: .backwards) { reason = String(reason[..<codeSuffix.lowerBound]) }
            if let debug = reason.range(of: ", ") { reason = String(reason[..<debug.lowerBound]) }
            return reason
        }
    }
}

/// One `mempool:removed` event's fields, comparable as a whole.
struct RemovalRecord: Sendable, Equatable, CustomStringConvertible {
    var txid: String
    var reason: String
    var size: Int
    var fee: Int64
    var entryTime: Int64

    init(txid: String, reason: String, size: Int, fee: Int64, entryTime: Int64) {
        (self.txid, self.reason, self.size, self.fee, self.entryTime) = (txid, reason, size, fee, entryTime)
    }

    init(_ event: MempoolRemoved) {
        self.init(txid: event.txid.hex, reason: event.reason, size: Int(event.size), fee: event.fee, entryTime: event.entryTime)
    }

    /// The removal of `txid` for `reason` as its `getmempoolentry` (taken
    /// while it was in the mempool) predicts it.
    init(_ txid: String, _ reason: String, entry: MempoolEntry) throws {
        self.init(txid: txid, reason: reason, size: entry.size, fee: try baseFee(of: entry), entryTime: entry.time)
    }

    var description: String { "\(txid.prefix(12)) \(reason) \(size) B fee \(fee) entered \(entryTime)" }
}

/// `txids` in the order tapyrusd removes a staged set of mempool entries:
/// `setEntries` orders them by txid as `uint256::operator<` compares,
/// byte by byte in memory order (the display form reversed).
func stagedRemovalOrder(_ txids: [String]) -> [String] {
    txids.sorted { lhs, rhs in
        let left = OutPoint(txid: lhs, vout: 0).wireHash
        let right = OutPoint(txid: rhs, vout: 0).wireHash
        return left.lexicographicallyPrecedes(right)
    }
}

/// The `getmempoolentry` of each of `txids`, taken now.
func mempoolEntries(_ txids: [String], rpc: RPCClient) async throws -> [String: MempoolEntry] {
    var entries: [String: MempoolEntry] = [:]
    for txid in txids { entries[txid] = try await rpc.getMempoolEntry(txid) }
    return entries
}

/// The probes, in firing order, of the mempool events `recording` holds:
/// the interleaving of removals, additions and rejections one RPC caused.
func mempoolSequence(_ recording: EventRecording) async -> [String] {
    let mempool: Set<ProbeName> = [MempoolAdded.tracepoint.probe, MempoolRemoved.tracepoint.probe,
                                   MempoolReplaced.tracepoint.probe, MempoolRejected.tracepoint.probe]
    var sequence: [String] = []
    for event in await recording.all() where mempool.contains(event.probe) {
        if let removed = try? event.as(MempoolRemoved.self) {
            sequence.append("removed \(removed.txid.hex.prefix(12)) \(removed.reason)")
        } else if let added = try? event.as(MempoolAdded.self) {
            sequence.append("added \(added.txid.hex.prefix(12))")
        } else if let rejected = try? event.as(MempoolRejected.self) {
            sequence.append("rejected \(rejected.txid.hex.prefix(12)) \"\(rejected.reason)\"")
        } else if let replaced = try? event.as(MempoolReplaced.self) {
            sequence.append("replaced \(replaced.replacedTxid.hex.prefix(12))")
        }
    }
    return sequence
}

import Foundation
import NodeControl
import TapyrusEncoding
import TraceHarness

/// Fills a node's coins cache quickly: each transaction spends one 50 TPC
/// wallet coinbase into thousands of tiny `OP_TRUE` outputs (10 bytes each
/// on the wire, about 133 bytes each in the cache and about 40 in the
/// mempool). `OP_TRUE` outputs are non-standard, so the node must run with
/// `-acceptnonstdtxn=1` (allowed in dev mode); the values stay above dust.
struct CacheFiller: Sendable {
    /// Outputs per transaction: about 90 kB, under the standard size limit.
    static let outputsPerTransaction = 9000
    /// Value of each tiny output, above the dust threshold of an `OP_TRUE` output.
    static let outputValue: Int64 = 1000
    static let fee: Int64 = 400_000

    let rpc: RPCClient
    /// The script of the change output (a wallet address).
    let changeScript: [UInt8]
    /// Unspent 50 TPC coinbases of the wallet, consumed one per transaction.
    private let coins: [OutPoint]
    private let next = Counter()

    /// A filler spending the wallet's 50 TPC coins, change to `changeAddress`.
    static func make(rpc: RPCClient, changeAddress: String) async throws -> CacheFiller {
        let info = try await rpc.call("getaddressinfo", [.string(changeAddress)])
        let script = try requireScenario(info["scriptPubKey"]?.stringValue.flatMap(Hex.decode), "the change address's script")
        let unspent = try requireScenario(try await rpc.call("listunspent").arrayValue, "listunspent")
        let coins = unspent.compactMap { coin -> OutPoint? in
            guard let txid = coin["txid"]?.stringValue, let vout = coin["vout"]?.intValue,
                  let amount = coin["amount"]?.doubleValue, Amount(rpcValue: amount) == .tpc(50) else { return nil }
            return OutPoint(txid: txid, vout: Int(vout))
        }
        return CacheFiller(rpc: rpc, changeScript: script, coins: coins)
    }

    /// Signs and sends one transaction with `outputs` tiny outputs (at most
    /// ``outputsPerTransaction``) and a change output; returns its txid.
    @discardableResult
    func send(outputs: Int = outputsPerTransaction) async throws -> String {
        let position = next.take()
        guard position < coins.count else { throw ScenarioError("the cache filler ran out of 50 TPC coins (\(coins.count))") }
        let hex = Self.unsignedTransaction(spending: coins[position], value: Amount.tpc(50).units, outputs: outputs, changeScript: changeScript)
        let signed = try await rpc.signRawTransactionWithWallet(hex)
        guard signed.complete else { throw ScenarioError("the wallet did not sign the cache filler's transaction") }
        return try await rpc.sendRawTransaction(signed.hex, allowHighFees: true)
    }

    /// The serialised transaction: features 1, one input with an empty
    /// script, the tiny outputs, the change, lock time 0.
    static func unsignedTransaction(spending coin: OutPoint, value: Int64, outputs: Int, changeScript: [UInt8]) -> String {
        let tiny = Array(repeating: Transaction.Output(value: outputValue, script: [0x51]), count: outputs)
        let change = Transaction.Output(value: value - Int64(outputs) * outputValue - fee, script: changeScript)
        return Transaction(inputs: [.init(spending: coin)], outputs: tiny + [change]).hex
    }

    /// A thread-safe counter of the coins used.
    /// `@unchecked Sendable`: `value` is read and written with `lock` held.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func take() -> Int {
            lock.withLock {
                defer { value += 1 }
                return value
            }
        }
    }
}

import Foundation
import NodeControl
import TapyrusEncoding
import TraceHarness

/// A transaction as the node decodes it, reduced to what mempool and coin
/// selection scenarios compare: its inputs, its outputs with their colour and
/// value in the smallest unit, and its serialised size.
struct TransactionFacts: Sendable {
    /// One output: colour id ("TPC" for the native coin) and value in tapyrus
    /// units or token units.
    struct Output: Sendable, Hashable {
        var token: String
        var units: Int64
        var addresses: [String]
    }

    var txid: String
    var hex: String
    /// The spent outpoints (none for a coinbase).
    var inputs: [OutPoint]
    var outputs: [Output]

    /// The serialised size in bytes.
    var size: Int { hex.utf8.count / 2 }

    /// Decodes `hex` with `decoderawtransaction`.
    static func decode(_ hex: String, rpc: RPCClient) async throws -> TransactionFacts {
        let decoded = try await rpc.call("decoderawtransaction", [.string(hex)])
        guard let txid = decoded["txid"]?.stringValue,
              let vin = decoded["vin"]?.arrayValue,
              let vout = decoded["vout"]?.arrayValue
        else { throw ScenarioError("decoderawtransaction gave no txid, vin or vout: \(decoded)") }
        var inputs: [OutPoint] = []
        for input in vin where input["coinbase"] == nil {
            guard let prevTxid = input["txid"]?.stringValue, let index = input["vout"]?.intValue else {
                throw ScenarioError("input without txid/vout in \(txid): \(input)")
            }
            inputs.append(OutPoint(txid: prevTxid, vout: Int(index)))
        }
        var outputs: [Output] = []
        for output in vout {
            let token = output["token"]?.stringValue ?? "TPC"
            guard let value = output["value"] else { throw ScenarioError("output without value in \(txid): \(output)") }
            let units: Int64
            if token == "TPC" {
                guard let coins = value.doubleValue else { throw ScenarioError("TPC value not a number: \(value)") }
                units = Amount(rpcValue: coins).units
            } else {
                guard let count = value.intValue else { throw ScenarioError("token value not an integer: \(value)") }
                units = count
            }
            let addresses = output["scriptPubKey"]?["addresses"]?.arrayValue?.compactMap(\.stringValue) ?? []
            outputs.append(Output(token: token, units: units, addresses: addresses))
        }
        return TransactionFacts(txid: txid, hex: hex, inputs: inputs, outputs: outputs)
    }

    /// A wallet transaction (`gettransaction`), decoded.
    static func wallet(_ txid: String, rpc: RPCClient) async throws -> TransactionFacts {
        try await decode(try await rpc.getTransaction(txid).hex, rpc: rpc)
    }

    /// The outputs this transaction spends, each looked up in the wallet's
    /// copy of the transaction that made it.
    func spentOutputs(rpc: RPCClient) async throws -> [Output] {
        var spent: [Output] = []
        for input in inputs {
            let previous = try await TransactionFacts.wallet(input.txid, rpc: rpc)
            guard previous.outputs.indices.contains(input.vout) else {
                throw ScenarioError("\(input.txid) has no output \(input.vout)")
            }
            spent.append(previous.outputs[input.vout])
        }
        return spent
    }
}

extension Array where Element == TransactionFacts.Output {
    /// The total value of the outputs of colour `token`.
    func total(of token: String) -> Int64 {
        filter { $0.token == token }.reduce(0) { $0 + $1.units }
    }
}

/// The fee of a mempool entry in tapyrus units, from `fees.base` where the
/// node reports it, else from the older `fee` field.
func baseFee(of entry: MempoolEntry) throws -> Int64 {
    if let fees = entry.fees { return fees.base.units }
    guard let fee = entry.fee else { throw ScenarioError("getmempoolentry reports neither fees.base nor fee") }
    return fee.units
}

/// The modified fee of a mempool entry (base fee plus any prioritisation).
func modifiedFee(of entry: MempoolEntry) throws -> Int64 {
    if let fees = entry.fees { return fees.modified.units }
    guard let fee = entry.fee else { throw ScenarioError("getmempoolentry reports neither fees.modified nor fee") }
    return fee.units
}

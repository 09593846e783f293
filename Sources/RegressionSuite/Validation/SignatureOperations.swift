import Foundation
import TapyrusEncoding
import NodeControl

/// Counts a block's signature operations the way tapyrusd's `ConnectBlock`
/// does, from the block's own transactions and the outputs they spend: the
/// ground truth for `validation:block_connected`'s sigops cost.
///
/// `ConnectBlock` adds, per transaction, `GetTransactionSigOps`:
/// - the legacy count (`GetLegacySigOpCount`): every scriptSig and every
///   scriptPubKey counted inaccurately, so a `CHECKMULTISIG` counts 20;
/// - for every transaction but the coinbase, the P2SH count
///   (`GetP2SHSigOpCount`): for each input spending a P2SH or coloured P2SH
///   output, the redeem script (the scriptSig's last push) counted
///   accurately, so `OP_2 … OP_3 CHECKMULTISIG` counts 3.
///
/// Tapyrus counts `CHECKSIG`, `CHECKSIGVERIFY`, `CHECKDATASIG` and
/// `CHECKDATASIGVERIFY` as one each; no cost is scaled (there is no witness).
enum SignatureOperations {
    static let maxPublicKeysPerMultisig = 20

    /// The sigops cost of block `hash` as `ConnectBlock` counts it.
    ///
    /// `outputs` resolves a spent outpoint to the scriptPubKey it locks.
    static func cost(ofBlock hash: String, rpc: RPCClient, outputs: ChainOutputs) async throws -> Int {
        let block = try await rpc.call("getblock", [.string(hash), 2])
        let transactions = try requireScenario(block["tx"]?.arrayValue, "transactions of block \(hash)")
        var total = 0
        for (position, transaction) in transactions.enumerated() {
            let inputs = transaction["vin"]?.arrayValue ?? []
            let scriptSigs = inputs.map { input in hexBytes(input["scriptSig"]?["hex"]) }
            for script in scriptSigs { total += legacyCount(script, accurate: false) }
            for output in transaction["vout"]?.arrayValue ?? [] {
                total += legacyCount(hexBytes(output["scriptPubKey"]?["hex"]), accurate: false)
            }
            guard position > 0 else { continue }
            for (input, scriptSig) in zip(inputs, scriptSigs) {
                let txid = try requireScenario(input["txid"]?.stringValue, "an input's txid in block \(hash)")
                let index = try requireScenario(input["vout"]?.intValue, "an input's index in block \(hash)")
                let locking = try requireScenario(try await outputs.script(txid, Int(index)), "the output \(txid):\(index) an input of \(hash) spends")
                total += payToScriptHashCount(locking: locking, scriptSig: scriptSig)
            }
        }
        return total
    }

    /// `CScript::GetSigOpCount(bool fAccurate)`.
    static func legacyCount(_ script: [UInt8], accurate: Bool) -> Int {
        var count = 0
        var last: UInt8 = 0xff
        for operation in ScriptOperations(script) {
            switch operation.opcode {
            case 0xac, 0xad, 0xba, 0xbb: // CHECKSIG, CHECKSIGVERIFY, CHECKDATASIG, CHECKDATASIGVERIFY
                count += 1
            case 0xae, 0xaf: // CHECKMULTISIG, CHECKMULTISIGVERIFY
                count += accurate && (0x51...0x60).contains(last) ? Int(last - 0x50) : maxPublicKeysPerMultisig
            default:
                break
            }
            last = operation.opcode
        }
        return count
    }

    /// `CScript::GetSigOpCount(const CScript& scriptSig)` for the output an
    /// input spends: the redeem script's accurate count for (coloured) P2SH,
    /// else nothing (`GetP2SHSigOpCount` adds only those).
    static func payToScriptHashCount(locking: [UInt8], scriptSig: [UInt8]) -> Int {
        guard isPayToScriptHash(locking) || isColouredPayToScriptHash(locking) else { return 0 }
        var redeemScript: [UInt8] = []
        for operation in ScriptOperations(scriptSig) {
            guard operation.isWellFormed, operation.opcode <= 0x60 else { return 0 } // only pushes (OP_16 at most)
            redeemScript = operation.data
        }
        return legacyCount(redeemScript, accurate: true)
    }

    /// `OP_HASH160 <20 bytes> OP_EQUAL`.
    static func isPayToScriptHash(_ script: [UInt8]) -> Bool {
        script.count == 23 && script[0] == 0xa9 && script[1] == 0x14 && script[22] == 0x87
    }

    /// `<33-byte colour id> OP_COLOR OP_HASH160 <20 bytes> OP_EQUAL`, with a
    /// colour id of a token type (0xc1 reissuable, 0xc2 non-reissuable, 0xc3 NFT).
    static func isColouredPayToScriptHash(_ script: [UInt8]) -> Bool {
        script.count == 58 && script[0] == 0x21 && (0xc1...0xc3).contains(script[1]) && script[34] == 0xbc
            && script[35] == 0xa9 && script[36] == 0x14 && script[57] == 0x87
    }

    private static func hexBytes(_ value: JSONValue?) -> [UInt8] {
        value?.stringValue.flatMap(Hex.decode) ?? []
    }
}

/// The operations of a script as `GetScriptOp` reads them: an opcode and,
/// for a push, its data. A truncated push ends the sequence with one
/// operation that is not well formed (where `GetScriptOp` returns false).
struct ScriptOperations: Sequence, IteratorProtocol {
    struct Operation {
        var opcode: UInt8
        var data: [UInt8]
        var isWellFormed: Bool
    }

    private let script: [UInt8]
    private var position = 0
    private var ended = false

    init(_ script: [UInt8]) { self.script = script }

    mutating func next() -> Operation? {
        guard !ended, position < script.count else { return nil }
        let opcode = script[position]
        position += 1
        guard opcode <= 0x4e else { return Operation(opcode: opcode, data: [], isWellFormed: true) }
        var size = Int(opcode)
        let lengthBytes = opcode == 0x4c ? 1 : opcode == 0x4d ? 2 : opcode == 0x4e ? 4 : 0
        if lengthBytes > 0 {
            guard script.count - position >= lengthBytes else { return malformed(opcode) }
            size = (0..<lengthBytes).reduce(0) { $0 | Int(script[position + $1]) << (8 * $1) }
            position += lengthBytes
        }
        guard script.count - position >= size else { return malformed(opcode) }
        defer { position += size }
        return Operation(opcode: opcode, data: Array(script[position..<(position + size)]), isWellFormed: true)
    }

    private mutating func malformed(_ opcode: UInt8) -> Operation {
        ended = true
        return Operation(opcode: opcode, data: [], isWellFormed: false)
    }
}

/// Every output of a node's active chain, by outpoint: what an input spends,
/// without `-txindex` (which catches up asynchronously).
actor ChainOutputs {
    private let rpc: RPCClient
    private var scripts: [String: [[UInt8]]] = [:]
    private var loadedHeight = -1

    init(rpc: RPCClient) { self.rpc = rpc }

    /// The scriptPubKey of output `index` of `txid`, loading blocks up to the
    /// tip as needed.
    func script(_ txid: String, _ index: Int) async throws -> [UInt8]? {
        if scripts[txid] == nil { try await load() }
        guard let outputs = scripts[txid], outputs.indices.contains(index) else { return nil }
        return outputs[index]
    }

    private func load() async throws {
        let tip = try await rpc.getBlockCount()
        guard tip > loadedHeight else { return }
        for height in (loadedHeight + 1)...tip {
            let hash = try await rpc.getBlockHash(height: height)
            let block = try await rpc.call("getblock", [.string(hash), 2])
            for transaction in block["tx"]?.arrayValue ?? [] {
                guard let txid = transaction["txid"]?.stringValue else { continue }
                scripts[txid] = (transaction["vout"]?.arrayValue ?? []).map { output in
                    output["scriptPubKey"]?["hex"]?.stringValue.flatMap(Hex.decode) ?? []
                }
            }
        }
        loadedHeight = tip
    }
}

import NodeControl

/// An unsigned transaction, serialised as tapyrusd reads it, for
/// `signrawtransactionwithkey`.
struct RawTransaction: Sendable, Hashable {
    /// A coin to spend: its transaction id (as RPC shows it) and output index.
    struct Input: Sendable, Hashable {
        var txid: String
        var vout: UInt32
    }

    /// An output: value in tapyrus units and its locking script.
    struct Output: Sendable, Hashable {
        var value: Int64
        var script: [UInt8]
    }

    var inputs: [Input]
    var outputs: [Output]

    /// The serialised transaction with empty unlocking scripts: features 1,
    /// inputs, outputs, lock time 0.
    func serialized() -> [UInt8] {
        var writer = ByteWriter()
        writer.write(littleEndian: Int32(1))
        writer.write(compactSize: UInt64(inputs.count))
        for input in inputs {
            // RPC shows hashes byte-reversed.
            writer.write(bytes: (Hex.decode(input.txid) ?? Array(repeating: 0, count: 32)).reversed())
            writer.write(littleEndian: input.vout)
            writer.write(varBytes: [])
            writer.write(littleEndian: UInt32.max)
        }
        writer.write(compactSize: UInt64(outputs.count))
        for output in outputs {
            writer.write(littleEndian: output.value)
            writer.write(varBytes: output.script)
        }
        writer.write(littleEndian: UInt32(0))
        return writer.bytes
    }

    /// The size once signed, estimated for the fee: a P2PKH unlocking script
    /// (signature and compressed key) is at most 107 bytes.
    var estimatedSignedSize: Int {
        Self.estimatedSignedSize(inputs: inputs.count, outputs: outputs.count)
    }

    /// ``estimatedSignedSize`` of a transaction with these counts of P2PKH inputs and outputs.
    static func estimatedSignedSize(inputs: Int, outputs: Int) -> Int {
        10 + inputs * (32 + 4 + 1 + 107 + 4) + outputs * (8 + 1 + 25)
    }
}

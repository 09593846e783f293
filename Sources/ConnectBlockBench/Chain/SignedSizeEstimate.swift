import TapyrusEncoding

extension Transaction {
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

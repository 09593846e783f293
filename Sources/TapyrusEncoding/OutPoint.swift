/// One output of a transaction: its transaction id, as RPC prints it, and
/// its index (`createrawtransaction`'s `{"txid": …, "vout": …}`).
public struct OutPoint: Sendable, Hashable, Codable {
    /// The transaction id in display form: 64 hex digits, byte-reversed.
    public var txid: String
    public var vout: Int

    public init(txid: String, vout: Int) {
        self.txid = txid
        self.vout = vout
    }

    /// The transaction id as the wire carries it (32 bytes, reversed from
    /// the display form); 32 zero bytes when ``txid`` is not 64 hex digits.
    public var wireHash: [UInt8] {
        guard let bytes = Hex.decode(txid), bytes.count == 32 else { return Array(repeating: 0, count: 32) }
        return bytes.reversed()
    }
}

import TapyrusEncoding
import Testing

@Suite("Transaction codec: parsing what it serialises, and refusing what is not a transaction")
struct TransactionCodecTests {
    static let txid = "00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f"

    static let sample = Transaction(
        features: 1,
        inputs: [
            .init(spending: OutPoint(txid: txid, vout: 7), script: [0x01, 0x02, 0x03], sequence: 0xffff_fffe),
            .init(spending: OutPoint(txid: String(repeating: "ab", count: 32), vout: 0)),
        ],
        outputs: [
            .init(value: 5_000_000_000, script: [0x51]),
            .init(value: 0, script: [0x6a, 0x02, 0xbe, 0xef]),
        ],
        lockTime: 99)

    @Test("parsing the serialisation gives back every field, txids in display form")
    func roundTrip() throws {
        let bytes = Self.sample.serialized()
        let parsed = try Transaction(parsing: bytes)
        #expect(parsed == Self.sample)
        #expect(parsed.inputs.map(\.previousOutput.txid) == [Self.txid, String(repeating: "ab", count: 32)])
        #expect(try Transaction(hex: Self.sample.hex) == Self.sample)
        // The wire carries the txid byte-reversed.
        #expect(Array(bytes[5..<37]) == Array(Hex.decode(Self.txid)!.reversed()))
    }

    @Test("a transaction of 10,000 outputs parses with its compact-size count")
    func manyOutputs() throws {
        let many = Transaction(inputs: [.init(spending: OutPoint(txid: Self.txid, vout: 0))],
                               outputs: Array(repeating: .init(value: 1000, script: [0x51]), count: 10_000))
        let bytes = many.serialized()
        #expect(bytes[4 + 1 + 41] == 0xfd, "10,000 outputs need the 3-byte compact size")
        #expect(try Transaction(parsing: bytes).outputs.count == 10_000)
    }

    @Test("cut bytes, trailing bytes, impossible counts and non-hex are refused with where and why")
    func malformed() {
        let bytes = Self.sample.serialized()
        for cut in [0, 3, 4, 40, bytes.count - 1] {
            #expect(throws: ByteDecodingError.self, "cut at \(cut)") { try Transaction(parsing: Array(bytes.prefix(cut))) }
        }
        let trailing = #expect(throws: ByteDecodingError.self) { try Transaction(parsing: bytes + [0]) }
        #expect(trailing?.description == "1 bytes follow the transaction's lock time")
        // Features, then a count of 0xfd 0xff 0xff = 65,535 inputs in 5 bytes.
        let huge = #expect(throws: ByteDecodingError.self) { try Transaction(parsing: [1, 0, 0, 0, 0xfd, 0xff, 0xff, 0, 0]) }
        #expect(huge?.description.contains("65535 inputs cannot fit") == true)
        #expect(throws: ByteDecodingError.self) { try Transaction(hex: "zz") }
    }

    @Test("OP_RETURN outputs and scripts over 10,000 bytes are unspendable; others are not")
    func unspendable() {
        #expect(Transaction.Output(value: 0, script: [0x6a]).isUnspendable)
        #expect(Transaction.Output(value: 1, script: Array(repeating: 0x51, count: 10_001)).isUnspendable)
        #expect(!Transaction.Output(value: 1, script: Array(repeating: 0x51, count: 10_000)).isUnspendable)
        #expect(!Transaction.Output(value: 1, script: [0x51]).isUnspendable)
        #expect(!Transaction.Output(value: 1, script: []).isUnspendable)
    }

    @Test("an outpoint whose txid is not 64 hex digits goes on the wire as 32 zero bytes")
    func badTxid() {
        #expect(OutPoint(txid: "not hex", vout: 0).wireHash == Array(repeating: 0, count: 32))
        #expect(OutPoint(txid: "abcd", vout: 0).wireHash == Array(repeating: 0, count: 32))
        #expect(OutPoint(txid: Self.txid, vout: 0).wireHash.first == 0x0f)
    }
}

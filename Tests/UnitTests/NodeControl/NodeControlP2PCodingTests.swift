@testable import NodeControl
import TapyrusEncoding
import Testing

@Suite("NodeControl unit: P2P message coding")
struct NodeControlP2PCodingTests {
    @Test("The checksum of an empty payload is the well-known 5df6e0e2")
    func emptyChecksum() {
        #expect(MessageHeader.checksum(of: []) == [0x5d, 0xf6, 0xe0, 0xe2])
    }

    @Test("The dev network's message start bytes are 33550335 + 1905960821, big-endian")
    func devMagic() {
        #expect(NetworkMagic.dev.bytes == [0x73, 0x9a, 0x97, 0x74])
        #expect(NetworkMagic(networkID: 1).bytes == [0x01, 0xff, 0xf0, 0x00])
    }

    @Test("A ping frames to the exact expected 32 bytes and decodes back")
    func pingFraming() throws {
        let bytes = try P2PMessage.ping(nonce: 0x0102_0304_0506_0708).encoded(magic: .dev)
        #expect(Hex.encode(bytes) == "739a977470696e670000000000000000080000003b5a75130807060504030201")
        let (message, consumed) = try P2PMessage.decode(bytes + [0xaa], magic: .dev)
        #expect(consumed == 32)
        #expect(message.command == "ping")
        #expect(message.nonce == 0x0102_0304_0506_0708)
    }

    @Test("Decoding rejects a wrong checksum, wrong start bytes, truncation and long commands")
    func framingErrors() throws {
        var bytes = try P2PMessage.pong(nonce: 42).encoded(magic: .dev)
        bytes[20] ^= 0xff
        #expect(throws: P2PError.self) { try P2PMessage.decode(bytes, magic: .dev) }
        let other = try P2PMessage.pong(nonce: 42).encoded(magic: NetworkMagic(networkID: 7))
        #expect { try P2PMessage.decode(other, magic: .dev) } throws: { error in
            guard case .wrongMagic? = error as? P2PError else { return false }
            return true
        }
        let good = try P2PMessage.pong(nonce: 42).encoded(magic: .dev)
        #expect(throws: P2PError.self) { try P2PMessage.decode(Array(good.dropLast()), magic: .dev) }
        #expect(throws: P2PError.commandTooLong("thirteenchars")) {
            try P2PMessage(command: "thirteenchars").encoded(magic: .dev)
        }
    }

    @Test("CompactSize uses 1, 3, 5 and 9 bytes at the boundaries and reads back", arguments: [
        (UInt64(0), 1), (0xfc, 1), (0xfd, 3), (0xffff, 3), (0x1_0000, 5), (0xffff_ffff, 5), (0x1_0000_0000, 9),
    ])
    func compactSize(value: UInt64, length: Int) throws {
        var writer = ByteWriter()
        writer.write(compactSize: value)
        #expect(writer.bytes.count == length)
        var reader = ByteReader(writer.bytes)
        #expect(try reader.readCompactSize() == value)
        #expect(reader.remaining == 0)
    }

    @Test("A version payload has the Bitcoin-family layout and round-trips")
    func versionMessage() throws {
        var version = VersionMessage(timestamp: 1_700_000_000, receiver: .ipv4(127, 0, 0, 1, port: 12345), nonce: 99)
        version.userAgent = "/t:1/"
        version.startHeight = 7
        let payload = version.encoded()
        #expect(payload.count == 4 + 8 + 8 + 26 + 26 + 8 + 1 + 5 + 4 + 1)
        #expect(Array(payload[0..<4]) == [0x10, 0x27, 0, 0])
        #expect(try VersionMessage.decode(payload) == version)
    }

    @Test("inv and getheaders payloads encode as expected")
    func inventoryAndGetheaders() throws {
        let hash = "00000000000000000000000000000000000000000000000000000000000000ff"
        let item = try #require(InventoryItem(type: .transaction, rpcHex: hash))
        #expect(item.hash.first == 0xff)
        let inv = P2PMessage.inv([item])
        #expect(inv.payload.count == 1 + 36)
        #expect(try inv.inventory() == [item])
        let getheaders = P2PMessage.getheaders(locator: [item.hash])
        #expect(getheaders.payload.count == 4 + 1 + 32 + 32)
        #expect(Hex.decode("0a0B") == [0x0a, 0x0b])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }
}

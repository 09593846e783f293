import TapyrusEncoding

/// The four message start bytes that open every P2P message of one network.
public struct NetworkMagic: Sendable, Hashable, CustomStringConvertible {
    /// The start bytes as they appear on the wire.
    public let bytes: [UInt8]

    /// Wraps start bytes read elsewhere; there must be exactly four.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 else { return nil }
        self.bytes = bytes
    }

    /// The start bytes Tapyrus derives from a network id: `33550335 + id`, big-endian.
    public init(networkID: UInt32) {
        let value = UInt32(33_550_335) &+ networkID
        bytes = [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                 UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    /// The default dev network's start bytes (`73 9a 97 74` for id 1905960821).
    public static let dev = NetworkMagic(networkID: DevNetwork.defaultNetworkID)

    public var description: String { Hex.encode(bytes) }
}

/// The 24-byte header in front of every P2P message.
public struct MessageHeader: Sendable, Hashable {
    /// The size of an encoded header in bytes.
    public static let size = 24
    /// The maximum length of a command name.
    public static let commandSize = 12

    /// Network start bytes.
    public var magic: NetworkMagic
    /// The command name, without NUL padding.
    public var command: String
    /// The payload length in bytes.
    public var payloadLength: UInt32
    /// The first four bytes of the payload's double SHA-256.
    public var checksum: [UInt8]

    /// Encodes the header; fails if the command does not fit in 12 bytes.
    public func encoded() throws(P2PError) -> [UInt8] {
        let commandBytes = Array(command.utf8)
        guard commandBytes.count <= Self.commandSize else { throw .commandTooLong(command) }
        var writer = ByteWriter()
        writer.write(bytes: magic.bytes)
        writer.write(bytes: commandBytes)
        writer.write(bytes: repeatElement(UInt8(0), count: Self.commandSize - commandBytes.count))
        writer.write(littleEndian: payloadLength)
        writer.write(bytes: checksum)
        return writer.bytes
    }

    /// Decodes a header from exactly 24 bytes, checking the start bytes.
    public static func decode(_ bytes: [UInt8], expecting magic: NetworkMagic) throws(P2PError) -> MessageHeader {
        guard bytes.count == size else { throw .malformed("header has \(bytes.count) bytes, expected \(size)") }
        let start = Array(bytes[0..<4])
        guard start == magic.bytes else { throw .wrongMagic(expected: magic.bytes, received: start) }
        let commandField = bytes[4..<16]
        let commandBytes = commandField.prefix { $0 != 0 }
        var reader = ByteReader(Array(bytes[16..<24]))
        let (length, checksum) = try P2PError.decoding { () throws(ByteDecodingError) in
            (try reader.read(UInt32.self), try reader.read(count: 4))
        }
        return MessageHeader(magic: magic, command: String(decoding: commandBytes, as: UTF8.self),
                             payloadLength: length, checksum: checksum)
    }

    /// The checksum of a payload: the first four bytes of its double SHA-256.
    public static func checksum(of payload: [UInt8]) -> [UInt8] {
        Array(SHA256.doubleHash(payload).prefix(4))
    }
}

/// One P2P message: a command and its payload.
public struct P2PMessage: Sendable, Hashable, CustomStringConvertible {
    /// The command name, e.g. `ping`.
    public var command: String
    /// The payload bytes.
    public var payload: [UInt8]

    /// Creates a message from any command and payload.
    public init(command: String, payload: [UInt8] = []) {
        self.command = command
        self.payload = payload
    }

    /// The full wire form: header (with the payload's checksum) followed by the payload.
    public func encoded(magic: NetworkMagic) throws(P2PError) -> [UInt8] {
        let header = MessageHeader(magic: magic, command: command, payloadLength: UInt32(payload.count),
                                   checksum: MessageHeader.checksum(of: payload))
        return try header.encoded() + payload
    }

    /// Decodes one complete message from the start of `bytes`, verifying start bytes and checksum.
    ///
    /// - Returns: the message and the number of bytes it occupied.
    public static func decode(_ bytes: [UInt8], magic: NetworkMagic) throws(P2PError) -> (message: P2PMessage, consumed: Int) {
        guard bytes.count >= MessageHeader.size else { throw .malformed("only \(bytes.count) bytes, a header needs 24") }
        let header = try MessageHeader.decode(Array(bytes[0..<MessageHeader.size]), expecting: magic)
        let end = MessageHeader.size + Int(header.payloadLength)
        guard bytes.count >= end else {
            throw .malformed("'\(header.command)' payload needs \(header.payloadLength) bytes, \(bytes.count - MessageHeader.size) present")
        }
        let payload = Array(bytes[MessageHeader.size..<end])
        let actual = MessageHeader.checksum(of: payload)
        guard actual == header.checksum else {
            throw .badChecksum(command: header.command, expected: actual, received: header.checksum)
        }
        return (P2PMessage(command: header.command, payload: payload), end)
    }

    public var description: String { "\(command) (\(payload.count) bytes)" }
}

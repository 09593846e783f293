import TapyrusEncoding

/// The protocol versions Tapyrus speaks (from its `version.h`).
public enum ProtocolVersion {
    /// The current protocol version, `PROTOCOL_VERSION`.
    public static let current: Int32 = 10_000
    /// The version used before the handshake completes, `INIT_PROTO_VERSION`.
    public static let initial: Int32 = 1_227
}

/// A network address as carried in a `version` message (no timestamp).
public struct VersionAddress: Sendable, Hashable {
    /// Service bits advertised for this address.
    public var services: UInt64
    /// The IPv6 (or IPv4-mapped) address, 16 bytes.
    public var ip: [UInt8]
    /// The TCP port.
    public var port: UInt16

    /// Creates an address; `ip` must be 16 bytes (use ``ipv4(_:port:services:)`` for IPv4).
    public init(services: UInt64 = 0, ip: [UInt8] = Array(repeating: 0, count: 16), port: UInt16 = 0) {
        self.services = services
        self.ip = ip
        self.port = port
    }

    /// An IPv4 address in its IPv6-mapped form.
    public static func ipv4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16, services: UInt64 = 0) -> VersionAddress {
        VersionAddress(services: services, ip: Array(repeating: 0, count: 10) + [0xff, 0xff, a, b, c, d], port: port)
    }

    func encode(into writer: inout ByteWriter) {
        writer.write(littleEndian: services)
        writer.write(bytes: ip.count == 16 ? ip : Array(repeating: 0, count: 16))
        writer.write(bigEndian: port)
    }

    static func decode(from reader: inout ByteReader) throws(ByteDecodingError) -> VersionAddress {
        let services: UInt64 = try reader.read()
        let ip = try reader.read(count: 16)
        let portBytes = try reader.read(count: 2)
        return VersionAddress(services: services, ip: ip, port: UInt16(portBytes[0]) << 8 | UInt16(portBytes[1]))
    }
}

/// The payload of a `version` message.
public struct VersionMessage: Sendable, Hashable {
    /// The sender's protocol version.
    public var version: Int32 = ProtocolVersion.current
    /// The sender's service bits.
    public var services: UInt64 = 0
    /// The sender's clock, seconds since the epoch.
    public var timestamp: Int64
    /// The receiver's address as the sender sees it.
    public var receiver: VersionAddress
    /// The sender's own address.
    public var sender: VersionAddress = VersionAddress()
    /// A random nonce used to detect connections to self.
    public var nonce: UInt64
    /// The sender's user agent.
    public var userAgent: String = "/tapyrus-trace:0.1/"
    /// The sender's best block height.
    public var startHeight: Int32 = 0
    /// Whether the sender wants transactions relayed to it.
    public var relay: Bool = true

    /// Creates a version payload; defaults describe a minimal, non-serving peer.
    public init(timestamp: Int64, receiver: VersionAddress, nonce: UInt64 = UInt64.random(in: 1...UInt64.max)) {
        self.timestamp = timestamp
        self.receiver = receiver
        self.nonce = nonce
    }

    /// Encodes the payload.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.write(littleEndian: version)
        writer.write(littleEndian: services)
        writer.write(littleEndian: timestamp)
        receiver.encode(into: &writer)
        sender.encode(into: &writer)
        writer.write(littleEndian: nonce)
        writer.write(varString: userAgent)
        writer.write(littleEndian: startHeight)
        writer.write(bool: relay)
        return writer.bytes
    }

    /// Decodes a payload; the trailing optional fields default when absent.
    public static func decode(_ payload: [UInt8]) throws(P2PError) -> VersionMessage {
        try P2PError.decoding { () throws(ByteDecodingError) in try decode(from: payload) }
    }

    private static func decode(from payload: [UInt8]) throws(ByteDecodingError) -> VersionMessage {
        var reader = ByteReader(payload)
        let version: Int32 = try reader.read()
        let services: UInt64 = try reader.read()
        let timestamp: Int64 = try reader.read()
        let receiver = try VersionAddress.decode(from: &reader)
        var message = VersionMessage(timestamp: timestamp, receiver: receiver, nonce: 0)
        message.version = version
        message.services = services
        if reader.remaining > 0 {
            message.sender = try VersionAddress.decode(from: &reader)
            message.nonce = try reader.read()
        }
        if reader.remaining > 0 { message.userAgent = try reader.readVarString() }
        if reader.remaining > 0 { message.startHeight = try reader.read() }
        if reader.remaining > 0 { message.relay = try reader.read(UInt8.self) != 0 }
        return message
    }
}

/// The kind of an inventory item (`inv`, `getdata`).
public struct InventoryType: RawRepresentable, Sendable, Hashable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// A transaction (`MSG_TX`).
    public static let transaction = InventoryType(rawValue: 1)
    /// A block (`MSG_BLOCK`).
    public static let block = InventoryType(rawValue: 2)
}

/// One inventory entry: a type and a 32-byte hash in wire (little-endian) order.
public struct InventoryItem: Sendable, Hashable {
    /// What the hash names.
    public var type: InventoryType
    /// The hash in wire order (reverse of the hex shown by RPC).
    public var hash: [UInt8]

    /// Creates an item from a hash in wire order.
    public init(type: InventoryType, hash: [UInt8]) {
        self.type = type
        self.hash = hash
    }

    /// Creates an item from a hash as RPC prints it (big-endian hex).
    public init?(type: InventoryType, rpcHex: String) {
        guard let bytes = Hex.decode(rpcHex), bytes.count == 32 else { return nil }
        self.init(type: type, hash: bytes.reversed())
    }
}

extension P2PMessage {
    /// A `version` message.
    public static func version(_ version: VersionMessage) -> P2PMessage {
        P2PMessage(command: "version", payload: version.encoded())
    }

    /// A `verack` message (empty payload).
    public static let verack = P2PMessage(command: "verack")

    /// A `ping` carrying `nonce`.
    public static func ping(nonce: UInt64) -> P2PMessage {
        var writer = ByteWriter()
        writer.write(littleEndian: nonce)
        return P2PMessage(command: "ping", payload: writer.bytes)
    }

    /// A `pong` echoing `nonce`.
    public static func pong(nonce: UInt64) -> P2PMessage {
        var writer = ByteWriter()
        writer.write(littleEndian: nonce)
        return P2PMessage(command: "pong", payload: writer.bytes)
    }

    /// A `getheaders` with a block locator (hashes in wire order) and a stop hash (zero for "as many as possible").
    public static func getheaders(locator: [[UInt8]], stop: [UInt8] = Array(repeating: 0, count: 32),
                                  version: Int32 = ProtocolVersion.current) -> P2PMessage {
        var writer = ByteWriter()
        writer.write(littleEndian: UInt32(bitPattern: version))
        writer.write(compactSize: UInt64(locator.count))
        for hash in locator { writer.write(bytes: hash) }
        writer.write(bytes: stop)
        return P2PMessage(command: "getheaders", payload: writer.bytes)
    }

    /// An `inv` announcing `items`.
    public static func inv(_ items: [InventoryItem]) -> P2PMessage {
        P2PMessage(command: "inv", payload: encodeInventory(items))
    }

    /// A `getdata` requesting `items`.
    public static func getdata(_ items: [InventoryItem]) -> P2PMessage {
        P2PMessage(command: "getdata", payload: encodeInventory(items))
    }

    /// A `tx` carrying a serialised transaction (e.g. the hex from `createrawtransaction`, decoded).
    public static func tx(_ rawTransaction: [UInt8]) -> P2PMessage {
        P2PMessage(command: "tx", payload: rawTransaction)
    }

    /// The nonce of a `ping` or `pong`, if the payload holds one.
    public var nonce: UInt64? {
        guard command == "ping" || command == "pong", payload.count == 8 else { return nil }
        var reader = ByteReader(payload)
        return try? reader.read(UInt64.self)
    }

    /// Decodes an `inv`/`getdata`/`notfound` payload.
    public func inventory() throws(P2PError) -> [InventoryItem] {
        var reader = ByteReader(payload)
        let count = try P2PError.decoding { () throws(ByteDecodingError) in try reader.readCompactSize() }
        guard count <= UInt64(reader.remaining / 36) else { throw .malformed("inventory count \(count) too large") }
        return try P2PError.decoding { () throws(ByteDecodingError) in
            try (0..<count).map { _ throws(ByteDecodingError) in
                let type: UInt32 = try reader.read()
                return InventoryItem(type: InventoryType(rawValue: type), hash: try reader.read(count: 32))
            }
        }
    }

    private static func encodeInventory(_ items: [InventoryItem]) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(compactSize: UInt64(items.count))
        for item in items {
            writer.write(littleEndian: item.type.rawValue)
            writer.write(bytes: item.hash)
        }
        return writer.bytes
    }
}

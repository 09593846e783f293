/// Appends little-endian integers, compact sizes and strings to a byte buffer,
/// the way the Bitcoin-family wire format lays them out.
public struct ByteWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    /// Creates an empty writer.
    public init() {}

    /// Appends raw bytes unchanged.
    public mutating func write<Bytes: Sequence>(bytes other: Bytes) where Bytes.Element == UInt8 {
        bytes.append(contentsOf: other)
    }

    /// Appends a fixed-width integer in little-endian order.
    public mutating func write<Value: FixedWidthInteger>(littleEndian value: Value) {
        var v = value.littleEndian
        withUnsafeBytes(of: &v) { bytes.append(contentsOf: $0) }
    }

    /// Appends a fixed-width integer in big-endian order (used for ports).
    public mutating func write<Value: FixedWidthInteger>(bigEndian value: Value) {
        var v = value.bigEndian
        withUnsafeBytes(of: &v) { bytes.append(contentsOf: $0) }
    }

    /// Appends a boolean as one byte.
    public mutating func write(bool value: Bool) {
        bytes.append(value ? 1 : 0)
    }

    /// Appends a CompactSize length prefix.
    public mutating func write(compactSize value: UInt64) {
        switch value {
        case 0..<0xfd:
            bytes.append(UInt8(value))
        case 0xfd...0xffff:
            bytes.append(0xfd)
            write(littleEndian: UInt16(value))
        case 0x1_0000...0xffff_ffff:
            bytes.append(0xfe)
            write(littleEndian: UInt32(value))
        default:
            bytes.append(0xff)
            write(littleEndian: value)
        }
    }

    /// Appends a CompactSize-prefixed byte string.
    public mutating func write(varBytes value: [UInt8]) {
        write(compactSize: UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// Appends a CompactSize-prefixed UTF-8 string.
    public mutating func write(varString value: String) {
        write(varBytes: Array(value.utf8))
    }
}

/// Reads little-endian integers, compact sizes and strings from a byte buffer,
/// in order, each read checked against the bytes left.
public struct ByteReader: Sendable {
    /// The buffer being read.
    public let bytes: [UInt8]
    /// The offset of the next unread byte.
    public private(set) var offset: Int = 0

    /// Creates a reader positioned at the start of `bytes`.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The number of unread bytes.
    public var remaining: Int { bytes.count - offset }

    /// Reads `count` raw bytes.
    public mutating func read(count: Int) throws(ByteDecodingError) -> [UInt8] {
        guard count >= 0, remaining >= count else {
            throw ByteDecodingError(offset: offset, reason: "needed \(count) bytes at offset \(offset), only \(remaining) left")
        }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// Reads a little-endian fixed-width integer.
    public mutating func read<Value: FixedWidthInteger>(_: Value.Type = Value.self) throws(ByteDecodingError) -> Value {
        let raw = try read(count: MemoryLayout<Value>.size)
        var value: Value = 0
        for (index, byte) in raw.enumerated() {
            value |= Value(truncatingIfNeeded: byte) << (8 * index)
        }
        return value
    }

    /// Reads a CompactSize length.
    public mutating func readCompactSize() throws(ByteDecodingError) -> UInt64 {
        let first: UInt8 = try read()
        switch first {
        case 0xfd: return UInt64(try read(UInt16.self))
        case 0xfe: return UInt64(try read(UInt32.self))
        case 0xff: return try read(UInt64.self)
        default: return UInt64(first)
        }
    }

    /// Reads a CompactSize-prefixed byte string.
    public mutating func readVarBytes() throws(ByteDecodingError) -> [UInt8] {
        let length = try readCompactSize()
        guard length <= UInt64(remaining) else {
            throw ByteDecodingError(offset: offset, reason: "length \(length) exceeds the \(remaining) bytes left")
        }
        return try read(count: Int(length))
    }

    /// Reads a CompactSize-prefixed string (invalid UTF-8 is repaired).
    public mutating func readVarString() throws(ByteDecodingError) -> String {
        String(decoding: try readVarBytes(), as: UTF8.self)
    }
}

/// Bytes ended too early or held a length larger than what follows.
public struct ByteDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where in the buffer reading stopped.
    public var offset: Int
    /// What was expected there, in words.
    public var reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { reason }
}

import Foundation
import TapyrusEncoding

/// One probe hit, decoded.
public struct TraceEvent: Sendable {
    /// The probe that fired.
    public var probe: ProbeName
    /// The catalogue's declaration of the probe, or nil for a probe the
    /// catalogue does not know (its fields are then the raw arguments).
    public var tracepoint: Tracepoint?
    /// When the probe fired, in nanoseconds of CLOCK_MONOTONIC.
    public var monotonicNanoseconds: UInt64
    /// When the probe fired, as wall-clock time.
    public var date: Date
    public var pid: Int32
    public var tid: Int32
    /// The decoded arguments, one per argument slot, in order.
    public var fields: [NamedValue]

    /// The value of the field called `name`.
    public subscript(name: String) -> FieldValue? {
        fields.first { $0.name == name }?.value
    }
}

/// A field's name and value.
public struct NamedValue: Sendable, Hashable {
    public var name: String
    public var value: FieldValue
}

/// The decoded value of one argument.
public enum FieldValue: Sendable, Hashable {
    case signed(Int64)
    case unsigned(UInt64)
    case bool(Bool)
    /// A string; `truncated` if it was longer than its declared maximum.
    case string(String, truncated: Bool)
    case hash(Hash256)
    case payload(Payload)
    /// A pointer argument whose memory could not be read.
    case unreadable(address: UInt64)
    /// A raw argument of a probe the catalogue does not know, with the bytes
    /// it points at when those were asked for and readable.
    case raw(value: UInt64, size: Int, signed: Bool, pointee: [UInt8]?)
}

/// Bytes a tracepoint passed by pointer and length, such as a P2P message.
public struct Payload: Sendable, Hashable {
    /// The bytes that were read.
    public var bytes: [UInt8]
    /// The length the tracepoint said the payload has.
    public var declaredLength: UInt64

    /// Whether every declared byte arrived.
    public var isComplete: Bool { UInt64(bytes.count) == declaredLength }
}

/// A 256-bit hash (block hash, txid) as stored in memory: little-endian.
public struct Hash256: Sendable, Hashable, CustomStringConvertible, Codable {
    /// The 32 bytes in memory order.
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// 32 zero bytes (the value of an event's hash before it is read).
    public static let zero = Hash256(bytes: [UInt8](repeating: 0, count: 32))

    /// Parses the usual display form (big-endian hex, as RPC prints it).
    public init?(hex: String) {
        guard hex.utf8.count == 64, let bytes = [UInt8](hexString: hex) else { return nil }
        self.bytes = bytes.reversed()
    }

    /// The display form: byte-reversed hex, as RPC and explorers show it.
    public var hex: String { bytes.reversed().hexString }
    public var description: String { hex }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let hash = Hash256(hex: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a 64-digit hex hash"))
        }
        self = hash
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

/// A typed view of a catalogued event could not be made.
public struct EventDecodingError: Error, Sendable, CustomStringConvertible {
    public let probe: ProbeName
    public let field: String
    public let reason: String
    public var description: String { "\(probe) field \(field): \(reason)" }
}

/// Reads a decoded event's fields by the slots its declaration gave them:
/// the first read is the first declared argument, the next read the next.
///
/// A typed event (``CataloguedEvent``) reads its fields in declaration order,
/// so each field's name is written once, in its ``Tracepoint`` declaration;
/// the name appears again only in the errors, taken from the event.
///
/// For example, `validation:block_connected` declares hash, height, … and reads:
///
/// ```swift
/// init(reading reader: inout EventFieldReader) throws(EventDecodingError) {
///     hash = try reader.hash()
///     height = try reader.int32()
///     // …
/// }
/// ```
public struct EventFieldReader: Sendable {
    private let event: TraceEvent
    private var slot = 0

    /// A reader of `event`'s fields, which must have the declaration's
    /// argument count (an event decoded raw has the binary's).
    public init(_ event: TraceEvent, declaration: Tracepoint) throws(EventDecodingError) {
        guard event.fields.count == declaration.fields.count else {
            throw EventDecodingError(probe: event.probe, field: "(arguments)",
                                     reason: "\(event.fields.count) arguments arrived, the declaration has \(declaration.fields.count)")
        }
        self.event = event
    }

    /// The next slot's name and value; an unreadable pointer is an error.
    private mutating func next() throws(EventDecodingError) -> (name: String, value: FieldValue) {
        guard slot < event.fields.count else {
            throw EventDecodingError(probe: event.probe, field: "(argument \(slot))", reason: "read past the last argument")
        }
        let field = event.fields[slot]
        slot += 1
        if case .unreadable(let address) = field.value {
            throw EventDecodingError(probe: event.probe, field: field.name, reason: "memory at 0x\(String(address, radix: 16)) could not be read")
        }
        return (field.name, field.value)
    }

    /// The next slot's value as `extract` reads it, or an error naming the field.
    private mutating func next<Value>(_ expected: String, _ extract: (FieldValue) -> Value?) throws(EventDecodingError) -> Value {
        let field = try next()
        guard let value = extract(field.value) else {
            throw EventDecodingError(probe: event.probe, field: field.name, reason: "expected \(expected), found \(field.value)")
        }
        return value
    }

    /// A signed integer of any width.
    public mutating func int64() throws(EventDecodingError) -> Int64 { try next("an integer", \.int64Value) }

    /// An unsigned integer of any width.
    public mutating func uint64() throws(EventDecodingError) -> UInt64 { try next("an integer", \.uint64Value) }

    /// A 4-byte signed integer.
    public mutating func int32() throws(EventDecodingError) -> Int32 { Int32(truncatingIfNeeded: try int64()) }

    /// A 4-byte unsigned integer.
    public mutating func uint32() throws(EventDecodingError) -> UInt32 { UInt32(truncatingIfNeeded: try uint64()) }

    public mutating func bool() throws(EventDecodingError) -> Bool { try next("a bool", \.boolValue) }

    /// A string; a truncated one is returned as it arrived.
    public mutating func string() throws(EventDecodingError) -> String { try next("a string", \.stringValue) }

    public mutating func hash() throws(EventDecodingError) -> Hash256 { try next("a hash", \.hash256Value) }

    public mutating func payload() throws(EventDecodingError) -> Payload { try next("a payload", \.payloadValue) }
}

extension FieldValue {
    /// A signed integer of any width (an unsigned one reinterpreted), else nil.
    public var int64Value: Int64? {
        switch self {
        case .signed(let value): value
        case .unsigned(let value): Int64(bitPattern: value)
        default: nil
        }
    }

    /// An unsigned integer of any width (a signed one reinterpreted), else nil.
    public var uint64Value: UInt64? { int64Value.map { UInt64(bitPattern: $0) } }

    public var boolValue: Bool? { if case .bool(let value) = self { value } else { nil } }

    /// A string's text, truncated or not, else nil.
    public var stringValue: String? { if case .string(let value, _) = self { value } else { nil } }

    public var hash256Value: Hash256? { if case .hash(let value) = self { value } else { nil } }

    public var payloadValue: Payload? { if case .payload(let value) = self { value } else { nil } }
}

/// Fields by name, for consumers without a typed view: tests of the decoder,
/// generic printers and probes outside the catalogue. Typed events read by
/// slot (``EventFieldReader``).
extension TraceEvent {
    /// The value of the field called `name` as `extract` reads it, or an error.
    private func value<Value>(_ name: String, _ expected: String, _ extract: (FieldValue) -> Value?) throws(EventDecodingError) -> Value {
        guard let value = self[name] else {
            throw EventDecodingError(probe: probe, field: name, reason: "no such field")
        }
        if case .unreadable(let address) = value {
            throw EventDecodingError(probe: probe, field: name, reason: "memory at 0x\(String(address, radix: 16)) could not be read")
        }
        guard let extracted = extract(value) else {
            throw EventDecodingError(probe: probe, field: name, reason: "expected \(expected), found \(value)")
        }
        return extracted
    }

    /// A signed integer field (any width).
    public func int64(_ name: String) throws(EventDecodingError) -> Int64 { try value(name, "an integer", \.int64Value) }

    /// An unsigned integer field (any width).
    public func uint64(_ name: String) throws(EventDecodingError) -> UInt64 { try value(name, "an integer", \.uint64Value) }

    public func bool(_ name: String) throws(EventDecodingError) -> Bool { try value(name, "a bool", \.boolValue) }

    /// A string field; a truncated string is still returned (check
    /// ``isTruncated(_:)`` where it matters).
    public func string(_ name: String) throws(EventDecodingError) -> String { try value(name, "a string", \.stringValue) }

    public func isTruncated(_ name: String) -> Bool {
        if case .string(_, let truncated) = self[name] { return truncated }
        return false
    }

    public func hash(_ name: String) throws(EventDecodingError) -> Hash256 { try value(name, "a hash", \.hash256Value) }

    public func payload(_ name: String) throws(EventDecodingError) -> Payload { try value(name, "a payload", \.payloadValue) }
}

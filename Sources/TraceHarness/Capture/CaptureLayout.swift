import CBPFShim

/// How the eBPF program reads each argument of one attached probe, and how
/// user space turns what it read back into fields.
///
/// A layout is derived from a catalogue declaration, or, for a probe the
/// catalogue does not know, from the probe's ELF note: every argument is then
/// read as an integer, optionally with bytes at the address it holds.
struct CaptureLayout: Sendable, Equatable {
    /// How one argument slot is read and decoded.
    enum Slot: Sendable, Equatable {
        case integer(bytes: Int, signed: Bool)
        case bool
        /// A string in the data area at `offset`, `capacity` bytes reserved
        /// (declared maximum, NUL and one byte to detect truncation).
        case string(offset: Int, capacity: Int)
        case hash(offset: Int)
        /// Bytes the argument points at, as many as argument
        /// `lengthArgument` says, at most `maxLength`; with `maxLength` 0 no
        /// byte is read (only the length is known).
        case payload(lengthArgument: Int, maxLength: Int)
        /// An argument of an uncatalogued probe; `pointee` bytes at its value
        /// are read into the data area at `offset` when `pointee > 0`.
        case raw(bytes: Int, signed: Bool, offset: Int, pointee: Int)
    }

    var names: [String]
    var slots: [Slot]
    /// Whether the record's small data area holds every item.
    var usesSmallRecord: Bool

    /// The layout for a catalogue declaration.
    init(tracepoint: Tracepoint) throws(CaptureLayoutError) {
        guard tracepoint.fields.count <= Int(TT_MAX_ARGS) else {
            throw CaptureLayoutError(probe: tracepoint.probe, reason: "more than \(TT_MAX_ARGS) arguments")
        }
        var allocator = DataAreaAllocator(probe: tracepoint.probe)
        var slots: [Slot] = []
        for field in tracepoint.fields {
            switch field.kind {
            case .integer(let bytes, let signed):
                slots.append(.integer(bytes: bytes, signed: signed))
            case .bool:
                slots.append(.bool)
            case .string(let maxLength):
                let capacity = maxLength + 2
                slots.append(.string(offset: try allocator.allocate(capacity, for: field.name), capacity: capacity))
            case .hash256:
                slots.append(.hash(offset: try allocator.allocate(32, for: field.name)))
            case .payload(let lengthField, let maxLength):
                guard let lengthArgument = tracepoint.index(of: lengthField) else {
                    throw CaptureLayoutError(probe: tracepoint.probe, reason: "payload \(field.name) names unknown length field \(lengthField)")
                }
                slots.append(.payload(lengthArgument: lengthArgument, maxLength: maxLength))
            }
        }
        guard slots.filter({ if case .payload = $0 { true } else { false } }).count <= 1 else {
            throw CaptureLayoutError(probe: tracepoint.probe, reason: "at most one payload argument is supported")
        }
        self.names = tracepoint.fields.map(\.name)
        self.slots = slots
        self.usesSmallRecord = allocator.fitsSmallRecord
    }

    /// The layout for a probe the catalogue does not know, from its note.
    /// With `pointeeBytes > 0`, that many bytes are read at every 8-byte
    /// unsigned argument (where a pointer would be), as many as fit.
    init(rawArguments arguments: [ArgumentSpec], probe: ProbeName, pointeeBytes: Int = 0) throws(CaptureLayoutError) {
        guard arguments.count <= Int(TT_MAX_ARGS) else {
            throw CaptureLayoutError(probe: probe, reason: "more than \(TT_MAX_ARGS) arguments")
        }
        var allocator = DataAreaAllocator(probe: probe)
        let pointee = min(max(pointeeBytes, 0), Int(TT_DATA_ITEM_MAX))
        self.slots = arguments.map { spec in
            var offset = 0
            var bytes = 0
            if pointee > 0, spec.size == 8, !spec.isSigned, let place = try? allocator.allocate(pointee, for: "") {
                offset = place
                bytes = pointee
            }
            return .raw(bytes: spec.size, signed: spec.isSigned, offset: offset, pointee: bytes)
        }
        self.names = arguments.indices.map { "arg\($0)" }
        self.usesSmallRecord = allocator.fitsSmallRecord
    }

    /// The most payload bytes one hit can send (0 without a payload).
    var payloadBound: Int {
        slots.reduce(0) { bound, slot in
            if case .payload(_, let maxLength) = slot { return max(bound, maxLength) }
            return bound
        }
    }

    /// The same layout with payloads not read: only their lengths arrive.
    var withoutPayloads: CaptureLayout {
        var layout = self
        layout.slots = slots.map { slot in
            if case .payload(let lengthArgument, _) = slot { return .payload(lengthArgument: lengthArgument, maxLength: 0) }
            return slot
        }
        return layout
    }

    /// The bytes one event record of this layout takes in the ring buffer,
    /// with the ring's own 8-byte header.
    var eventRecordBytes: Int {
        8 + (usesSmallRecord ? MemoryLayout<tt_small_event_record>.size : MemoryLayout<tt_event_record>.size)
    }

    /// The C structure the eBPF program reads, in each of the probe's sites.
    var abi: tt_layout {
        var layout = tt_layout()
        layout.arg_count = UInt32(slots.count)
        layout.flags = (usesSmallRecord ? TT_LAYOUT_SMALL_RECORD : 0) | (payloadBound > 0 ? TT_LAYOUT_HAS_PAYLOAD : 0)
        withUnsafeMutableBytes(of: &layout.args) { raw in
            let args = raw.bindMemory(to: tt_arg_layout.self)
            for (index, slot) in slots.enumerated() {
                args[index] = slot.abi
            }
        }
        for (index, slot) in slots.enumerated() {
            let kind = slot.abi.kind
            if kind == UInt8(TT_ARG_CSTRING.rawValue) || kind == UInt8(TT_ARG_BYTES.rawValue) {
                layout.item_mask |= 1 << index
            }
        }
        return layout
    }
}

extension CaptureLayout.Slot {
    var abi: tt_arg_layout {
        switch self {
        case .integer, .bool:
            tt_arg_layout(kind: UInt8(TT_ARG_SCALAR.rawValue), length_arg: 0, offset: 0, max_length: 0)
        case .string(let offset, let capacity):
            tt_arg_layout(kind: UInt8(TT_ARG_CSTRING.rawValue), length_arg: 0, offset: UInt16(offset), max_length: UInt32(capacity))
        case .hash(let offset):
            tt_arg_layout(kind: UInt8(TT_ARG_BYTES.rawValue), length_arg: 0, offset: UInt16(offset), max_length: 32)
        case .payload(_, 0):
            tt_arg_layout(kind: UInt8(TT_ARG_SCALAR.rawValue), length_arg: 0, offset: 0, max_length: 0)
        case .payload(let lengthArgument, let maxLength):
            tt_arg_layout(kind: UInt8(TT_ARG_PAYLOAD.rawValue), length_arg: UInt8(lengthArgument), offset: 0, max_length: UInt32(maxLength))
        case .raw(_, _, let offset, let pointee):
            pointee > 0
                ? tt_arg_layout(kind: UInt8(TT_ARG_BYTES.rawValue), length_arg: 0, offset: UInt16(offset), max_length: UInt32(pointee))
                : tt_arg_layout(kind: UInt8(TT_ARG_SCALAR.rawValue), length_arg: 0, offset: 0, max_length: 0)
        }
    }
}

/// Places strings and byte arrays in an event record's data area, where the
/// eBPF program accepts items starting below TT_DATA_OFFSET_LIMIT of at most
/// TT_DATA_ITEM_MAX bytes each.
private struct DataAreaAllocator {
    let probe: ProbeName
    var next = 0
    var largestItem = 0
    var lastOffset = 0

    mutating func allocate(_ size: Int, for field: String) throws(CaptureLayoutError) -> Int {
        guard size <= Int(TT_DATA_ITEM_MAX) else {
            throw CaptureLayoutError(probe: probe, reason: "\(field) needs \(size) bytes; an item holds at most \(TT_DATA_ITEM_MAX)")
        }
        guard next < Int(TT_DATA_OFFSET_LIMIT) else {
            throw CaptureLayoutError(probe: probe, reason: "strings and hashes need more than the \(TT_DATA_SIZE)-byte data area")
        }
        let offset = next
        next += size
        largestItem = max(largestItem, size)
        lastOffset = offset
        return offset
    }

    var fitsSmallRecord: Bool {
        largestItem <= Int(TT_SMALL_ITEM_MAX) && lastOffset < Int(TT_SMALL_OFFSET_LIMIT)
    }
}

/// A declaration that the eBPF program cannot follow.
public struct CaptureLayoutError: Error, Sendable, CustomStringConvertible {
    public var probe: ProbeName
    public var reason: String
    public var description: String { "cannot capture \(probe): \(reason)" }
}

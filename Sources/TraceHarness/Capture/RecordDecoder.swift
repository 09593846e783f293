import CBPFShim
import Foundation

/// Turns records from the capture program's ring buffer into events.
///
/// Payload chunks arrive before their event and are held until it comes. The
/// decoder is fed from one thread only (the ring-buffer reader).
struct RecordDecoder {
    /// What the decoder needs to know about each attached probe, by cookie.
    struct Probe: Sendable {
        var name: ProbeName
        var tracepoint: Tracepoint?
        var layout: CaptureLayout
    }

    /// Why a record could not be decoded (a bug, never expected).
    enum Failure: Error, Equatable {
        case truncatedRecord(size: Int)
        case unknownRecordType(UInt32)
        case unknownCookie(UInt32)
    }

    private struct PendingKey: Hashable {
        var cookie: UInt32
        var sequence: UInt64
    }

    let probes: [Probe]
    /// Added to a CLOCK_MONOTONIC timestamp to get seconds since 1970.
    let monotonicToEpochOffset: Double
    /// Events decoded per cookie.
    private(set) var delivered: [UInt64]
    /// Chunks whose event never arrived (the event's record was lost).
    private(set) var orphanedPayloads: UInt64 = 0
    private var pending: [PendingKey: [UInt8]] = [:]

    init(probes: [Probe], monotonicToEpochOffset: Double) {
        self.probes = probes
        self.monotonicToEpochOffset = monotonicToEpochOffset
        self.delivered = Array(repeating: 0, count: probes.count)
    }

    /// Decodes one record; returns the event it completes, if any.
    mutating func decode(_ record: UnsafeRawBufferPointer) throws(Failure) -> TraceEvent? {
        guard record.count >= MemoryLayout<tt_record_header>.size else { throw .truncatedRecord(size: record.count) }
        let header = record.loadUnaligned(as: tt_record_header.self)
        guard Int(header.cookie) < probes.count else { throw .unknownCookie(header.cookie) }
        let key = PendingKey(cookie: header.cookie, sequence: header.sequence)
        switch header.type {
        case UInt32(TT_RECORD_CHUNK.rawValue):
            let headerSize = MemoryLayout<tt_chunk_header>.size
            guard record.count >= headerSize else { throw .truncatedRecord(size: record.count) }
            let chunk = record.loadUnaligned(as: tt_chunk_header.self)
            let length = Int(chunk.length)
            guard record.count >= headerSize + length else { throw .truncatedRecord(size: record.count) }
            let bytes = UnsafeRawBufferPointer(rebasing: record[headerSize..<(headerSize + length)])
            if chunk.offset == 0 {
                pending[key] = Array(bytes)
            } else if pending[key]?.count == Int(chunk.offset) {
                pending[key]!.append(contentsOf: bytes)
            }
            return nil
        case UInt32(TT_RECORD_EVENT.rawValue):
            let payload = pending.removeValue(forKey: key)
            if !pending.isEmpty { discardOrphans(before: key) }
            return try decodeEvent(record, cookie: Int(header.cookie), payload: payload ?? [])
        default:
            throw .unknownRecordType(header.type)
        }
    }

    /// Drops chunks of hits of the same probe on the same CPU that are long
    /// past: their events were lost (counted by the kernel), so they can never
    /// complete. A margin of hits allows a preempted hit to finish late.
    private mutating func discardOrphans(before key: PendingKey) {
        let cpu = key.sequence >> 48
        let margin: UInt64 = 1024
        guard key.sequence & 0xffff_ffff_ffff >= margin else { return }
        let orphans = pending.keys.filter { $0.cookie == key.cookie && $0.sequence >> 48 == cpu && $0.sequence < key.sequence - margin }
        for orphan in orphans { pending.removeValue(forKey: orphan) }
        orphanedPayloads += UInt64(orphans.count)
    }

    /// Forgets chunks whose event will never come; returns how many.
    mutating func discardPendingPayloads() -> Int {
        let count = pending.count
        orphanedPayloads += UInt64(count)
        pending.removeAll()
        return count
    }

    private mutating func decodeEvent(_ record: UnsafeRawBufferPointer, cookie: Int, payload: [UInt8]) throws(Failure) -> TraceEvent {
        let probe = probes[cookie]
        let dataOffset = MemoryLayout<tt_event_record>.offset(of: \tt_event_record.data)!
        let dataSize = probe.layout.usesSmallRecord ? Int(TT_SMALL_DATA_SIZE) : Int(TT_DATA_SIZE)
        guard record.count >= dataOffset + dataSize else { throw .truncatedRecord(size: record.count) }
        // Read the fixed part through the small record type: both share it.
        let fixed = record.loadUnaligned(as: tt_small_event_record.self)
        let arguments = withUnsafeBytes(of: fixed.args) { Array($0.bindMemory(to: UInt64.self)) }
        let lengths = withUnsafeBytes(of: fixed.lengths) { Array($0.bindMemory(to: UInt16.self)) }
        let data = UnsafeRawBufferPointer(rebasing: record[dataOffset..<(dataOffset + dataSize)])

        var fields: [NamedValue] = []
        fields.reserveCapacity(probe.layout.slots.count)
        for (index, slot) in probe.layout.slots.enumerated() {
            let raw = arguments[index]
            let faulted = fixed.fault_mask & (1 << index) != 0
            let value: FieldValue
            switch slot {
            case .integer(let bytes, let signed):
                value = Self.integer(raw, bytes: bytes, signed: signed)
            case .bool:
                value = .bool(raw & 0xff != 0)
            case .string(let offset, let capacity):
                if faulted {
                    value = .unreadable(address: raw)
                } else {
                    let length = min(max(Int(lengths[index]) - 1, 0), capacity - 1, dataSize - offset)
                    let text = String(decoding: UnsafeRawBufferPointer(rebasing: data[offset..<(offset + length)]), as: UTF8.self)
                    value = .string(text, truncated: fixed.truncated_mask & (1 << index) != 0)
                }
            case .hash(let offset):
                value = faulted ? .unreadable(address: raw) : .hash(Hash256(bytes: Array(data[offset..<(offset + 32)])))
            case .payload(let lengthArgument, _):
                let declared = Self.integer(arguments[lengthArgument], bytes: 8, signed: false)
                var bytes = payload
                let deliveredBytes = Int(clamping: fixed.payload_delivered)
                if bytes.count > deliveredBytes { bytes.removeLast(bytes.count - deliveredBytes) }
                if case .unsigned(let length) = declared {
                    value = .payload(Payload(bytes: bytes, declaredLength: length))
                } else {
                    value = .payload(Payload(bytes: bytes, declaredLength: UInt64(bytes.count)))
                }
            case .raw(let bytes, let signed, let offset, let pointee):
                let number: UInt64
                switch Self.integer(raw, bytes: bytes, signed: signed) {
                case .signed(let signedValue): number = UInt64(bitPattern: signedValue)
                case .unsigned(let unsignedValue): number = unsignedValue
                default: number = raw
                }
                let pointed = pointee > 0 && !faulted ? Array(data[offset..<(offset + pointee)]) : nil
                value = .raw(value: number, size: bytes, signed: signed, pointee: pointed)
            }
            fields.append(NamedValue(name: probe.layout.names[index], value: value))
        }
        delivered[cookie] += 1
        return TraceEvent(
            probe: probe.name,
            tracepoint: probe.tracepoint,
            monotonicNanoseconds: fixed.timestamp_ns,
            date: Date(timeIntervalSince1970: Double(fixed.timestamp_ns) / 1e9 + monotonicToEpochOffset),
            pid: Int32(bitPattern: fixed.pid),
            tid: Int32(bitPattern: fixed.tid),
            fields: fields
        )
    }

    /// An argument value as the declaration types it: cut to `bytes` and
    /// extended by the declared sign.
    static func integer(_ raw: UInt64, bytes: Int, signed: Bool) -> FieldValue {
        let bits = UInt64(bytes * 8)
        guard bits < 64 else { return signed ? .signed(Int64(bitPattern: raw)) : .unsigned(raw) }
        let truncated = raw & ((1 << bits) - 1)
        guard signed else { return .unsigned(truncated) }
        let shift = 64 - bits
        return .signed(Int64(bitPattern: truncated << shift) >> Int64(shift))
    }
}

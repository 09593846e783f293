import CBPFShim
import Foundation

/// Turns records from the capture program's ring buffer into events, and
/// counts per site and per process what it delivered and what it could not
/// decode.
///
/// Payload chunks arrive before their event and are held until it comes. The
/// decoder is fed from one thread only (the ring-buffer reader).
struct RecordDecoder {
    /// What the decoder needs to know about each attached probe.
    struct Probe: Sendable {
        var name: ProbeName
        var tracepoint: Tracepoint?
        var layout: CaptureLayout
    }

    /// Why a record could not be decoded (a bug, never expected).
    enum Failure: Error, Equatable {
        case truncatedRecord(size: Int)
        case unknownRecordType(UInt32)
        case unknownSite(UInt32)
    }

    /// What the decoder delivered and failed to decode, per site.
    struct SiteCounts: Sendable, Equatable {
        /// Events decoded, by site index.
        var delivered: [UInt64]
        /// Records of a known site that could not be decoded, by site index.
        var failures: [UInt64]
        /// Records that could not be decoded and named no known site.
        var unattributedFailures: UInt64 = 0

        init(sites: Int) {
            delivered = Array(repeating: 0, count: sites)
            failures = Array(repeating: 0, count: sites)
        }
    }

    /// The decoder's counts: for the whole capture and per process.
    struct Counts: Sendable {
        var total: SiteCounts
        var processes: [Int32: SiteCounts] = [:]
    }

    private struct PendingKey: Hashable {
        var site: UInt32
        var sequence: UInt64
    }

    /// What decoding needs of one probe, in one object its sites share, so
    /// decoding a record retains one reference instead of a probe's parts.
    private final class Decoding: Sendable {
        let name: ProbeName
        let tracepoint: Tracepoint?
        let slots: [CaptureLayout.Slot]
        let names: [String]
        let dataSize: Int

        init(_ probe: Probe) {
            name = probe.name
            tracepoint = probe.tracepoint
            slots = probe.layout.slots
            names = probe.layout.names
            dataSize = probe.layout.usesSmallRecord ? Int(TT_SMALL_DATA_SIZE) : Int(TT_DATA_SIZE)
        }
    }

    let probes: [Probe]
    /// The probe index of each site index.
    let siteProbes: [Int]
    /// The decoding of each site index's probe.
    private let siteDecodings: [Decoding]
    /// Added to a CLOCK_MONOTONIC timestamp to get seconds since 1970.
    let monotonicToEpochOffset: Double
    private(set) var counts: Counts
    private var pending: [PendingKey: [UInt8]] = [:]
    /// The process of the previous record, whose counts are kept out of the
    /// dictionary while its records keep coming (most records are a run of
    /// one process's).
    private var currentPid: Int32?
    private var current: SiteCounts

    /// A decoder for `probes`, whose sites are numbered in `siteProbes`
    /// (site index → probe index); by default one site per probe.
    init(probes: [Probe], siteProbes: [Int]? = nil, monotonicToEpochOffset: Double) {
        self.probes = probes
        self.siteProbes = siteProbes ?? Array(probes.indices)
        let decodings = probes.map(Decoding.init)
        self.siteDecodings = self.siteProbes.map { decodings[$0] }
        self.monotonicToEpochOffset = monotonicToEpochOffset
        self.counts = Counts(total: SiteCounts(sites: self.siteProbes.count))
        self.current = SiteCounts(sites: self.siteProbes.count)
    }

    /// Events decoded per probe.
    var delivered: [UInt64] {
        var perProbe = [UInt64](repeating: 0, count: probes.count)
        for (site, count) in counts.total.delivered.enumerated() { perProbe[siteProbes[site]] += count }
        return perProbe
    }

    /// Chunks held for events that have not arrived yet.
    var pendingPayloads: Int { pending.count }

    /// The counts with the current process's folded in: what a reader
    /// publishes.
    var publishedCounts: Counts {
        var published = counts
        if let currentPid { published.processes[currentPid] = current }
        return published
    }

    /// Decodes one record, counting it; returns the event it completes, if
    /// any. A record that cannot be decoded is counted as a failure, for its
    /// process and site when its header names them.
    mutating func decodeCounting(_ record: UnsafeRawBufferPointer) -> TraceEvent? {
        do {
            return try decode(record)
        } catch {
            countFailure(error, record: record)
            return nil
        }
    }

    /// Counts a record that could not be decoded.
    mutating func countFailure(_ failure: Failure, record: UnsafeRawBufferPointer?) {
        guard let record, record.count >= MemoryLayout<tt_record_header>.size else {
            counts.total.unattributedFailures += 1
            return
        }
        let header = record.loadUnaligned(as: tt_record_header.self)
        let pid = Int32(bitPattern: header.pid)
        switchProcess(to: pid)
        if Int(header.site) < siteProbes.count {
            counts.total.failures[Int(header.site)] += 1
            current.failures[Int(header.site)] += 1
        } else {
            counts.total.unattributedFailures += 1
            current.unattributedFailures += 1
        }
    }

    /// Makes `pid`'s counts the current ones.
    private mutating func switchProcess(to pid: Int32) {
        guard pid != currentPid else { return }
        if let currentPid { counts.processes[currentPid] = current }
        current = counts.processes[pid] ?? SiteCounts(sites: siteProbes.count)
        currentPid = pid
    }

    /// Decodes one record; returns the event it completes, if any.
    mutating func decode(_ record: UnsafeRawBufferPointer) throws(Failure) -> TraceEvent? {
        guard record.count >= MemoryLayout<tt_record_header>.size else { throw .truncatedRecord(size: record.count) }
        let header = record.loadUnaligned(as: tt_record_header.self)
        guard Int(header.site) < siteProbes.count else { throw .unknownSite(header.site) }
        let key = PendingKey(site: header.site, sequence: header.sequence)
        switch header.type {
        case UInt32(TT_RECORD_CHUNK.rawValue):
            let headerSize = MemoryLayout<tt_chunk_header>.size
            guard record.count >= headerSize else { throw .truncatedRecord(size: record.count) }
            let chunk = record.loadUnaligned(as: tt_chunk_header.self)
            let length = Int(chunk.length)
            guard record.count >= headerSize + length else { throw .truncatedRecord(size: record.count) }
            let bytes = UnsafeRawBufferPointer(rebasing: record[headerSize..<(headerSize + length)])
            if chunk.offset == 0 {
                var whole: [UInt8] = []
                whole.reserveCapacity(max(Int(chunk.total), length))
                whole.append(contentsOf: bytes)
                pending[key] = whole
            } else if pending[key]?.count == Int(chunk.offset) {
                pending[key]!.append(contentsOf: bytes)
            }
            return nil
        case UInt32(TT_RECORD_EVENT.rawValue):
            var payload: [UInt8] = []
            if !pending.isEmpty {
                payload = pending.removeValue(forKey: key) ?? []
                if !pending.isEmpty { discardOrphans(before: key) }
            }
            let event = try decodeEvent(record, header: header, payload: payload)
            let site = Int(header.site)
            counts.total.delivered[site] += 1
            switchProcess(to: event.pid)
            current.delivered[site] += 1
            return event
        default:
            throw .unknownRecordType(header.type)
        }
    }

    /// Drops chunks of hits of the same site on the same CPU that are long
    /// past: their events were lost (counted by the kernel), so they can never
    /// complete. A margin of hits allows a preempted hit to finish late.
    private mutating func discardOrphans(before key: PendingKey) {
        let cpu = key.sequence >> 48
        let margin: UInt64 = 1024
        guard key.sequence & 0xffff_ffff_ffff >= margin else { return }
        let orphans = pending.keys.filter { $0.site == key.site && $0.sequence >> 48 == cpu && $0.sequence < key.sequence - margin }
        for orphan in orphans { pending.removeValue(forKey: orphan) }
    }

    private static let argumentsOffset = MemoryLayout<tt_small_event_record>.offset(of: \tt_small_event_record.args)!
    private static let lengthsOffset = MemoryLayout<tt_small_event_record>.offset(of: \tt_small_event_record.lengths)!
    private static let dataOffset = MemoryLayout<tt_event_record>.offset(of: \tt_event_record.data)!

    private func decodeEvent(_ record: UnsafeRawBufferPointer, header: tt_record_header, payload: [UInt8]) throws(Failure) -> TraceEvent {
        let probe = siteDecodings[Int(header.site)]
        let dataOffset = Self.dataOffset
        let dataSize = probe.dataSize
        guard record.count >= dataOffset + dataSize else { throw .truncatedRecord(size: record.count) }
        // The fixed part is shared by the small and the large record.
        let timestamp = record.loadUnaligned(fromByteOffset: MemoryLayout<tt_small_event_record>.offset(of: \tt_small_event_record.timestamp_ns)!, as: UInt64.self)
        let faultMask = record.loadUnaligned(fromByteOffset: MemoryLayout<tt_small_event_record>.offset(of: \tt_small_event_record.fault_mask)!, as: UInt16.self)
        let truncatedMask = record.loadUnaligned(fromByteOffset: MemoryLayout<tt_small_event_record>.offset(of: \tt_small_event_record.truncated_mask)!, as: UInt16.self)
        let payloadDelivered = record.loadUnaligned(fromByteOffset: MemoryLayout<tt_small_event_record>.offset(of: \tt_small_event_record.payload_delivered)!, as: UInt64.self)
        func argument(_ index: Int) -> UInt64 {
            record.loadUnaligned(fromByteOffset: Self.argumentsOffset + index * 8, as: UInt64.self)
        }
        func length(_ index: Int) -> Int {
            Int(record.loadUnaligned(fromByteOffset: Self.lengthsOffset + index * 2, as: UInt16.self))
        }
        let data = UnsafeRawBufferPointer(rebasing: record[dataOffset..<(dataOffset + dataSize)])

        let slots = probe.slots
        var fields: [NamedValue] = []
        fields.reserveCapacity(slots.count)
        for index in slots.indices {
            let slot = slots[index]
            let raw = argument(index)
            let faulted = faultMask & (1 << index) != 0
            let value: FieldValue
            switch slot {
            case .integer(let bytes, let signed):
                value = faulted ? .unreadable(address: raw) : Self.integer(raw, bytes: bytes, signed: signed)
            case .bool:
                value = faulted ? .unreadable(address: raw) : .bool(raw & 0xff != 0)
            case .string(let offset, let capacity):
                if faulted {
                    value = .unreadable(address: raw)
                } else {
                    let count = min(max(length(index) - 1, 0), capacity - 1, dataSize - offset)
                    let text = String(decoding: UnsafeRawBufferPointer(rebasing: data[offset..<(offset + count)]), as: UTF8.self)
                    value = .string(text, truncated: truncatedMask & (1 << index) != 0)
                }
            case .hash(let offset):
                value = faulted ? .unreadable(address: raw) : .hash(Hash256(bytes: Array(data[offset..<(offset + 32)])))
            case .payload(let lengthArgument, _):
                let declared = Self.integer(argument(lengthArgument), bytes: 8, signed: false)
                var bytes = payload
                let deliveredBytes = Int(clamping: payloadDelivered)
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
            fields.append(NamedValue(name: probe.names[index], value: value))
        }
        return TraceEvent(
            probe: probe.name,
            tracepoint: probe.tracepoint,
            monotonicNanoseconds: timestamp,
            date: Date(timeIntervalSince1970: Double(timestamp) / 1e9 + monotonicToEpochOffset),
            pid: Int32(bitPattern: header.pid),
            tid: Int32(bitPattern: header.tid),
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

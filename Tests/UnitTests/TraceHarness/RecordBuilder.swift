import CBPFShim
@testable import TraceHarness

/// Builds ring-buffer records as the capture program writes them; `cookie`
/// is the site index (one site per probe in these tests).
enum RecordBuilder {
    /// One argument's contents in an event record.
    struct Argument {
        var value: UInt64 = 0
        /// For strings: bytes read including the NUL; for byte arrays: bytes.
        var length: UInt16 = 0
        var faulted = false
        var truncated = false
    }

    /// An event record (small or large) with `arguments`, and `data` bytes
    /// written into the data area at the given offsets.
    static func event(
        cookie: UInt32, sequence: UInt64, small: Bool,
        timestamp: UInt64 = 1_000_000_000, pid: UInt32 = 4242, tid: UInt32 = 4243,
        arguments: [Argument], payloadDelivered: UInt64 = 0, data: [(offset: Int, bytes: [UInt8])] = []
    ) -> [UInt8] {
        var fault: UInt16 = 0
        var truncated: UInt16 = 0
        for (index, argument) in arguments.enumerated() {
            if argument.faulted { fault |= 1 << index }
            if argument.truncated { truncated |= 1 << index }
        }
        func fill<Record>(_ record: inout Record, args: WritableKeyPath<Record, (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)>,
                          lengths: WritableKeyPath<Record, (UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16)>) {
            withUnsafeMutableBytes(of: &record[keyPath: args]) { raw in
                for (index, argument) in arguments.enumerated() { raw.storeBytes(of: argument.value, toByteOffset: index * 8, as: UInt64.self) }
            }
            withUnsafeMutableBytes(of: &record[keyPath: lengths]) { raw in
                for (index, argument) in arguments.enumerated() { raw.storeBytes(of: argument.length, toByteOffset: index * 2, as: UInt16.self) }
            }
        }
        var bytes: [UInt8]
        if small {
            var record = tt_small_event_record()
            record.header = tt_record_header(type: UInt32(TT_RECORD_EVENT.rawValue), site: cookie, pid: pid, tid: tid, sequence: sequence)
            record.timestamp_ns = timestamp
            record.arg_count = UInt32(arguments.count)
            record.fault_mask = fault
            record.truncated_mask = truncated
            record.payload_delivered = payloadDelivered
            fill(&record, args: \.args, lengths: \.lengths)
            bytes = withUnsafeBytes(of: record) { Array($0) }
        } else {
            var record = tt_event_record()
            record.header = tt_record_header(type: UInt32(TT_RECORD_EVENT.rawValue), site: cookie, pid: pid, tid: tid, sequence: sequence)
            record.timestamp_ns = timestamp
            record.arg_count = UInt32(arguments.count)
            record.fault_mask = fault
            record.truncated_mask = truncated
            record.payload_delivered = payloadDelivered
            fill(&record, args: \.args, lengths: \.lengths)
            bytes = withUnsafeBytes(of: record) { Array($0) }
        }
        let dataOffset = MemoryLayout<tt_event_record>.offset(of: \tt_event_record.data)!
        for item in data {
            bytes.replaceSubrange((dataOffset + item.offset)..<(dataOffset + item.offset + item.bytes.count), with: item.bytes)
        }
        return bytes
    }

    /// A payload chunk record: header, then `bytes`.
    static func chunk(cookie: UInt32, sequence: UInt64, offset: UInt32, bytes: [UInt8], declaredLength: UInt32? = nil,
                      total: UInt32 = 0, pid: UInt32 = 4242) -> [UInt8] {
        let header = tt_chunk_header(
            header: tt_record_header(type: UInt32(TT_RECORD_CHUNK.rawValue), site: cookie, pid: pid, tid: pid, sequence: sequence),
            offset: offset,
            length: declaredLength ?? UInt32(bytes.count),
            total: total, reserved: 0)
        return withUnsafeBytes(of: header) { Array($0) } + bytes
    }

    /// A string argument's data as the program reads it: the bytes and a NUL.
    static func cString(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }
}

extension RecordDecoder {
    /// Decodes one record held in an array.
    mutating func feed(_ record: [UInt8]) throws -> TraceEvent? {
        try record.withUnsafeBytes { raw in try decode(raw) }
    }

    /// A decoder for catalogued tracepoints, cookie = index.
    static func forTracepoints(_ tracepoints: [Tracepoint], offset: Double = 1_700_000_000) throws -> RecordDecoder {
        let probes = try tracepoints.map { tracepoint in
            RecordDecoder.Probe(name: tracepoint.probe, tracepoint: tracepoint, layout: try CaptureLayout(tracepoint: tracepoint))
        }
        return RecordDecoder(probes: probes, monotonicToEpochOffset: offset)
    }
}

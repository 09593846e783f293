import CBPFShim
import Foundation

/// Times the decoder alone, without the kernel: the user-space share of a
/// capture's cost per event (`bench capture`).
public enum DecoderBenchmark {
    /// CPU nanoseconds per record to decode `records` records of
    /// validation:block_connected (a hash and five integers, the flood's
    /// probe) and read one field of each event, as a handler would.
    /// Returns nil if the records did not all decode (a bug).
    public static func nanosecondsPerEvent(records: Int) throws(CaptureLayoutError) -> Double? {
        let tracepoint = BlockConnected.tracepoint
        let layout = try CaptureLayout(tracepoint: tracepoint)
        var decoder = RecordDecoder(probes: [.init(name: tracepoint.probe, tracepoint: tracepoint, layout: layout)],
                                    monotonicToEpochOffset: 0)
        var record = tt_small_event_record()
        record.header = tt_record_header(type: UInt32(TT_RECORD_EVENT.rawValue), site: 0, pid: 1, tid: 1, sequence: 0)
        record.arg_count = 6
        let bytes = withUnsafeBytes(of: record) { Array($0) }
        var heights: Int64 = 0
        let start = cpuTime()
        bytes.withUnsafeBytes { raw in
            for _ in 0..<records {
                if let event = decoder.decodeCounting(raw), case .signed(let height)? = event["height"] {
                    heights &+= height
                }
            }
        }
        let elapsed = cpuTime() - start
        guard heights == 0, decoder.counts.total.delivered == [UInt64(records)] else { return nil }
        return elapsed * 1e9 / Double(records)
    }

    private static func cpuTime() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}

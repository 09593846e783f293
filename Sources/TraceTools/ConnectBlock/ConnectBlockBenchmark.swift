import Foundation
import TraceHarness

/// `tapyrus-trace connectblock`: benchmarks ConnectBlock between two heights
/// (the seed's `connectblock_benchmark.bt`), typically during `-reindex`.
///
/// It prints a progress line each second, every block in range whose
/// connection took at least the threshold, and at the end the total time and
/// a histogram of durations in milliseconds, drawn as bpftrace draws `hist()`.
public struct ConnectBlockBenchmark: TraceTool {
    /// Blocks, transactions, inputs and sigops summed over some blocks.
    public struct Counts: Sendable, Hashable {
        public var blocks: Int64 = 0
        public var transactions: Int64 = 0
        public var inputs: Int64 = 0
        public var sigops: Int64 = 0

        mutating func add(_ block: BlockConnected) {
            blocks += 1
            transactions += Int64(truncatingIfNeeded: block.transactions)
            inputs += Int64(block.inputs)
            sigops += block.sigops
        }
    }

    public let startHeight: Int32
    public let endHeight: Int32
    public let thresholdMilliseconds: Int64
    /// JSON Lines instead of text.
    public var json: Bool
    public let probes = [BlockConnected.tracepoint.probe]
    public var wantsTicks: Bool { true }

    /// Every block connected in range so far.
    public private(set) var total = Counts()
    /// Blocks connected since the last tick.
    public private(set) var interval = Counts()
    /// The heights in range seen so far.
    public private(set) var heights: Set<Int32> = []
    /// Every block connected in range, in the order connected (for storing
    /// the run).
    public private(set) var blocks: [BlockConnected] = []
    /// Block counts per duration bucket (see ``Histogram``).
    public private(set) var durations = Histogram()
    /// When the first block in range began connecting (monotonic ns).
    public private(set) var startedNanoseconds: UInt64?
    /// When the last block in range finished connecting (monotonic ns).
    public private(set) var lastNanoseconds: UInt64?
    public private(set) var lastHeight: Int32?
    public private(set) var finishedReason: String?

    public init(startHeight: Int32, endHeight: Int32, thresholdMilliseconds: Int64, json: Bool = false) {
        self.startHeight = startHeight
        self.endHeight = endHeight
        self.thresholdMilliseconds = thresholdMilliseconds
        self.json = json
    }

    public func header() -> [String] {
        if json {
            return [ToolText.object([("event", ToolText.string("start")), ("start_height", "\(startHeight)"),
                                     ("end_height", "\(endHeight)"), ("threshold_ms", "\(thresholdMilliseconds)")])]
        }
        return ["ConnectBlock benchmark between height \(startHeight) and \(endHeight) inclusive"]
    }

    public mutating func consume(_ event: TraceEvent) -> [String] {
        guard finishedReason == nil else { return [] }
        let block: BlockConnected
        do {
            guard let decoded = try event.as(BlockConnected.self) else { return [] }
            block = decoded
        } catch {
            return [ToolText.undecodable(error, json: json)]
        }
        guard block.height >= startHeight, block.height <= endHeight else { return [] }
        var out: [String] = []
        if startedNanoseconds == nil {
            let duration = UInt64(max(0, block.durationMicroseconds)) * 1000
            startedNanoseconds = event.monotonicNanoseconds >= duration ? event.monotonicNanoseconds - duration : event.monotonicNanoseconds
            if !json { out.append("Starting Connect Block Benchmark between height \(startHeight) and \(endHeight).") }
        }
        lastNanoseconds = event.monotonicNanoseconds
        lastHeight = block.height
        total.add(block)
        interval.add(block)
        heights.insert(block.height)
        blocks.append(block)
        durations.record(block.durationMicroseconds / 1000)
        if block.durationMicroseconds >= thresholdMilliseconds * 1000 {
            out.append(slowBlockLine(block))
        }
        if block.height >= endHeight {
            finishedReason = "height \(endHeight) connected"
        }
        return out
    }

    /// `Block 12 (hash)    1 tx     1 ins     1 sigops took    0.250 ms`, or a JSON object.
    public func slowBlockLine(_ block: BlockConnected) -> String {
        if json {
            return ToolText.object([("event", ToolText.string("block")), ("height", "\(block.height)"), ("hash", ToolText.string(block.hash.hex)),
                                    ("transactions", "\(block.transactions)"), ("inputs", "\(block.inputs)"), ("sigops", "\(block.sigops)"),
                                    ("duration_us", "\(block.durationMicroseconds)")])
        }
        let milliseconds = String(format: "%8.3f", Double(block.durationMicroseconds) / 1000)
        return "Block \(block.height) (\(block.hash.hex)) \(ToolText.right("\(block.transactions)", 4)) tx \(ToolText.right("\(block.inputs)", 5)) ins \(ToolText.right("\(block.sigops)", 5)) sigops took \(milliseconds) ms"
    }

    /// The progress line for the last second, once the benchmark has started.
    public mutating func tick(monotonicNanoseconds: UInt64) -> [String] {
        guard startedNanoseconds != nil, finishedReason == nil || interval.blocks > 0 else { return [] }
        defer { interval = Counts() }
        return [Self.benchLine(interval, height: lastHeight ?? startHeight, json: json)]
    }

    /// `BENCH   62 blk/s     74 tx/s      74 inputs/s       62 sigops/s (height 30)`.
    public static func benchLine(_ counts: Counts, height: Int32, json: Bool = false) -> String {
        if json {
            return ToolText.object([("event", ToolText.string("bench")), ("blocks", "\(counts.blocks)"), ("transactions", "\(counts.transactions)"),
                                    ("inputs", "\(counts.inputs)"), ("sigops", "\(counts.sigops)"), ("height", "\(height)")])
        }
        return "BENCH \(ToolText.right("\(counts.blocks)", 4)) blk/s \(ToolText.right("\(counts.transactions)", 6)) tx/s \(ToolText.right("\(counts.inputs)", 7)) inputs/s \(ToolText.right("\(counts.sigops)", 8)) sigops/s (height \(height))"
    }

    /// Milliseconds from the start of the first block in range to the end of the last.
    public var tookMilliseconds: UInt64 {
        guard let startedNanoseconds, let lastNanoseconds, lastNanoseconds >= startedNanoseconds else { return 0 }
        return (lastNanoseconds - startedNanoseconds) / 1_000_000
    }

    /// The heights in range not seen.
    public var missingHeights: [Int32] {
        guard endHeight >= startHeight else { return [] }
        let last = finishedReason == nil ? (lastHeight ?? startHeight - 1) : endHeight
        guard last >= startHeight else { return [] }
        return (startHeight...last).filter { !heights.contains($0) }
    }

    /// The total, the heights seen, and the histogram.
    public mutating func finish() -> [String] {
        let reached = finishedReason != nil
        let last = lastHeight.map { "\($0)" } ?? "none"
        if json {
            let buckets = durations.buckets.map {
                ToolText.object([("bucket", ToolText.string($0.label)), ("low", "\($0.low)"), ("high", $0.high.map { "\($0)" } ?? "null"), ("count", "\($0.count)")])
            }
            return [ToolText.object([
                ("event", ToolText.string("end")), ("took_ms", "\(tookMilliseconds)"), ("complete", "\(reached)"),
                ("blocks", "\(total.blocks)"), ("transactions", "\(total.transactions)"), ("inputs", "\(total.inputs)"), ("sigops", "\(total.sigops)"),
                ("last_height", lastHeight.map { "\($0)" } ?? "null"),
                ("missing_heights", "[" + missingHeights.map { "\($0)" }.joined(separator: ",") + "]"),
                ("durations_ms", "[" + buckets.joined(separator: ",") + "]"),
            ])]
        }
        var out = [""]
        if reached {
            out.append("Took \(tookMilliseconds) ms to connect the blocks between height \(startHeight) and \(endHeight).")
        } else if startedNanoseconds == nil {
            out.append("No block between height \(startHeight) and \(endHeight) was connected.")
        } else {
            out.append("Took \(tookMilliseconds) ms to connect the blocks between height \(startHeight) and \(last) (stopped before \(endHeight)).")
        }
        let missing = missingHeights
        if startedNanoseconds != nil {
            out.append("\(total.blocks) blocks, \(total.transactions) transactions, \(total.inputs) inputs, \(total.sigops) sigops; "
                       + (missing.isEmpty ? "no height missing" : "heights missing: \(missing.map { "\($0)" }.joined(separator: ", "))"))
        }
        out.append("")
        out.append("Histogram of block connection times in milliseconds (ms).")
        out.append("@durations: ")
        out.append(contentsOf: durations.lines())
        return out
    }
}

/// A power-of-two histogram drawn like bpftrace's `hist()`.
public struct Histogram: Sendable, Hashable {
    /// One bucket: values in `low..<high` (`high` nil for the negative bucket's open end).
    public struct Bucket: Sendable, Hashable {
        public var label: String
        public var low: Int64
        public var high: Int64?
        public var count: UInt64
    }

    /// Counts by bucket index: -1 negative, 0 for 0, 1 for 1, k+1 for [2^k, 2^(k+1)).
    public private(set) var counts: [Int: UInt64] = [:]

    public init() {}

    /// The bucket index of `value`.
    public static func index(of value: Int64) -> Int {
        if value < 0 { return -1 }
        if value < 2 { return Int(value) }
        return (63 - value.leadingZeroBitCount) + 1
    }

    public mutating func record(_ value: Int64) {
        counts[Self.index(of: value), default: 0] += 1
    }

    /// A power of two with bpftrace's suffix: 512, 1K, 2M, 4G.
    static func shortNumber(_ value: Int64) -> String {
        for (shift, suffix) in [(60, "E"), (50, "P"), (40, "T"), (30, "G"), (20, "M"), (10, "K")] where value >= Int64(1) << shift && value % (Int64(1) << shift) == 0 {
            return "\(value >> shift)\(suffix)"
        }
        return "\(value)"
    }

    /// The buckets from the lowest to the highest used, empty ones between included.
    public var buckets: [Bucket] {
        guard let lowest = counts.keys.min(), let highest = counts.keys.max() else { return [] }
        return (lowest...highest).map { index in
            let count = counts[index] ?? 0
            switch index {
            case -1: return Bucket(label: "(..., 0)", low: Int64.min, high: 0, count: count)
            case 0: return Bucket(label: "[0]", low: 0, high: 1, count: count)
            case 1: return Bucket(label: "[1]", low: 1, high: 2, count: count)
            default:
                let low = Int64(1) << (index - 1)
                let high: Int64? = index - 1 < 62 ? Int64(1) << index : nil
                return Bucket(label: "[\(Self.shortNumber(low)), \(high.map(Self.shortNumber) ?? "...")" + ")", low: low, high: high, count: count)
            }
        }
    }

    /// The drawn lines: label, count and a bar of up to 52 `@`.
    public func lines() -> [String] {
        let buckets = self.buckets
        let largest = buckets.map(\.count).max() ?? 0
        return buckets.map { bucket in
            let width = largest == 0 ? 0 : Int(bucket.count * 52 / largest)
            let bar = String(repeating: "@", count: width) + String(repeating: " ", count: 52 - width)
            return ToolText.left(bucket.label, 16) + ToolText.right("\(bucket.count)", 8) + " |" + bar + "|"
        }
    }
}

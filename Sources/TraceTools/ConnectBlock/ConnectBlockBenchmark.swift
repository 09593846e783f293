import Foundation
import TraceHarness

/// One process's ConnectBlock benchmark between two heights: the blocks it
/// connected in range, their counts, durations and histogram, and whether it
/// connected the end height or exited first.
///
/// ``ConnectBlockBenchmarks`` keeps one per traced process and prints them.
public struct ConnectBlockBenchmark: Sendable {
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

    /// The process benchmarked.
    public let pid: Int32
    public let startHeight: Int32
    public let endHeight: Int32
    public let thresholdMilliseconds: Int64
    /// Every block connected in range so far.
    public private(set) var total = Counts()
    /// Blocks connected since the last tick.
    public private(set) var interval = Counts()
    /// The heights in range seen so far.
    public private(set) var heights: Set<Int32> = []
    /// Every block connected in range, in the order connected (for storing the run).
    public private(set) var blocks: [BlockConnected] = []
    /// Block counts per duration bucket (see ``Histogram``).
    public private(set) var durations = Histogram()
    /// When the first block in range began connecting (monotonic ns).
    public private(set) var startedNanoseconds: UInt64?
    /// When the last block in range finished connecting (monotonic ns).
    public private(set) var lastNanoseconds: UInt64?
    public private(set) var lastHeight: Int32?
    /// Whether the end height was connected; no block is recorded after it.
    public private(set) var isComplete = false
    /// Whether the process was seen to exit before connecting the end height.
    public private(set) var processExited = false

    public init(pid: Int32, startHeight: Int32, endHeight: Int32, thresholdMilliseconds: Int64) {
        self.pid = pid
        self.startHeight = startHeight
        self.endHeight = endHeight
        self.thresholdMilliseconds = thresholdMilliseconds
    }

    /// Whether the benchmark waits for no more blocks: it connected the end
    /// height, or its process exited.
    public var isOver: Bool { isComplete || processExited }

    /// Whether `block` is in range and taken (not after the end height was connected).
    public func accepts(_ block: BlockConnected) -> Bool {
        !isComplete && block.height >= startHeight && block.height <= endHeight
    }

    /// Records a block in range that finished connecting at `nanoseconds`
    /// (monotonic); returns whether it took at least the threshold.
    @discardableResult
    public mutating func record(_ block: BlockConnected, at nanoseconds: UInt64) -> Bool {
        guard accepts(block) else { return false }
        if startedNanoseconds == nil {
            let duration = UInt64(max(0, block.durationMicroseconds)) * 1000
            startedNanoseconds = nanoseconds >= duration ? nanoseconds - duration : nanoseconds
        }
        lastNanoseconds = nanoseconds
        lastHeight = block.height
        total.add(block)
        interval.add(block)
        heights.insert(block.height)
        blocks.append(block)
        durations.record(block.durationMicroseconds / 1000)
        if block.height >= endHeight { isComplete = true }
        return block.durationMicroseconds >= thresholdMilliseconds * 1000
    }

    /// The blocks counted since the last call, which starts a new interval.
    mutating func takeInterval() -> Counts {
        defer { interval = Counts() }
        return interval
    }

    /// Marks the process as exited (no effect once the end height is connected).
    mutating func markExited() {
        if !isComplete { processExited = true }
    }

    /// Milliseconds from the start of the first block in range to the end of the last.
    public var tookMilliseconds: UInt64 {
        guard let startedNanoseconds, let lastNanoseconds, lastNanoseconds >= startedNanoseconds else { return 0 }
        return (lastNanoseconds - startedNanoseconds) / 1_000_000
    }

    /// The heights in range not seen.
    public var missingHeights: [Int32] {
        guard endHeight >= startHeight else { return [] }
        let last = isComplete ? endHeight : (lastHeight ?? startHeight - 1)
        guard last >= startHeight else { return [] }
        return (startHeight...last).filter { !heights.contains($0) }
    }
}

/// `tapyrus-trace connectblock`: benchmarks ConnectBlock between two heights
/// (the seed's `connectblock_benchmark.bt`), typically during `-reindex`, one
/// benchmark per traced process.
///
/// A process's benchmark begins with its first block in range. Each prints a
/// progress line each second, every block in range whose connection took at
/// least the threshold, and once its end height is connected (or at the end
/// of the capture) its total time and a histogram of its durations in
/// milliseconds, drawn as bpftrace draws `hist()`: two nodes' blocks are never
/// counted together. With a PID column every line starts with the process's
/// pid; every JSON object carries `pid`.
///
/// The tool is done once every benchmark begun is over: its end height
/// connected, or its process exited. A process whose first block in range
/// comes after that is not waited for.
public struct ConnectBlockBenchmarks: TraceTool {
    public let startHeight: Int32
    public let endHeight: Int32
    public let thresholdMilliseconds: Int64
    /// JSON Lines instead of text.
    public var json: Bool
    /// Text lines start with the process's pid (see ``PIDColumn``).
    public var pidColumn: Bool
    public let probes = [BlockConnected.tracepoint.probe]
    public var wantsTicks: Bool { true }

    /// The benchmarks, in the order their processes connected a first block in range.
    public private(set) var benchmarks: [ConnectBlockBenchmark] = []
    private var indexByPID: [Int32: Int] = [:]
    /// The benchmarks whose closing lines were printed, by pid.
    private var closed: Set<Int32> = []
    public private(set) var finishedReason: String?

    public init(startHeight: Int32, endHeight: Int32, thresholdMilliseconds: Int64, json: Bool = false, pidColumn: Bool = false) {
        self.startHeight = startHeight
        self.endHeight = endHeight
        self.thresholdMilliseconds = thresholdMilliseconds
        self.json = json
        self.pidColumn = pidColumn
    }

    /// The benchmark of process `pid`, empty if it connected no block in range.
    public func benchmark(of pid: Int32) -> ConnectBlockBenchmark {
        indexByPID[pid].map { benchmarks[$0] }
            ?? ConnectBlockBenchmark(pid: pid, startHeight: startHeight, endHeight: endHeight, thresholdMilliseconds: thresholdMilliseconds)
    }

    public func header() -> [String] {
        json ? [] : ["ConnectBlock benchmark between height \(startHeight) and \(endHeight) inclusive"
                     + (pidColumn ? ", one per process" : "")]
    }

    public mutating func consume(_ event: TraceEvent) -> [String] {
        let block: BlockConnected
        do {
            guard let decoded = try event.as(BlockConnected.self) else { return [] }
            block = decoded
        } catch {
            return [ToolText.undecodable(error, event: event, json: json, pidColumn: pidColumn)]
        }
        guard block.height >= startHeight, block.height <= endHeight else { return [] }
        var out: [String] = []
        let index: Int
        if let known = indexByPID[event.pid] {
            index = known
        } else {
            // Once done, the events still drained only finish the benchmarks begun.
            guard finishedReason == nil else { return [] }
            index = benchmarks.count
            indexByPID[event.pid] = index
            benchmarks.append(ConnectBlockBenchmark(pid: event.pid, startHeight: startHeight, endHeight: endHeight,
                                                    thresholdMilliseconds: thresholdMilliseconds))
            out.append(startLine(pid: event.pid))
        }
        guard benchmarks[index].accepts(block) else { return out }
        if benchmarks[index].record(block, at: event.monotonicNanoseconds) {
            out.append(slowBlockLine(block, pid: event.pid))
        }
        if benchmarks[index].isComplete {
            out += close(index)
            updateFinished()
        }
        return out
    }

    /// The progress line of each benchmark still going, for the last second.
    public mutating func tick(monotonicNanoseconds: UInt64) -> [String] {
        benchmarks.indices.flatMap { index -> [String] in
            guard !closed.contains(benchmarks[index].pid), !benchmarks[index].processExited || benchmarks[index].interval.blocks > 0 else { return [] }
            return [benchLine(for: index)]
        }
    }

    /// Marks `pid`'s benchmark, if any, as over; the tool is done once all are.
    public mutating func processExited(_ pid: Int32) -> [String] {
        guard let index = indexByPID[pid] else { return [] }
        benchmarks[index].markExited()
        updateFinished()
        return []
    }

    /// The closing lines of every benchmark not closed yet; a line saying so
    /// when no process connected a block in range.
    public mutating func finish() -> [String] {
        guard !benchmarks.isEmpty else { return noBlockLines() }
        return benchmarks.indices.flatMap { index in
            closed.contains(benchmarks[index].pid) ? [] : close(index)
        }
    }

    private mutating func updateFinished() {
        guard finishedReason == nil, !benchmarks.isEmpty, benchmarks.allSatisfy(\.isOver) else { return }
        let complete = benchmarks.filter(\.isComplete).map(\.pid)
        let exited = benchmarks.filter(\.processExited).map(\.pid)
        func processes(_ pids: [Int32]) -> String {
            "process\(pids.count == 1 ? "" : "es") " + pids.map(String.init).joined(separator: ", ")
        }
        var parts: [String] = []
        if !complete.isEmpty {
            parts.append(benchmarks.count == 1 ? "height \(endHeight) connected" : "height \(endHeight) connected by \(processes(complete))")
        }
        if !exited.isEmpty { parts.append("\(processes(exited)) exited before height \(endHeight)") }
        finishedReason = parts.joined(separator: "; ")
    }

    /// The benchmark's last progress line (when blocks were counted since the
    /// last tick), then its total and histogram.
    private mutating func close(_ index: Int) -> [String] {
        closed.insert(benchmarks[index].pid)
        let pending = benchmarks[index].interval.blocks > 0 ? [benchLine(for: index)] : []
        return pending + endLines(benchmarks[index])
    }

    private func labelled(_ lines: [String], pid: Int32) -> [String] {
        lines.map { ToolText.labelled($0, pid: pid, shown: pidColumn) }
    }

    /// `Starting Connect Block Benchmark between height 1 and 30.`, or a JSON `start` object.
    func startLine(pid: Int32) -> String {
        if json {
            return ToolText.object([("event", ToolText.string("start")), ("pid", "\(pid)"), ("start_height", "\(startHeight)"),
                                    ("end_height", "\(endHeight)"), ("threshold_ms", "\(thresholdMilliseconds)")])
        }
        return ToolText.labelled("Starting Connect Block Benchmark between height \(startHeight) and \(endHeight).", pid: pid, shown: pidColumn)
    }

    /// `Block 12 (hash)    1 tx     1 ins     1 sigops took    0.250 ms`, or a JSON object.
    public func slowBlockLine(_ block: BlockConnected, pid: Int32) -> String {
        if json {
            return ToolText.object([("event", ToolText.string("block")), ("pid", "\(pid)"), ("height", "\(block.height)"), ("hash", ToolText.string(block.hash.hex)),
                                    ("transactions", "\(block.transactions)"), ("inputs", "\(block.inputs)"), ("sigops", "\(block.sigops)"),
                                    ("duration_us", "\(block.durationMicroseconds)")])
        }
        let milliseconds = String(format: "%8.3f", Double(block.durationMicroseconds) / 1000)
        let text = "Block \(block.height) (\(block.hash.hex)) \(ToolText.right("\(block.transactions)", 4)) tx \(ToolText.right("\(block.inputs)", 5)) ins \(ToolText.right("\(block.sigops)", 5)) sigops took \(milliseconds) ms"
        return ToolText.labelled(text, pid: pid, shown: pidColumn)
    }

    private mutating func benchLine(for index: Int) -> String {
        let counts = benchmarks[index].takeInterval()
        let benchmark = benchmarks[index]
        return ToolText.labelled(Self.benchLine(counts, height: benchmark.lastHeight ?? startHeight, pid: benchmark.pid, json: json),
                                 pid: benchmark.pid, shown: pidColumn && !json)
    }

    /// `BENCH   62 blk/s     74 tx/s      74 inputs/s       62 sigops/s (height 30)`, or a JSON `bench` object.
    public static func benchLine(_ counts: ConnectBlockBenchmark.Counts, height: Int32, pid: Int32, json: Bool = false) -> String {
        if json {
            return ToolText.object([("event", ToolText.string("bench")), ("pid", "\(pid)"), ("blocks", "\(counts.blocks)"), ("transactions", "\(counts.transactions)"),
                                    ("inputs", "\(counts.inputs)"), ("sigops", "\(counts.sigops)"), ("height", "\(height)")])
        }
        return "BENCH \(ToolText.right("\(counts.blocks)", 4)) blk/s \(ToolText.right("\(counts.transactions)", 6)) tx/s \(ToolText.right("\(counts.inputs)", 7)) inputs/s \(ToolText.right("\(counts.sigops)", 8)) sigops/s (height \(height))"
    }

    /// One benchmark's total, heights seen and histogram (a JSON `end` object).
    func endLines(_ benchmark: ConnectBlockBenchmark) -> [String] {
        let last = benchmark.lastHeight.map { "\($0)" } ?? "none"
        if json {
            let buckets = benchmark.durations.buckets.map {
                ToolText.object([("bucket", ToolText.string($0.label)), ("low", "\($0.low)"), ("high", $0.high.map { "\($0)" } ?? "null"), ("count", "\($0.count)")])
            }
            let total = benchmark.total
            return [ToolText.object([
                ("event", ToolText.string("end")), ("pid", "\(benchmark.pid)"), ("took_ms", "\(benchmark.tookMilliseconds)"),
                ("complete", "\(benchmark.isComplete)"), ("process_exited", "\(benchmark.processExited)"),
                ("blocks", "\(total.blocks)"), ("transactions", "\(total.transactions)"), ("inputs", "\(total.inputs)"), ("sigops", "\(total.sigops)"),
                ("last_height", benchmark.lastHeight.map { "\($0)" } ?? "null"),
                ("missing_heights", "[" + benchmark.missingHeights.map { "\($0)" }.joined(separator: ",") + "]"),
                ("durations_ms", "[" + buckets.joined(separator: ",") + "]"),
            ])]
        }
        var out = [""]
        if benchmark.isComplete {
            out.append("Took \(benchmark.tookMilliseconds) ms to connect the blocks between height \(startHeight) and \(endHeight).")
        } else {
            let why = benchmark.processExited ? "process exited before \(endHeight)" : "stopped before \(endHeight)"
            out.append("Took \(benchmark.tookMilliseconds) ms to connect the blocks between height \(startHeight) and \(last) (\(why)).")
        }
        let missing = benchmark.missingHeights
        let total = benchmark.total
        out.append("\(total.blocks) blocks, \(total.transactions) transactions, \(total.inputs) inputs, \(total.sigops) sigops; "
                   + (missing.isEmpty ? "no height missing" : "heights missing: \(missing.map { "\($0)" }.joined(separator: ", "))"))
        out.append("")
        out.append("Histogram of block connection times in milliseconds (ms).")
        out.append("@durations: ")
        out.append(contentsOf: benchmark.durations.lines())
        return labelled(out, pid: benchmark.pid)
    }

    /// What the end says when no process connected a block in range.
    private func noBlockLines() -> [String] {
        if json {
            return [ToolText.object([("event", ToolText.string("end")), ("pid", "null"), ("took_ms", "0"), ("complete", "false"),
                                     ("process_exited", "false"), ("blocks", "0"), ("transactions", "0"), ("inputs", "0"), ("sigops", "0"),
                                     ("last_height", "null"), ("missing_heights", "[]"), ("durations_ms", "[]")])]
        }
        return ["", "No block between height \(startHeight) and \(endHeight) was connected."]
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

import Foundation

/// The paired percentile bootstrap over heights: each resample draws as many
/// heights as were paired, with replacement, keeping each height's baseline
/// and candidate together, and recomputes the three ratio estimates.
///
/// A resample is represented by how often it drew each height, so medians
/// come from one pass over orders sorted once, not from sorting every
/// resample: O(heights) per resample.
struct PairedBootstrap {
    /// The estimates of every resample, unsorted.
    struct Replicates {
        /// exp(median of per-height log-ratios).
        var medianRatio: [Double] = []
        /// median(candidate) / median(baseline).
        var ratioOfMedians: [Double] = []
        /// Σ candidate / Σ baseline.
        var totalRatio: [Double] = []
    }

    var baseline: [Double]
    var candidate: [Double]
    var logRatios: [Double]

    init(baseline: [Double], candidate: [Double]) {
        precondition(baseline.count == candidate.count && !baseline.isEmpty)
        self.baseline = baseline
        self.candidate = candidate
        logRatios = zip(candidate, baseline).map { log($0 / $1) }
    }

    func run(resamples: Int, seed: UInt64) -> Replicates {
        let n = baseline.count
        let ratioOrder = Self.order(logRatios), baselineOrder = Self.order(baseline), candidateOrder = Self.order(candidate)
        var generator = Xoshiro256StarStar(seed: seed)
        var replicates = Replicates()
        replicates.medianRatio.reserveCapacity(resamples)
        replicates.ratioOfMedians.reserveCapacity(resamples)
        replicates.totalRatio.reserveCapacity(resamples)
        // Raw buffers throughout: this loop is the whole cost of a comparison,
        // and it must stay fast in debug builds (the tests run it a few
        // hundred thousand times).
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: n)
        defer { counts.deallocate() }
        let orders = UnsafeMutableBufferPointer<Int>.allocate(capacity: 3 * n)
        defer { orders.deallocate() }
        _ = orders.initialize(from: ratioOrder + baselineOrder + candidateOrder)
        let ratios = UnsafeBufferPointer(start: orders.baseAddress!, count: n)
        let baselines = UnsafeBufferPointer(start: orders.baseAddress! + n, count: n)
        let candidates = UnsafeBufferPointer(start: orders.baseAddress! + 2 * n, count: n)
        let drawn = UnsafeBufferPointer(counts)
        baseline.withUnsafeBufferPointer { b in
            candidate.withUnsafeBufferPointer { c in
                logRatios.withUnsafeBufferPointer { d in
                    for _ in 0..<resamples {
                        counts.update(repeating: 0)
                        var sumBaseline = 0.0, sumCandidate = 0.0
                        var draw = 0
                        while draw < n {  // (while loops: far faster than iterators unoptimized)
                            let i = generator.index(below: n)
                            counts[i] += 1
                            sumBaseline += b[i]
                            sumCandidate += c[i]
                            draw += 1
                        }
                        replicates.medianRatio.append(exp(Self.weightedMedian(d, ratios, drawn)))
                        replicates.ratioOfMedians.append(
                            Self.weightedMedian(c, candidates, drawn) / Self.weightedMedian(b, baselines, drawn))
                        replicates.totalRatio.append(sumCandidate / sumBaseline)
                    }
                }
            }
        }
        return replicates
    }

    /// The indices of `values` in ascending order of value.
    private static func order(_ values: [Double]) -> [Int] {
        values.indices.sorted { values[$0] < values[$1] }
    }

    /// The median of a resample given by `counts` (how often each index was
    /// drawn; they sum to `values.count`), visiting `values` in `order`.
    private static func weightedMedian(_ values: UnsafeBufferPointer<Double>, _ order: UnsafeBufferPointer<Int>,
                                       _ counts: UnsafeBufferPointer<Int>) -> Double {
        let n = values.count
        let lowPosition = (n - 1) / 2, highPosition = n / 2  // 0-based ranks of the middle value(s)
        var seen = 0
        var low = Double.nan
        var k = 0
        while k < n {
            let index = order[k]
            k += 1
            let drawn = counts[index]
            if drawn == 0 { continue }
            seen += drawn
            if low.isNaN, seen > lowPosition { low = values[index] }
            if seen > highPosition { return (low + values[index]) / 2 }
        }
        return low
    }
}

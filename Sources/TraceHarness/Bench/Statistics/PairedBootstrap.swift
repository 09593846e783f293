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
        var counts = [Int](repeating: 0, count: n)
        baseline.withUnsafeBufferPointer { b in
            candidate.withUnsafeBufferPointer { c in
                logRatios.withUnsafeBufferPointer { d in
                    counts.withUnsafeMutableBufferPointer { counts in
                        for _ in 0..<resamples {
                            for i in 0..<n { counts[i] = 0 }
                            var sumBaseline = 0.0, sumCandidate = 0.0
                            for _ in 0..<n {
                                let i = generator.index(below: n)
                                counts[i] += 1
                                sumBaseline += b[i]
                                sumCandidate += c[i]
                            }
                            let counted = UnsafeBufferPointer(counts)
                            replicates.medianRatio.append(exp(Self.weightedMedian(d, ratioOrder, counted)))
                            replicates.ratioOfMedians.append(
                                Self.weightedMedian(c, candidateOrder, counted) / Self.weightedMedian(b, baselineOrder, counted))
                            replicates.totalRatio.append(sumCandidate / sumBaseline)
                        }
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
    private static func weightedMedian(_ values: UnsafeBufferPointer<Double>, _ order: [Int], _ counts: UnsafeBufferPointer<Int>) -> Double {
        let n = values.count
        let lowPosition = (n - 1) / 2, highPosition = n / 2  // 0-based ranks of the middle value(s)
        var seen = 0
        var low = Double.nan
        return order.withUnsafeBufferPointer { order in
            for index in order {
                let drawn = counts[index]
                if drawn == 0 { continue }
                seen += drawn
                if low.isNaN, seen > lowPosition { low = values[index] }
                if seen > highPosition { return (low + values[index]) / 2 }
            }
            return low
        }
    }
}

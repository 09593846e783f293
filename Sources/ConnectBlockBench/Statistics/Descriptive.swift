import Foundation

/// Order statistics shared by the comparison, the bootstrap and the tests.
public enum Descriptive {
    /// The median; the mean of the two middle values for an even count.
    /// `values` must not be empty.
    public static func median(_ values: [Double]) -> Double {
        precondition(!values.isEmpty, "median of no values")
        return medianOfSorted(values.sorted())
    }

    /// The median of values already sorted ascending.
    public static func medianOfSorted(_ sorted: [Double]) -> Double {
        let count = sorted.count
        return count % 2 == 1 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2
    }

    /// The `p` quantile (0 ≤ p ≤ 1) of values sorted ascending, interpolating
    /// linearly between order statistics (Hyndman and Fan type 7, the default
    /// of R and NumPy).
    public static func quantileOfSorted(_ sorted: [Double], _ p: Double) -> Double {
        precondition(!sorted.isEmpty, "quantile of no values")
        let position = p * Double(sorted.count - 1)
        let low = Int(position.rounded(.down))
        let high = min(low + 1, sorted.count - 1)
        let fraction = position - Double(low)
        return sorted[low] + (sorted[high] - sorted[low]) * fraction
    }

    /// The median of `values` and a percentile-bootstrap interval of it at
    /// `level`, from `resamples` resamples drawn with a seeded generator (the
    /// same values always give the same interval). `values` must not be empty.
    public static func medianInterval(
        _ values: [Double], level: Double = 0.95, resamples: Int = 1000, seed: UInt64 = 0x7461707972757321
    ) -> RatioEstimate {
        var generator = Xoshiro256StarStar(seed: seed)
        var medians: [Double] = []
        medians.reserveCapacity(resamples)
        var sample = [Double](repeating: 0, count: values.count)
        for _ in 0..<resamples {
            for index in sample.indices { sample[index] = values[generator.index(below: values.count)] }
            medians.append(median(sample))
        }
        medians.sort()
        let tail = (1 - level) / 2
        return RatioEstimate(ratio: median(values), lower: quantileOfSorted(medians, tail), upper: quantileOfSorted(medians, 1 - tail))
    }
}

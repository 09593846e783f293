import Foundation

/// Order statistics shared by the comparison, the bootstrap and the tests.
enum Descriptive {
    /// The median; the mean of the two middle values for an even count.
    /// `values` must not be empty.
    static func median(_ values: [Double]) -> Double {
        precondition(!values.isEmpty, "median of no values")
        return medianOfSorted(values.sorted())
    }

    /// The median of values already sorted ascending.
    static func medianOfSorted(_ sorted: [Double]) -> Double {
        let count = sorted.count
        return count % 2 == 1 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2
    }

    /// The `p` quantile (0 ≤ p ≤ 1) of values sorted ascending, interpolating
    /// linearly between order statistics (Hyndman and Fan type 7, the default
    /// of R and NumPy).
    static func quantileOfSorted(_ sorted: [Double], _ p: Double) -> Double {
        precondition(!sorted.isEmpty, "quantile of no values")
        let position = p * Double(sorted.count - 1)
        let low = Int(position.rounded(.down))
        let high = min(low + 1, sorted.count - 1)
        let fraction = position - Double(low)
        return sorted[low] + (sorted[high] - sorted[low]) * fraction
    }
}

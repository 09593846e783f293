import Foundation

/// The Wilcoxon signed-rank test that paired differences are symmetric about
/// zero, two-sided.
///
/// Differences are ranked by absolute value, tied absolute values sharing
/// their mean rank (values within a relative 1e-9 of each other count as
/// tied, so that `log(a/b)` and `-log(b/a)` tie). Zeros are handled as
/// ``ZeroHandling`` says. The p-value is exact (the null distribution of the
/// positive rank sum, counted by dynamic programming) when ``Method/automatic``
/// finds at most 50 differences with no ties and no zeros, and otherwise
/// comes from the normal approximation with the tie and zero corrections of
/// the variance and, by default, a continuity correction. These are the
/// formulas of `scipy.stats.wilcoxon`, which the tests check against.
public enum WilcoxonSignedRank {
    /// What zero differences (no change at a height) contribute.
    public enum ZeroHandling: String, Sendable, Codable {
        /// Pratt (1959): zeros are ranked with the rest, then their ranks
        /// are dropped; the null mean and variance are adjusted. Zeros thus
        /// count as evidence of no change, which keeps the test honest when
        /// many blocks take exactly the same whole number of µs.
        case pratt
        /// Wilcoxon (1945): zeros are discarded before ranking (SciPy's default).
        case wilcox
    }

    /// How the p-value is computed.
    public enum Method: String, Sendable, Codable {
        /// Exact for n ≤ 50 without ties or zeros, else the normal approximation.
        case automatic
        /// The exact null distribution (ties and zeros make it approximate:
        /// zeros are then discarded and a non-integral statistic rounded
        /// conservatively, as SciPy does).
        case exact
        /// The normal approximation.
        case normal
    }

    /// The largest count for which ``Method/automatic`` computes the exact p-value.
    public static let exactLimit = 50

    /// The outcome of one test.
    public struct Result: Sendable, Codable, Hashable {
        /// The sum of the ranks of the positive differences (W+).
        public var positiveRankSum: Double
        /// The sum of the ranks of the negative differences (W−).
        public var negativeRankSum: Double
        /// The differences that were not zero.
        public var nonZeroCount: Int
        /// The differences that were zero.
        public var zeroCount: Int
        /// Whether any nonzero absolute differences were tied.
        public var hasTies: Bool
        /// The method actually used (never ``Method/automatic``).
        public var method: Method
        /// The standardized statistic, for the normal approximation (after
        /// any continuity correction); nil for the exact method.
        public var z: Double?
        /// The two-sided p-value.
        public var pValue: Double
    }

    /// Tests `differences` (candidate minus baseline, or log-ratios).
    ///
    /// With no nonzero difference at all the p-value is 1.
    public static func test(
        _ differences: [Double],
        zeroHandling: ZeroHandling = .pratt,
        method: Method = .automatic,
        continuityCorrection: Bool = true
    ) -> Result {
        let zeroCount = differences.filter { $0 == 0 }.count
        let ranked = zeroHandling == .pratt ? differences : differences.filter { $0 != 0 }
        let order = ranked.indices.sorted { abs(ranked[$0]) < abs(ranked[$1]) }

        // Mean ranks over groups of tied absolute values.
        var ranks = [Double](repeating: 0, count: ranked.count)
        var tieTerm = 0.0  // Σ (t³ − t) over tied groups of nonzero values
        var hasTies = false
        var start = 0
        while start < order.count {
            var end = start + 1
            let first = abs(ranked[order[start]])
            while end < order.count, tied(abs(ranked[order[end]]), first) { end += 1 }
            let meanRank = Double(start + 1 + end) / 2
            for k in start..<end { ranks[order[k]] = meanRank }
            let size = Double(end - start)
            if end - start > 1, first != 0 {
                hasTies = true
                tieTerm += size * size * size - size
            }
            start = end
        }

        var positive = 0.0, negative = 0.0
        for (value, rank) in zip(ranked, ranks) {
            if value > 0 { positive += rank } else if value < 0 { negative += rank }
        }
        let nonZero = differences.count - zeroCount
        var result = Result(positiveRankSum: positive, negativeRankSum: negative, nonZeroCount: nonZero,
                            zeroCount: zeroCount, hasTies: hasTies, method: .normal, z: nil, pValue: 1)
        guard nonZero > 0 else { return result }

        let useExact: Bool
        switch method {
        case .exact: useExact = true
        case .normal: useExact = false
        case .automatic: useExact = nonZero <= exactLimit && !hasTies && zeroCount == 0
        }
        if useExact {
            if zeroHandling == .pratt, zeroCount > 0 {
                // The exact distribution knows no zeros: rank without them.
                var exact = test(differences, zeroHandling: .wilcox, method: .exact)
                exact.zeroCount = zeroCount
                return exact
            }
            result.method = .exact
            result.pValue = exactPValue(positiveRankSum: positive, count: nonZero)
            return result
        }

        // Normal approximation. For Pratt the n in the moments counts the
        // zeros, whose share is then removed.
        let n = Double(ranked.count)
        let z0 = Double(zeroHandling == .pratt ? zeroCount : 0)
        let mean = n * (n + 1) / 4 - z0 * (z0 + 1) / 4
        let variance = (n * (n + 1) * (2 * n + 1) - z0 * (z0 + 1) * (2 * z0 + 1)) / 24 - tieTerm / 48
        guard variance > 0 else { return result }
        let sd = variance.squareRoot()
        var z = (positive - mean) / sd
        if continuityCorrection, z != 0 { z -= (z > 0 ? 0.5 : -0.5) / sd }
        result.z = z
        result.pValue = min(1, erfc(abs(z) / 2.squareRoot()))
        return result
    }

    /// The two-sided exact p-value 2·min(P(W+ ≤ w), P(W+ ≥ w)), capped at 1.
    /// A non-integral `w` (ties) is rounded up for the lower tail and down
    /// for the upper one.
    static func exactPValue(positiveRankSum w: Double, count n: Int) -> Double {
        let counts = nullCounts(n)
        let total = pow(2.0, Double(n))
        let lowerLimit = min(counts.count - 1, Int(w.rounded(.up)))
        let upperLimit = max(0, Int(w.rounded(.down)))
        let lower = counts[0...max(0, lowerLimit)].reduce(0, +) / total
        let upper = counts[upperLimit...].reduce(0, +) / total
        return min(1, 2 * min(lower, upper))
    }

    /// How many of the 2ⁿ sign assignments give each positive rank sum
    /// 0...n(n+1)/2. Exact in doubles up to n = 52 or so (counts < 2⁵³).
    static func nullCounts(_ n: Int) -> [Double] {
        let maximum = n * (n + 1) / 2
        var counts = [Double](repeating: 0, count: maximum + 1)
        counts[0] = 1
        var reached = 0
        for rank in 1...max(1, n) where n > 0 {
            reached += rank
            for sum in stride(from: reached, through: rank, by: -1) { counts[sum] += counts[sum - rank] }
        }
        return counts
    }

    private static func tied(_ a: Double, _ b: Double) -> Bool {
        a == b || abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    }
}

import Foundation

/// Whether a candidate build connects blocks slower or faster than a baseline.
public enum Verdict: String, Sendable, Codable, CaseIterable {
    case regression
    case improvement
    case noChange = "no change"
}

/// A ratio (candidate / baseline) with its bootstrap confidence interval.
public struct RatioEstimate: Sendable, Hashable, Codable {
    public var ratio: Double
    public var lower: Double
    public var upper: Double

    /// The change in percent: +10 for a ratio of 1.10.
    public var percentChange: Double { (ratio - 1) * 100 }

    /// Whether the interval contains `value`.
    public func contains(_ value: Double) -> Bool { lower <= value && value <= upper }

    /// `+10.2% (95% CI +8.1% to +12.4%)`.
    public func formatted(level: Double) -> String {
        "\(Self.percent(ratio)) (\(Self.level(level)) CI \(Self.percent(lower)) to \(Self.percent(upper)))"
    }

    static func percent(_ ratio: Double) -> String { String(format: "%+.1f%%", (ratio - 1) * 100) }
    static func level(_ level: Double) -> String { String(format: "%g%%", level * 100) }
}

/// The settings of a ``RegressionComparison``.
public struct ComparisonOptions: Sendable, Hashable, Codable {
    /// The smallest change that matters, in percent of the baseline (5 = 5%).
    public var thresholdPercent: Double
    /// The significance level of the test; the confidence interval has level 1 − alpha.
    public var alpha: Double
    /// Bootstrap resamples.
    public var resamples: Int
    /// The bootstrap generator's seed: the same data and seed give the same interval.
    public var seed: UInt64
    /// The fewest heights measured on both sides that a comparison accepts.
    public var minimumPairedHeights: Int
    /// How heights with exactly equal durations enter the signed-rank test.
    public var zeroHandling: WilcoxonSignedRank.ZeroHandling

    public static let defaultSeed: UInt64 = 0x7461_7079_7275_7321  // "tapyrus!"

    public init(thresholdPercent: Double = 5, alpha: Double = 0.05, resamples: Int = 2000,
                seed: UInt64 = Self.defaultSeed, minimumPairedHeights: Int = 10,
                zeroHandling: WilcoxonSignedRank.ZeroHandling = .pratt) {
        self.thresholdPercent = thresholdPercent
        self.alpha = alpha
        self.resamples = resamples
        self.seed = seed
        self.minimumPairedHeights = minimumPairedHeights
        self.zeroHandling = zeroHandling
    }

    /// The confidence level of the intervals, 1 − alpha.
    public var confidenceLevel: Double { 1 - alpha }

    func validate() throws {
        guard thresholdPercent >= 0, thresholdPercent.isFinite else {
            throw StatisticsError("the threshold must be a percentage of 0 or more, not \(thresholdPercent)")
        }
        guard alpha > 0, alpha < 0.5 else {
            throw StatisticsError("alpha must be between 0 and 0.5 (0.05 is usual), not \(alpha)")
        }
        guard resamples >= 100 else {
            throw StatisticsError("the bootstrap needs at least 100 resamples (2000 is usual), not \(resamples)")
        }
        guard minimumPairedHeights >= 2 else {
            throw StatisticsError("a comparison needs at least 2 paired heights, not \(minimumPairedHeights)")
        }
    }
}

/// A paired, per-height comparison of the ConnectBlock durations of a
/// candidate build with those of a baseline build on the same chain, and its
/// verdict: regression, improvement or no change.
///
/// **Pairing.** Only heights measured on both sides are compared. With
/// several repetitions of a build, each height's value is the median of its
/// repetitions (robust to a one-off stall); sides may have different numbers
/// of repetitions. Pairing by height removes the largest source of variation,
/// the block itself (an empty block and a block of 2000 inputs differ by
/// orders of magnitude), leaving the per-height ratio candidate / baseline.
///
/// **Effect.** The primary effect is the median of the per-height ratios,
/// computed as exp(median log-ratio): "the typical block takes this many
/// times as long". It is chosen over the ratio of the two medians because it
/// uses the pairing — its spread depends only on the measurement noise,
/// whereas the ratio of medians also depends on how block costs vary around
/// the median block, and its bootstrap interval is several times wider
/// (3.6 times on the tests' synthetic chain, block costs spread by a factor
/// of e and 10% noise) — and because it estimates exactly the location that
/// the signed-rank test tests. Both agree when the slowdown is the same
/// proportion for every block. The ratio of medians and the ratio of total
/// times (Σ candidate / Σ baseline, dominated by the heaviest blocks) are
/// reported alongside, with their intervals, but do not decide.
///
/// **Interval.** A paired percentile bootstrap: heights are resampled with
/// replacement ``ComparisonOptions/resamples`` times (2000 by default) by a
/// seeded xoshiro256** generator, so the interval is reproducible; its level
/// is 1 − alpha.
///
/// **Test.** The Wilcoxon signed-rank test on the per-height log-ratios,
/// two-sided: exact for up to 50 heights without ties or zeros, otherwise the
/// normal approximation with tie, zero (Pratt) and continuity corrections.
///
/// **Verdict.** With threshold t (5% by default) and level alpha (0.05):
/// *regression* when the effect is at least 1 + t (practically significant)
/// and the change is statistically significant: p < alpha **and** the
/// interval lies above 1; *improvement* symmetrically, with the effect at
/// most 1 / (1 + t) and the interval below 1; *no change* otherwise. The
/// explanation then says whether the interval lies within the threshold
/// (the builds are equivalent) or is too wide to exclude a change of the
/// threshold's size (more heights or repetitions would decide). Requiring
/// both the test and the interval keeps the false-alarm rate on identical
/// builds at most alpha (in practice far lower, since the effect must also
/// reach the threshold); deciding on the point estimate rather than on the
/// interval's bound keeps the power at 50% or more for a change of exactly
/// the threshold.
///
/// **Assumptions.** The heights are independent given their blocks (no
/// drift along the chain that differs between builds, such as one build's
/// cache filling up), the per-height log-ratios are symmetric about their
/// median (what the signed-rank test assumes; true by construction when the
/// builds do not differ), the slowdown is multiplicative, and both builds ran
/// on the same machine class with the same settings. Runs of the two builds
/// should be interleaved (A B A B) so that a drift of the machine over time
/// is not mistaken for the build. A slowdown confined to fewer than half the
/// blocks (say, only the heaviest) moves the median little: the ratio of
/// total times shows it.
public struct RegressionComparison: Sendable, Hashable, Codable {
    public var options: ComparisonOptions
    /// Heights measured on both sides: the sample.
    public var pairedHeights: Int
    /// Heights measured only in the baseline or only in the candidate, ignored.
    public var baselineOnlyHeights: Int
    public var candidateOnlyHeights: Int
    /// Durations within the paired heights, over all repetitions.
    public var baselineMeasurements: Int
    public var candidateMeasurements: Int
    /// The median over paired heights of the per-height values, in µs.
    public var baselineMedianMicroseconds: Double
    public var candidateMedianMicroseconds: Double
    /// The primary effect: the median of the per-height ratios candidate / baseline.
    public var effect: RatioEstimate
    /// The ratio of the medians of the paired per-height values (secondary).
    public var ratioOfMedians: RatioEstimate
    /// The ratio of the total times of the paired heights (secondary).
    public var totalTimeRatio: RatioEstimate
    /// The signed-rank test on the per-height log-ratios.
    public var wilcoxon: WilcoxonSignedRank.Result
    public var verdict: Verdict
    /// One line: the verdict, the effect with its interval, the p-value and why.
    public var explanation: String

    /// Compares `candidate` with `baseline`.
    ///
    /// Throws ``StatisticsError`` for an empty side, a duration that is not
    /// positive and finite, fewer paired heights than
    /// ``ComparisonOptions/minimumPairedHeights``, or invalid options.
    public init(baseline: BlockDurations, candidate: BlockDurations, options: ComparisonOptions = .init()) throws {
        try options.validate()
        for (name, side) in [("baseline", baseline), ("candidate", candidate)] {
            if side.isEmpty { throw StatisticsError("the \(name) has no block durations; measure it first") }
            if let bad = side.firstInvalid() {
                throw StatisticsError("the \(name)'s duration at height \(bad.height) is \(bad.microseconds) µs; durations must be positive and finite")
            }
        }
        let baselineMedians = baseline.medians(), candidateMedians = candidate.medians()
        let heights = Set(baselineMedians.keys).intersection(candidateMedians.keys).sorted()
        guard heights.count >= options.minimumPairedHeights else {
            throw StatisticsError(
                "only \(heights.count) heights are measured in both the baseline and the candidate; a comparison needs at least \(options.minimumPairedHeights) (compare runs over the same heights of the same chain)")
        }
        let b = heights.map { baselineMedians[$0]! }, c = heights.map { candidateMedians[$0]! }

        self.options = options
        pairedHeights = heights.count
        baselineOnlyHeights = baselineMedians.count - heights.count
        candidateOnlyHeights = candidateMedians.count - heights.count
        baselineMeasurements = heights.reduce(0) { $0 + baseline.byHeight[$1]!.count }
        candidateMeasurements = heights.reduce(0) { $0 + candidate.byHeight[$1]!.count }
        let medianBaseline = Descriptive.median(b), medianCandidate = Descriptive.median(c)
        baselineMedianMicroseconds = medianBaseline
        candidateMedianMicroseconds = medianCandidate

        let bootstrap = PairedBootstrap(baseline: b, candidate: c)
        let replicates = bootstrap.run(resamples: options.resamples, seed: options.seed)
        let tail = options.alpha / 2
        func estimate(_ point: Double, _ values: [Double]) -> RatioEstimate {
            let sorted = values.sorted()
            return RatioEstimate(ratio: point, lower: Descriptive.quantileOfSorted(sorted, tail),
                                 upper: Descriptive.quantileOfSorted(sorted, 1 - tail))
        }
        effect = estimate(exp(Descriptive.median(bootstrap.logRatios)), replicates.medianRatio)
        ratioOfMedians = estimate(medianCandidate / medianBaseline, replicates.ratioOfMedians)
        totalTimeRatio = estimate(c.reduce(0, +) / b.reduce(0, +), replicates.totalRatio)
        wilcoxon = WilcoxonSignedRank.test(bootstrap.logRatios, zeroHandling: options.zeroHandling)
        (verdict, explanation) = Self.decide(effect: effect, pValue: wilcoxon.pValue, options: options)
    }

    /// The verdict rule documented on the type, with its one-line reason.
    static func decide(effect: RatioEstimate, pValue: Double, options: ComparisonOptions) -> (Verdict, String) {
        let slower = 1 + options.thresholdPercent / 100, faster = 1 / slower
        let threshold = String(format: "%g%%", options.thresholdPercent)
        let significant = pValue < options.alpha
        let p = String(format: "p = %.3g", pValue)
        let measured = "the typical block changed by \(effect.formatted(level: options.confidenceLevel)), Wilcoxon \(p)"
        if effect.ratio >= slower, effect.lower > 1, significant {
            return (.regression, "regression: \(measured); slower by at least the \(threshold) threshold and significant at alpha \(options.alpha)")
        }
        if effect.ratio <= faster, effect.upper < 1, significant {
            return (.improvement, "improvement: \(measured); faster by at least the \(threshold) threshold and significant at alpha \(options.alpha)")
        }
        if effect.lower >= faster, effect.upper <= slower {
            return (.noChange, "no change: \(measured); the interval lies within the \(threshold) threshold")
        }
        if significant, effect.lower > 1 || effect.upper < 1 {
            return (.noChange, "no change: \(measured); a significant change, but smaller than the \(threshold) threshold")
        }
        return (.noChange, "no change shown: \(measured); the interval still allows a change of \(threshold) or more (more heights or repetitions would decide)")
    }
}

extension RegressionComparison: CustomStringConvertible {
    /// The explanation and the sample, in one line.
    public var description: String {
        "\(explanation) [\(pairedHeights) heights paired, \(baselineMeasurements) baseline and \(candidateMeasurements) candidate durations]"
    }
}

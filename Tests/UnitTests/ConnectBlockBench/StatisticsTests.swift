@testable import ConnectBlockBench
import Foundation
import Testing
@testable import TraceHarness

/// A deterministic synthetic chain: per-height base costs that vary over the
/// chain as real blocks do, and builds that connect it with log-normal noise.
struct SyntheticChain {
    /// The true duration of each block on the baseline build, in µs.
    var baseCosts: [Double]

    /// `heights` blocks whose costs spread log-normally (a factor of about 2.7
    /// for one standard deviation) around 2 ms, with a trend that makes later
    /// blocks up to twice as heavy.
    init(heights: Int, seed: UInt64) {
        var generator = Xoshiro256StarStar(seed: seed)
        baseCosts = (0..<heights).map { height in
            2000 * (1 + Double(height) / Double(heights)) * exp(generator.normal())
        }
    }

    /// `repetitions` runs of a build `factor` times as slow as the baseline:
    /// each duration is the base cost × factor × exp(noise · N(0,1)), with a
    /// stall (× 1.5 to 3) in 2% of measurements, rounded to whole µs as the
    /// tracepoint reports them.
    func run(factor: Double, repetitions: Int, noise: Double = 0.1, generator: inout Xoshiro256StarStar) -> BlockDurations {
        var durations = BlockDurations()
        for _ in 0..<repetitions {
            for (height, base) in baseCosts.enumerated() {
                var duration = base * factor * exp(noise * generator.normal())
                if generator.unit() < 0.02 { duration *= 1.5 + 1.5 * generator.unit() }
                durations.add(height: 1000 + height, microseconds: max(1, duration.rounded()))
            }
        }
        return durations
    }
}

/// Runs `count` simulated comparisons of a baseline with a build `factor`
/// times as slow, each on its own chain.
func simulate(_ count: Int, factor: Double, heights: Int = 60, repetitions: Int = 3,
              options: ComparisonOptions = .init(resamples: 500), seed: UInt64) throws -> [RegressionComparison] {
    var generator = Xoshiro256StarStar(seed: seed)
    return try (0..<count).map { index in
        let chain = SyntheticChain(heights: heights, seed: seed &+ UInt64(index) &* 7919)
        let baseline = chain.run(factor: 1, repetitions: repetitions, generator: &generator)
        let candidate = chain.run(factor: factor, repetitions: repetitions, generator: &generator)
        var options = options
        options.seed = generator.next()
        return try RegressionComparison(baseline: baseline, candidate: candidate, options: options)
    }
}

@Suite("Bench statistics: paired comparison, bootstrap interval, signed-rank test, verdict")
struct StatisticsTests {
    // MARK: generators

    @Test("SplitMix64 reproduces the reference sequence for seed 1234567")
    func splitMixReference() {
        // The widely published reference outputs (Rosetta Code, SplitMix64).
        var generator = SplitMix64(seed: 1_234_567)
        #expect((0..<5).map { _ in generator.next() } == [
            6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
            4_593_380_528_125_082_431, 16_408_922_859_458_223_821,
        ])
    }

    @Test("xoshiro256** seeded through SplitMix64 reproduces its reference sequence")
    func xoshiroReference() {
        // Computed with a Python transcription of Vigna's reference C code,
        // the state seeded with four SplitMix64 outputs of seed 42.
        var generator = Xoshiro256StarStar(seed: 42)
        #expect((0..<5).map { _ in generator.next() } == [
            1_546_998_764_402_558_742, 6_990_951_692_964_543_102, 12_544_586_762_248_559_009,
            17_057_574_109_182_124_193, 18_295_552_978_065_317_476,
        ])
    }

    @Test("Bounded indices from xoshiro256** cover the range evenly")
    func boundedIndices() {
        var generator = Xoshiro256StarStar(seed: 7)
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<20_000 { counts[generator.index(below: 10)] += 1 }
        #expect(counts.allSatisfy { (1800...2200).contains($0) })
    }

    // MARK: Wilcoxon signed-rank test against SciPy 1.17.1

    // Darwin's Zea mays differences (Fisher 1935), the example of
    // scipy.stats.wilcoxon's documentation.
    static let darwin: [Double] = [6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75]
    // Ties (±1.5, 2 2, 4 4 4, ±6, ±9) and three zeros.
    static let tied: [Double] = [0, 0, 1.5, -1.5, 2, 2, -3, 4, 4, 4, -0.5, 5, 6, -6, 7, 8, 2.5, 9, -9, 10, 0]

    @Test("Darwin's data: W+ = 96, W− = 24, exact p = 0.041259765625 as SciPy gives")
    func wilcoxonDarwinExact() {
        // python3: scipy.stats.wilcoxon(darwin, method='exact').pvalue
        let result = WilcoxonSignedRank.test(Self.darwin)
        #expect(result.method == .exact)
        #expect(result.positiveRankSum == 96)
        #expect(result.negativeRankSum == 24)
        #expect(abs(result.pValue - 0.041259765625) < 1e-12)
    }

    @Test("Darwin's data: the normal approximation matches SciPy with and without continuity correction")
    func wilcoxonDarwinNormal() {
        // scipy.stats.wilcoxon(darwin, method='asymptotic', correction=False / True).pvalue
        let plain = WilcoxonSignedRank.test(Self.darwin, method: .normal, continuityCorrection: false)
        let corrected = WilcoxonSignedRank.test(Self.darwin, method: .normal, continuityCorrection: true)
        #expect(abs(plain.pValue - 0.04088813291185591) < 1e-12)
        #expect(abs(corrected.pValue - 0.043772323763041174) < 1e-12)
    }

    @Test("Ties and zeros: Wilcox and Pratt zero handling match SciPy's tie-corrected normal approximation", arguments: [
        // scipy.stats.wilcoxon(tied, zero_method=Z, method='asymptotic', correction=C).pvalue;
        // W+ from scipy.stats.rankdata of |d| (zeros dropped for 'wilcox', kept for 'pratt').
        (WilcoxonSignedRank.ZeroHandling.wilcox, false, 131.5, 39.5, 0.044939656384067446),
        (.wilcox, true, 131.5, 39.5, 0.04732020156034782),
        (.pratt, false, 170.5, 54.5, 0.04323362678754414),
        (.pratt, true, 170.5, 54.5, 0.04506795584051176),
    ])
    func wilcoxonTiesAndZeros(zeros: WilcoxonSignedRank.ZeroHandling, correction: Bool, positive: Double, negative: Double, p: Double) {
        let result = WilcoxonSignedRank.test(Self.tied, zeroHandling: zeros, continuityCorrection: correction)
        #expect(result.method == .normal)  // automatic: ties and zeros rule out the exact method
        #expect(result.hasTies)
        #expect(result.zeroCount == 3 && result.nonZeroCount == 18)
        #expect(result.positiveRankSum == positive)
        #expect(result.negativeRankSum == negative)
        #expect(abs(result.pValue - p) < 1e-12)
    }

    @Test("Ties with the exact method are rounded conservatively as SciPy does: p = 0.04827880859375")
    func wilcoxonTiesExact() {
        // scipy.stats.wilcoxon(tied, zero_method='wilcox', method='exact').pvalue
        let result = WilcoxonSignedRank.test(Self.tied, zeroHandling: .wilcox, method: .exact)
        #expect(result.method == .exact)
        #expect(abs(result.pValue - 0.04827880859375) < 1e-12)
    }

    @Test("Thirty differences without ties: automatic is exact, p = 0.761065473780036 as SciPy gives")
    func wilcoxonThirtyExact() {
        // numpy.random.default_rng(7).normal(0.3, 1, 30) rounded to 3 decimals;
        // scipy.stats.wilcoxon(x).pvalue (auto: exact); W+ = 217.
        let x = [0.301, 0.599, 0.026, -0.591, -0.155, -0.692, 0.36, 1.64, -0.192, -0.32, 0.79, 0.657, 0.405, -0.63, 0.271,
                 0.995, -1.044, -0.158, -1.601, -0.99, -1.542, 0.065, -0.967, 0.571, 0.457, 0.113, -2.217, -0.239, 0.251, 0.413]
        let result = WilcoxonSignedRank.test(x)
        #expect(result.method == .exact)
        #expect(result.positiveRankSum == 217)
        #expect(abs(result.pValue - 0.761065473780036) < 1e-12)
    }

    @Test("The exact null distribution for n = 3 counts the 8 sign patterns")
    func nullCounts() {
        #expect(WilcoxonSignedRank.nullCounts(3) == [1, 1, 1, 2, 1, 1, 1])
        #expect(WilcoxonSignedRank.nullCounts(50).reduce(0, +) == pow(2, 50))
    }

    @Test("Only zero differences give p = 1, and log(a/b) ties with −log(b/a)")
    func wilcoxonDegenerate() {
        #expect(WilcoxonSignedRank.test([0, 0, 0]).pValue == 1)
        let result = WilcoxonSignedRank.test([log(21.0 / 20), log(20.0 / 21), log(3.0)])
        #expect(result.hasTies)
        #expect(result.positiveRankSum == 1.5 + 3)
    }

    // MARK: simulations with known effects

    // Simulations shared by several tests, run once (500 resamples each keep the suite fast).
    static let identical = Result { try simulate(200, factor: 1, options: .init(thresholdPercent: 0, resamples: 500), seed: 11) }
    static let slower = Result { try simulate(200, factor: 1.10, seed: 21) }

    @Test("A/A: identical builds give a false alarm in at most alpha of 200 simulated pairs, and hardly ever at a 5% threshold")
    func aaFalseAlarms() throws {
        // Threshold 0 leaves only the statistical part of the rule.
        let results = try Self.identical.get()
        let alarms = results.filter { $0.verdict != .noChange }.count
        // alpha = 0.05 of 200 is 10; + 2.33 binomial standard deviations (3.1) → 17.
        #expect(alarms <= 17, "\(alarms) false alarms in 200 A/A comparisons")
        let rejections = results.filter { $0.wilcoxon.pValue < 0.05 }.count
        #expect((2...18).contains(rejections), "the test rejected \(rejections) of 200 true null hypotheses")
        // With the default 5% threshold an alarm needs a 5% estimate, about three
        // standard errors here: expected in about 0.3% of comparisons.
        let practical = results.filter { RegressionComparison.decide(effect: $0.effect, pValue: $0.wilcoxon.pValue, options: .init()).0 != .noChange }
        #expect(practical.count <= 2, "\(practical.map(\.explanation))")
    }

    @Test("A 10% slowdown is a regression in (nearly) all of 200 simulated pairs")
    func slowdownDetected() throws {
        let results = try Self.slower.get()
        let detected = results.filter { $0.verdict == .regression }.count
        #expect(detected >= 196, "detected in \(detected) of 200")
        #expect(results.allSatisfy { $0.verdict != .improvement })
        #expect(results[0].explanation.hasPrefix("regression: the typical block changed by +"))
    }

    @Test("A 10% speedup is an improvement in (nearly) all of 100 simulated pairs")
    func speedupDetected() throws {
        let results = try simulate(100, factor: 1 / 1.10, seed: 31)
        let detected = results.filter { $0.verdict == .improvement }.count
        #expect(detected >= 98, "detected in \(detected) of 100")
        #expect(results.allSatisfy { $0.verdict != .regression })
    }

    @Test("The 95% bootstrap interval covers the true ratio 1.10 in 90–99% of 200 simulations")
    func intervalCoverage() throws {
        let covered = try Self.slower.get().filter { $0.effect.contains(1.10) }.count
        #expect((180...198).contains(covered), "covered in \(covered) of 200")
    }

    @Test("The median of per-height ratios has a much narrower interval than the ratio of medians on varied blocks")
    func primaryEffectIsPrecise() throws {
        let results = try Self.slower.get()
        let width = { (e: RatioEstimate) in log(e.upper / e.lower) }
        let primary = results.map { width($0.effect) }.reduce(0, +)
        let secondary = results.map { width($0.ratioOfMedians) }.reduce(0, +)
        #expect(primary * 2 < secondary, "summed log widths \(primary) and \(secondary)")
    }

    // MARK: pairing, repetitions and reproducibility

    @Test("Only heights on both sides are paired, per height the median of repetitions, so one stalled repetition does not matter")
    func pairingAndRepetitions() throws {
        let chain = SyntheticChain(heights: 40, seed: 3)
        var generator = Xoshiro256StarStar(seed: 4)
        var baseline = chain.run(factor: 1, repetitions: 3, generator: &generator)
        let candidate = chain.run(factor: 1, repetitions: 2, generator: &generator)
        // One repetition of the baseline stalled 10× on every block.
        for height in 1000..<1040 { baseline.add(height: height, microseconds: 1e7) }
        baseline.add(height: 5, microseconds: 100)  // only in the baseline
        let result = try RegressionComparison(baseline: baseline, candidate: candidate)
        #expect(result.pairedHeights == 40)
        #expect(result.baselineOnlyHeights == 1 && result.candidateOnlyHeights == 0)
        #expect(result.baselineMeasurements == 160 && result.candidateMeasurements == 80)
        #expect(result.verdict == .noChange)
        #expect(result.description.contains("40 heights paired"))
    }

    @Test("The same data and seed give the same result whatever order the durations came in")
    func reproducible() throws {
        let chain = SyntheticChain(heights: 50, seed: 5)
        var generator = Xoshiro256StarStar(seed: 6)
        let baseline = chain.run(factor: 1, repetitions: 1, generator: &generator)
        let candidate = chain.run(factor: 1.03, repetitions: 1, generator: &generator)
        var reversed = BlockDurations()
        for (height, values) in baseline.byHeight.sorted(by: { $0.key > $1.key }) {
            for value in values { reversed.add(height: height, microseconds: value) }
        }
        let first = try RegressionComparison(baseline: baseline, candidate: candidate)
        let second = try RegressionComparison(baseline: reversed, candidate: candidate)
        #expect(first == second)
        let reseeded = try RegressionComparison(baseline: baseline, candidate: candidate, options: .init(seed: 99))
        #expect(reseeded.effect.ratio == first.effect.ratio)
        #expect(reseeded.effect.lower != first.effect.lower)
    }

    // MARK: the verdict rule

    @Test("The verdict needs the threshold, the interval and the p-value together", arguments: [
        // ratio, lower, upper, p → verdict, start of the reason
        (1.10, 1.06, 1.14, 0.001, Verdict.regression, "regression"),
        (1.10, 0.98, 1.25, 0.20, .noChange, "no change shown"),   // large but not significant
        (1.10, 1.01, 1.20, 0.08, .noChange, "no change shown"),   // interval excludes 1, test does not
        (1.02, 1.01, 1.03, 0.001, .noChange, "no change: the typical block changed by +2.0%"),  // within threshold
        (1.04, 1.01, 1.07, 0.01, .noChange, "no change"),         // significant, below the threshold
        (0.90, 0.87, 0.93, 0.001, .improvement, "improvement"),
        (0.955, 0.93, 0.98, 0.001, .noChange, "no change"),       // 4.5% faster: inside 1/1.05
    ])
    func verdictRule(ratio: Double, lower: Double, upper: Double, p: Double, verdict: Verdict, reason: String) {
        let (decided, explanation) = RegressionComparison.decide(
            effect: RatioEstimate(ratio: ratio, lower: lower, upper: upper), pValue: p, options: .init())
        #expect(decided == verdict)
        #expect(explanation.hasPrefix(reason), "\(explanation)")
    }

    @Test("A significant change below the threshold says so")
    func belowThresholdExplained() {
        let (_, explanation) = RegressionComparison.decide(
            effect: RatioEstimate(ratio: 1.04, lower: 1.01, upper: 1.07), pValue: 0.01, options: .init())
        #expect(explanation.contains("smaller than the 5% threshold"))
    }

    // MARK: bad input

    static func durations(_ count: Int, from first: Int = 0, microseconds: Double = 100) -> BlockDurations {
        BlockDurations(Dictionary(uniqueKeysWithValues: (first..<first + count).map { ($0, [microseconds + Double($0)]) }))
    }

    @Test("Bad input is one clear error", arguments: [
        (BlockDurations(), durations(20), "the baseline has no block durations; measure it first"),
        (durations(20), BlockDurations([3: []]), "the candidate has no block durations; measure it first"),
        (durations(20), BlockDurations([1: [100], 2: [0]]), "the candidate's duration at height 2 is 0.0 µs; durations must be positive and finite"),
        (BlockDurations([7: [-5]]), durations(20), "the baseline's duration at height 7 is -5.0 µs; durations must be positive and finite"),
        (BlockDurations([7: [.nan]]), durations(20), "the baseline's duration at height 7 is nan µs; durations must be positive and finite"),
        (durations(20), durations(20, from: 11), "only 9 heights are measured in both the baseline and the candidate; a comparison needs at least 10 (compare runs over the same heights of the same chain)"),
    ])
    func badInput(baseline: BlockDurations, candidate: BlockDurations, message: String) {
        #expect(throws: StatisticsError(message)) { try RegressionComparison(baseline: baseline, candidate: candidate) }
    }

    @Test("Invalid options are refused with the usual value named", arguments: [
        (ComparisonOptions(thresholdPercent: -1), "the threshold must be a percentage of 0 or more, not -1.0"),
        (ComparisonOptions(alpha: 0), "alpha must be between 0 and 0.5 (0.05 is usual), not 0.0"),
        (ComparisonOptions(resamples: 10), "the bootstrap needs at least 100 resamples (2000 is usual), not 10"),
        (ComparisonOptions(minimumPairedHeights: 1), "a comparison needs at least 2 paired heights, not 1"),
    ])
    func badOptions(options: ComparisonOptions, message: String) {
        #expect(throws: StatisticsError(message)) {
            try RegressionComparison(baseline: Self.durations(20), candidate: Self.durations(20), options: options)
        }
    }
}

extension BlockDurations: CustomTestStringConvertible {
    public var testDescription: String { "\(byHeight.count) heights, \(measurementCount) durations" }
}

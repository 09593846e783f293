import ConnectBlockBench
import Foundation

/// A map from data values to pixels along one axis, with the ticks to draw and their labels.
protocol ChartScale {
    /// The values, in data units, at which the axis has a tick.
    var ticks: [Double] { get }
    /// The pixel coordinate of `value`.
    func map(_ value: Double) -> Double
    /// The text of the tick at `value`.
    func label(_ value: Double) -> String
}

/// A linear map from data to pixels with "nice" ticks (1, 2, 2.5, 5 × 10ⁿ).
///
/// Ticks and labels are in axis units: data divided by `divisor` (1000 to
/// show microseconds as milliseconds), followed by `unit`.
struct LinearScale: ChartScale {
    var lower: Double
    var upper: Double
    var range: (Double, Double)
    var ticks: [Double]
    var unit = ""
    /// The distance between ticks, in axis units.
    var step: Double
    /// Data units per axis unit.
    var divisor: Double

    init(domain: (Double, Double), range: (Double, Double), includeZero: Bool, integer: Bool = false,
         count: Int = 6, divisor: Double = 1) {
        let divisor = divisor > 0 && divisor.isFinite ? divisor : 1
        var lo = domain.0 / divisor, hi = domain.1 / divisor
        if includeZero { lo = min(lo, 0) }
        if !(lo.isFinite && hi.isFinite) { lo = 0; hi = 1 }
        if hi <= lo { hi = lo + max(1, abs(lo) * 0.1) }
        var step = Self.niceStep((hi - lo) / Double(count))
        if integer { step = max(1, step.rounded()) }
        let first = (lo / step).rounded(.down) * step, last = (hi / step).rounded(.up) * step
        self.lower = first * divisor
        self.upper = last * divisor
        self.range = range
        self.step = step
        self.divisor = divisor
        // Each tick a whole number of steps, so that no error accumulates.
        let firstStep = (lo / step).rounded(.down)
        let count = min(50, Int(((last - first) / step).rounded()) + 1)
        self.ticks = (0..<max(1, count)).map { i in
            let t = (firstStep + Double(i)) * step
            return (abs(t) < step / 1e6 ? 0 : t) * divisor
        }
    }

    /// A scale for durations in microseconds, its ticks in the unit that reads
    /// best for the largest of them (µs, ms or s).
    static func duration(domain: (Double, Double), range: (Double, Double), includeZero: Bool) -> LinearScale {
        let unit = DurationUnit.best(forMicros: max(abs(domain.0), abs(domain.1)))
        return LinearScale(domain: domain, range: range, includeZero: includeZero, divisor: unit.micros)
            .withUnit(" " + unit.symbol)
    }

    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let power = pow(10, (log10(raw)).rounded(.down))
        let fraction = raw / power
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10
        return nice * power
    }

    func withUnit(_ unit: String) -> LinearScale {
        var copy = self
        copy.unit = unit
        return copy
    }

    func map(_ value: Double) -> Double {
        guard upper > lower else { return range.0 }
        return range.0 + (value - lower) / (upper - lower) * (range.1 - range.0)
    }

    func label(_ value: Double) -> String {
        let value = value / divisor
        // As many decimals as the step needs: 2.5 ms steps show 7.5 ms, not 8 ms.
        let decimals = (0...6).first { abs((step * pow(10, Double($0))).rounded() - step * pow(10, Double($0))) < 1e-6 } ?? 6
        var text = String(format: "%.\(decimals)f", value)
        if decimals == 0, abs(value) >= 10_000 {
            // Thousands separated by a thin space: 12 500.
            let digits = String(Int(abs(value)))
            var grouped = ""
            for (i, ch) in digits.enumerated() {
                if i > 0, (digits.count - i) % 3 == 0 { grouped += "\u{2009}" }
                grouped.append(ch)
            }
            text = (value < 0 ? "−" : "") + grouped
        }
        return text + unit
    }
}

/// A logarithmic map from positive data to pixels, for values that span
/// orders of magnitude (block durations) or ratios (×0.5 to ×4).
///
/// Values at or below the lower bound are drawn at it, so nothing falls off the plot.
struct LogScale: ChartScale {
    var lower: Double
    var upper: Double
    var range: (Double, Double)
    var ticks: [Double]
    private var labelText: @Sendable (Double) -> String

    /// A scale over `domain` (both ends positive), its ticks at
    /// `candidates(lower, upper)`, each labelled by `label`.
    init(domain: (Double, Double), range: (Double, Double), ticks candidates: [Double],
         label: @escaping @Sendable (Double) -> String) {
        var lo = domain.0, hi = domain.1
        if !(lo > 0 && lo.isFinite) { lo = 1 }
        if !(hi.isFinite) || hi <= lo { hi = lo * 2 }
        self.lower = lo
        self.upper = hi
        self.range = range
        self.ticks = candidates.filter { $0 >= lo * (1 - 1e-9) && $0 <= hi * (1 + 1e-9) }
        self.labelText = label
    }

    /// A scale for durations in microseconds from `domain.0` to `domain.1`,
    /// widened to the 1-2-5 steps around them and ticked at 1, 2, 5 × 10ⁿ µs;
    /// when that would be more than ten ticks, widened to the powers of ten
    /// around them and ticked at those. Each tick is labelled in its own best
    /// unit: 500 µs, 1 ms, 2 ms.
    static func duration(domain: (Double, Double), range: (Double, Double)) -> LogScale {
        let lo = max(domain.0, 1e-3), hi = max(domain.1, lo)
        var lower = oneTwoFive(below: lo), upper = oneTwoFive(above: hi)
        var candidates = oneTwoFiveSteps(from: lower, to: upper)
        if candidates.count > 10 {
            // Powers of ten only, the axis widened to the ones around the data.
            lower = pow(10, log10(lo).rounded(.down))
            upper = pow(10, log10(hi).rounded(.up))
            if upper <= lower { upper = lower * 10 }
            candidates = oneTwoFiveSteps(from: lower, to: upper).filter { abs(log10($0) - log10($0).rounded()) < 1e-9 }
        }
        return LogScale(domain: (lower, upper), range: range, ticks: candidates) { DurationText.compact($0) }
    }

    /// A scale for ratios (candidate / baseline), always showing ×1.
    ///
    /// Spans of 20× and more are ticked at 1, 2, 5 × 10ⁿ (×0.02, ×0.05, ×0.1
    /// … ×1, ×2), wide ones at powers of two (×0.5, ×1, ×2, ×4), narrow ones
    /// at nice linear steps (×0.95, ×1, ×1.05).
    static func ratio(domain: (Double, Double), range: (Double, Double)) -> LogScale {
        var lo = min(domain.0, 1), hi = max(domain.1, 1)
        if !(lo > 0 && lo.isFinite) { lo = 1 }
        if !hi.isFinite { hi = lo * 2 }
        // Some air above and below the extreme points.
        let pad = max(pow(hi / lo, 0.06), 1.02)
        lo /= pad
        hi *= pad
        var candidates: [Double]
        if hi / lo >= 20 {
            // Past ×1/16 powers of two read badly (×0.062): 1, 2, 5 × 10ⁿ instead.
            candidates = oneTwoFiveSteps(from: lo, to: hi)
            if candidates.count > 10 { candidates = candidates.filter { abs(log10($0) - log10($0).rounded()) < 1e-9 } }
        } else if hi / lo >= 3 {
            let first = Int(log2(lo).rounded(.up)), last = Int(log2(hi).rounded(.down))
            candidates = (first...max(first, last)).map { pow(2, Double($0)) }
        } else {
            candidates = LinearScale(domain: (lo, hi), range: (0, 1), includeZero: false).ticks
        }
        return LogScale(domain: (lo, hi), range: range, ticks: candidates) { DurationText.ratio($0) }
    }

    func map(_ value: Double) -> Double {
        let clamped = min(max(value, lower), upper)
        let span = log(upper) - log(lower)
        guard span > 0 else { return range.0 }
        return range.0 + (log(clamped) - log(lower)) / span * (range.1 - range.0)
    }

    func label(_ value: Double) -> String { labelText(value) }

    /// The largest of 1, 2, 5 × 10ⁿ at or below `value`.
    static func oneTwoFive(below value: Double) -> Double {
        let power = pow(10, log10(value).rounded(.down))
        return [5.0, 2, 1].map { $0 * power }.first { $0 <= value * (1 + 1e-9) } ?? power
    }

    /// The smallest of 1, 2, 5 × 10ⁿ at or above `value`.
    static func oneTwoFive(above value: Double) -> Double {
        let power = pow(10, log10(value).rounded(.down))
        return [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= value * (1 - 1e-9) } ?? 10 * power
    }

    /// Every 1, 2, 5 × 10ⁿ from `lower` to `upper`, both included when they are such steps.
    static func oneTwoFiveSteps(from lower: Double, to upper: Double) -> [Double] {
        var steps: [Double] = []
        var power = pow(10, log10(lower).rounded(.down))
        while power <= upper * (1 + 1e-9), steps.count < 60 {
            for mantissa in [1.0, 2, 5] {
                let step = mantissa * power
                if step >= lower * (1 - 1e-9), step <= upper * (1 + 1e-9) { steps.append(step) }
            }
            power *= 10
        }
        return steps
    }
}

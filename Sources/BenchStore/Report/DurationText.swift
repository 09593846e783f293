import ConnectBlockBench
import Foundation

/// A unit to show a duration in: the one that reads best for its size.
enum DurationUnit: Sendable, CaseIterable {
    case microseconds, milliseconds, seconds

    /// How many microseconds one of this unit is.
    var micros: Double {
        switch self {
        case .microseconds: 1
        case .milliseconds: 1_000
        case .seconds: 1_000_000
        }
    }

    var symbol: String {
        switch self {
        case .microseconds: "µs"
        case .milliseconds: "ms"
        case .seconds: "s"
        }
    }

    /// µs below 1 ms, ms below 1 s, s from 1 s: never 2 500 000 µs.
    static func best(forMicros value: Double) -> DurationUnit {
        let magnitude = abs(value)
        if !(magnitude >= 1_000) { return .microseconds }
        return magnitude < 1_000_000 ? .milliseconds : .seconds
    }
}

/// Durations, ratios and bucket ranges as the report writes them (the
/// benchmark's tables use ``DurationText/micros(_:)``).
extension DurationText {
    /// `micros` in its best unit with three significant digits: `44.6 µs`,
    /// `1.25 ms`, `12.5 ms`, `250 ms`, `2.50 s`.
    static func duration(_ micros: Double) -> String {
        guard micros.isFinite else { return "–" }
        let unit = DurationUnit.best(forMicros: micros)
        let value = micros / unit.micros
        let magnitude = abs(value)
        let decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : 2
        let text = String(format: "%.\(decimals)f", value)
        return text.replacingOccurrences(of: "-", with: "−") + " " + unit.symbol
    }

    /// A round value (an axis tick, a bucket edge) in its best unit with no
    /// trailing zeros: `500 µs`, `1 ms`, `2.5 ms`, `1 s`.
    static func compact(_ micros: Double) -> String {
        guard micros.isFinite else { return "–" }
        let unit = DurationUnit.best(forMicros: micros)
        return plain(micros / unit.micros) + " " + unit.symbol
    }

    /// A bucket's range, both ends in the upper end's unit: `200–500 µs`,
    /// `0.5–1 ms`, `20–50 ms`, `0.5–1 s`.
    static func range(_ lowMicros: Double, _ highMicros: Double) -> String {
        let unit = DurationUnit.best(forMicros: highMicros)
        return "\(plain(lowMicros / unit.micros))–\(plain(highMicros / unit.micros)) \(unit.symbol)"
    }

    /// A ratio candidate / baseline: `×4`, `×1.05`, `×0.5`.
    static func ratio(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        return "×" + plain(value)
    }

    /// A number with at most three decimals and no trailing zeros.
    static func plain(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        var text = String(format: "%.3f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        if text == "-0" { text = "0" }
        return text.replacingOccurrences(of: "-", with: "−")
    }
}

extension BaselineReport {
    /// Buckets for the duration histogram: edges at 1, 2, 5 × 10ⁿ µs from the
    /// smallest duration to the largest (empty buckets between them kept), each
    /// labelled in the unit that reads best (`2–5 ms`). Durations below 1 µs
    /// fall into a first bucket `0–1 µs`.
    public static func histogram(ofMicros micros: [Double]) -> [HistogramBucket] {
        let values = micros.filter(\.isFinite)
        guard let smallest = values.min(), let largest = values.max() else { return [] }
        let top = LogScale.oneTwoFive(above: max(largest * (1 + 1e-9), 1.000001))
        // Edges 1, 2, 5, 10, … up to the first above the largest value.
        var edges = LogScale.oneTwoFiveSteps(from: 1, to: top)
        if edges.last.map({ $0 <= largest }) ?? true { edges.append(LogScale.oneTwoFive(above: top * 1.5)) }
        let lows = [0.0] + edges.dropLast()
        var counts = Array(repeating: 0, count: lows.count)
        for value in values {
            let index = lows.lastIndex { $0 <= value } ?? 0
            counts[index] += 1
        }
        let first = lows.lastIndex { $0 <= smallest } ?? 0
        let last = lows.lastIndex { $0 <= largest } ?? first
        return (first...last).map { i in
            HistogramBucket(label: DurationText.range(lows[i], edges[i]), count: counts[i])
        }
    }
}

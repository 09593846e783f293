import Foundation

/// Durations as people read them in the benchmark's tables and reports.
public enum DurationText {
    /// Microseconds, readably: `845 µs`, `12.3 ms`, `4.56 s`.
    public static func micros(_ micros: Double) -> String {
        if micros < 1_000 { return String(format: "%.0f µs", micros) }
        if micros < 1_000_000 { return String(format: "%.1f ms", micros / 1_000) }
        return String(format: "%.2f s", micros / 1_000_000)
    }
}

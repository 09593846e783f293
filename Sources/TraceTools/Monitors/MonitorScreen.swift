import TraceHarness

/// A key the interactive monitors understand, decoded from terminal input.
public enum MonitorKey: Sendable, Hashable {
    case up
    case down
    case enter
    case space
    case escape
    case quit
    case interrupt
    case character(Character)
    /// An escape sequence the monitors do not use (e.g. a function key).
    case other
}

/// Fits text to a terminal row.
public enum ScreenText {
    /// `text` cut to `width` columns (with `…` when cut) and padded with
    /// spaces to exactly `width`.
    public static func fit(_ text: String, _ width: Int) -> String {
        guard width > 0 else { return "" }
        let count = text.count
        if count == width { return text }
        if count < width { return text + String(repeating: " ", count: width - count) }
        return String(text.prefix(width - 1)) + "…"
    }

    /// `text` right-aligned in `width` columns (cut if longer).
    public static func right(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    /// `text` centred in `width` columns.
    public static func centre(_ text: String, _ width: Int) -> String {
        guard text.count < width else { return fit(text, width) }
        let left = (width - text.count) / 2
        return String(repeating: " ", count: left) + text + String(repeating: " ", count: width - text.count - left)
    }

    /// The line shown instead of a screen when the terminal is below
    /// `minimum` (columns × rows).
    public static func tooSmall(width: Int, height: Int, minimum: (width: Int, height: Int)) -> String {
        fit("terminal too small (\(width)x\(height), need \(minimum.width)x\(minimum.height)); enlarge it or press q", width)
    }
}

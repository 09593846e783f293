import Foundation
import TraceHarness

/// A tool that turns a capture's events into lines of output.
///
/// The command line runs a tool: it attaches to ``probes``, prints
/// ``header()``, feeds every event to ``consume(_:)`` in arrival order, calls
/// ``tick(monotonicNanoseconds:)`` every second, tells it of traced processes
/// that exited (``processExited(_:)``), and prints ``finish()`` when the
/// capture ends (Ctrl-C, the traced process exiting, or ``finishedReason``
/// becoming non-nil). Tools are values: a test can feed them events directly.
///
/// Traced by binary path, a tool sees the events of every process running
/// the binary: its state is kept per process (keyed by the event's pid), and
/// with a PID column (see ``PIDColumn``) its text lines say which process
/// each belongs to.
public protocol TraceTool: Sendable {
    /// The probes the tool attaches to.
    var probes: [ProbeName] { get }
    /// Lines printed once the probes are attached.
    func header() -> [String]
    /// The lines an event produces (often one, sometimes none).
    mutating func consume(_ event: TraceEvent) -> [String]
    /// Lines due at a periodic tick (every second).
    mutating func tick(monotonicNanoseconds: UInt64) -> [String]
    /// Lines due when traced process `pid` is seen to have exited (its
    /// events may still arrive: those it fired before it exited).
    mutating func processExited(_ pid: Int32) -> [String]
    /// Lines printed at the end of the capture.
    mutating func finish() -> [String]
    /// Set once the tool has seen all it wanted; the capture then ends.
    var finishedReason: String? { get }
    /// Whether the tool wants ``tick(monotonicNanoseconds:)`` calls.
    var wantsTicks: Bool { get }
    /// Whether the tool reads payload bytes (P2P messages); without, they
    /// are not captured and the ring buffer is sized for events alone.
    var readsPayloads: Bool { get }
}

extension TraceTool {
    public func header() -> [String] { [] }
    public mutating func tick(monotonicNanoseconds: UInt64) -> [String] { [] }
    public mutating func processExited(_ pid: Int32) -> [String] { [] }
    public mutating func finish() -> [String] { [] }
    public var finishedReason: String? { nil }
    public var wantsTicks: Bool { false }
    public var readsPayloads: Bool { false }
}

/// The column that starts every text line of a tool tracing every process of
/// a binary: the pid of the process the line belongs to, so that the lines of
/// two nodes of one build can be told apart.
///
/// ```
/// PID     Duration (µs)   Mode       Coins Count     Memory Usage    Prune
/// 48213   717             ALWAYS     3               262.34 kB       False
/// 48230   695             ALWAYS     3               262.34 kB       False
/// ```
public enum PIDColumn {
    /// The column's width: a Linux pid has at most 7 digits (`pid_max` is at most 2^22).
    public static let width = 7

    /// `line` behind `pid` in the column; a blank line stays blank.
    public static func label(_ line: String, pid: Int32) -> String {
        label(line, "\(pid)")
    }

    /// `line` behind `text` (a pid, or `all` for a total) in the column; a blank line stays blank.
    public static func label(_ line: String, _ text: String) -> String {
        line.isEmpty ? line : ToolText.left(text, width) + " " + line
    }

    /// Column titles behind the column's own title, `PID`.
    public static func title(_ titles: String) -> String {
        label(titles, "PID")
    }
}

/// Helpers the tools share for their text and JSON lines.
enum ToolText {
    /// `line` behind `pid` in the ``PIDColumn`` when `shown`, else as it is.
    static func labelled(_ line: String, pid: Int32, shown: Bool) -> String {
        shown ? PIDColumn.label(line, pid: pid) : line
    }

    /// `text` padded with spaces on the right to `width` characters.
    static func left(_ text: String, _ width: Int) -> String {
        let count = text.count
        return count >= width ? text : text + String(repeating: " ", count: width - count)
    }

    /// `text` padded with spaces on the left to `width` characters.
    static func right(_ text: String, _ width: Int) -> String {
        let count = text.count
        return count >= width ? text : String(repeating: " ", count: width - count) + text
    }

    /// A JSON object from ordered key/already-encoded-value pairs.
    static func object(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { "\(EventFormatter.jsonString($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    static func string(_ text: String) -> String { EventFormatter.jsonString(text) }

    /// The event's wall-clock time in ISO 8601 with microseconds, as JSON.
    static func time(_ event: TraceEvent) -> String { EventFormatter.jsonString(EventFormatter.isoTime(event.date)) }

    /// A line saying `event` could not be read as its type, naming its process.
    static func undecodable(_ error: EventDecodingError, event: TraceEvent, json: Bool, pidColumn: Bool) -> String {
        if json { return object([("pid", "\(event.pid)"), ("error", string(error.description))]) }
        return labelled("cannot decode event: \(error.description)", pid: event.pid, shown: pidColumn)
    }
}

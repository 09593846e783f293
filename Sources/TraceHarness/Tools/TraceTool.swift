import Foundation

/// A tool that turns a capture's events into lines of output.
///
/// The command line runs a tool: it attaches to ``probes``, prints
/// ``header()``, feeds every event to ``consume(_:)`` in arrival order, calls
/// ``tick(monotonicNanoseconds:)`` every second, and prints ``finish()`` when
/// the capture ends (Ctrl-C, the traced process exiting, or ``finishedReason``
/// becoming non-nil). Tools are values: a test can feed them events directly.
public protocol TraceTool: Sendable {
    /// The probes the tool attaches to.
    var probes: [ProbeName] { get }
    /// Lines printed once the probes are attached.
    func header() -> [String]
    /// The lines an event produces (often one, sometimes none).
    mutating func consume(_ event: TraceEvent) -> [String]
    /// Lines due at a periodic tick (every second).
    mutating func tick(monotonicNanoseconds: UInt64) -> [String]
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
    public mutating func finish() -> [String] { [] }
    public var finishedReason: String? { nil }
    public var wantsTicks: Bool { false }
    public var readsPayloads: Bool { false }
}

/// Helpers the tools share for their text and JSON lines.
enum ToolText {
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

    /// A line saying an event of `probe` could not be read as its type.
    static func undecodable(_ error: EventDecodingError, json: Bool) -> String {
        json ? object([("error", string(error.description))]) : "cannot decode event: \(error.description)"
    }
}

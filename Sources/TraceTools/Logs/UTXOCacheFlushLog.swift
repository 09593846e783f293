import Foundation
import TraceHarness

/// `tapyrus-trace flush-log`: one line per UTXO cache flush (the seed's
/// `log_utxocache_flush.py`): duration, mode, coins, memory, prune flag;
/// with a PID column, the process that flushed.
public struct UTXOCacheFlushLog: TraceTool {
    /// JSON Lines instead of text.
    public var json: Bool
    /// Text lines start with the process's pid (see ``PIDColumn``).
    public var pidColumn: Bool
    public let probes = [UTXOCacheFlush.tracepoint.probe]

    public init(json: Bool = false, pidColumn: Bool = false) {
        self.json = json
        self.pidColumn = pidColumn
    }

    /// The column titles, as the seed prints them.
    public static let columnTitles = "Duration (µs)   Mode       Coins Count     Memory Usage    Prune"

    public func header() -> [String] {
        json ? [] : [pidColumn ? PIDColumn.title(Self.columnTitles) : Self.columnTitles]
    }

    public mutating func consume(_ event: TraceEvent) -> [String] {
        do {
            guard let flush = try event.as(UTXOCacheFlush.self) else { return [] }
            return [line(for: flush, event: event)]
        } catch {
            return [ToolText.undecodable(error, event: event, json: json, pidColumn: pidColumn)]
        }
    }

    /// The mode's name (`IF_NEEDED`), or `UNKNOWN(7)` for a number tapyrusd does not define.
    public static func modeName(_ flush: UTXOCacheFlush) -> String {
        flush.mode?.description ?? "UNKNOWN(\(flush.modeValue))"
    }

    /// Memory as the seed shows it: kilobytes (1,000 bytes) with two decimals.
    public static func kilobytes(_ bytes: UInt64) -> String {
        let hundredths = (bytes + 5) / 10 // bytes / 1000 * 100, rounded half up
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) kB"
    }

    /// `730451          IF_NEEDED  22990           3323.54 kB      True`, or a JSON object.
    public func line(for flush: UTXOCacheFlush, event: TraceEvent) -> String {
        if json {
            return ToolText.object([
                ("time", ToolText.time(event)), ("pid", "\(event.pid)"),
                ("duration_us", "\(flush.durationMicroseconds)"),
                ("mode", ToolText.string(Self.modeName(flush))),
                ("coins", "\(flush.coins)"),
                ("memory_bytes", "\(flush.memoryBytes)"),
                ("prune", "\(flush.forPrune)"),
            ])
        }
        let columns = [
            ToolText.left("\(flush.durationMicroseconds)", 15),
            ToolText.left(Self.modeName(flush), 10),
            ToolText.left("\(flush.coins)", 15),
            ToolText.left(Self.kilobytes(flush.memoryBytes), 15),
            flush.forPrune ? "True" : "False",
        ]
        return ToolText.labelled(columns.joined(separator: " "), pid: event.pid, shown: pidColumn)
    }
}

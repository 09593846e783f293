import Foundation
import TraceHarness

/// `tapyrus-trace utxo-log`: one line per coin added to, spent from or
/// dropped from the UTXO cache (the seed's `log_utxos.bt`), with whole txids,
/// colour ids and 64-bit values; with a PID column, the process whose cache it is.
public struct UTXOLog: TraceTool {
    /// What happened to a coin.
    public enum Operation: String, Sendable, Hashable {
        case added = "Added", spent = "Spent", uncache = "Uncache"
    }

    /// JSON Lines instead of text.
    public var json: Bool
    /// Text lines start with the process's pid (see ``PIDColumn``).
    public var pidColumn: Bool
    public let probes = [UTXOCacheAdd.tracepoint.probe, UTXOCacheSpent.tracepoint.probe, UTXOCacheUncache.tracepoint.probe]

    public init(json: Bool = false, pidColumn: Bool = false) {
        self.json = json
        self.pidColumn = pidColumn
    }

    /// Widths of the outpoint (64-digit txid, a space, the index) and token
    /// (a colour id is 66 hex digits) columns.
    static let outpointWidth = 64 + 1 + 6
    static let tokenWidth = 66
    static let valueWidth = 20
    static let heightWidth = 7

    /// The seed's column titles, spaced to the columns of whole txids and colour ids.
    public static let columnTitles = [
        ToolText.left("OP", 9),
        ToolText.left("Outpoint", outpointWidth),
        ToolText.left("Token", tokenWidth),
        ToolText.right("Value", valueWidth),
        ToolText.right("Height", heightWidth),
        "Coinbase",
    ].joined(separator: " ")

    public func header() -> [String] {
        json ? [] : [pidColumn ? PIDColumn.title(Self.columnTitles) : Self.columnTitles]
    }

    public mutating func consume(_ event: TraceEvent) -> [String] {
        do {
            if let add = try event.as(UTXOCacheAdd.self) { return [line(.added, add.coin, event: event)] }
            if let spent = try event.as(UTXOCacheSpent.self) { return [line(.spent, spent.coin, event: event)] }
            if let uncache = try event.as(UTXOCacheUncache.self) { return [line(.uncache, uncache.coin, event: event)] }
            return []
        } catch {
            return [ToolText.undecodable(error, event: event, json: json, pidColumn: pidColumn)]
        }
    }

    /// `Added   : <txid> 0      TPC   5000000000       1 Yes`, or a JSON object.
    public func line(_ operation: Operation, _ coin: CoinEventFields, event: TraceEvent) -> String {
        if json {
            return ToolText.object([
                ("time", ToolText.time(event)), ("pid", "\(event.pid)"),
                ("op", ToolText.string(operation.rawValue)),
                ("txid", ToolText.string(coin.txid)),
                ("index", "\(coin.index)"),
                ("token", ToolText.string(coin.colourID)),
                ("value", "\(coin.value)"),
                ("height", "\(coin.height)"),
                ("coinbase", "\(coin.isCoinbase)"),
            ])
        }
        let text = [
            ToolText.left(operation.rawValue, 8) + ":",
            ToolText.left(coin.txid + " " + "\(coin.index)", Self.outpointWidth),
            ToolText.left(coin.colourID, Self.tokenWidth),
            ToolText.right("\(coin.value)", Self.valueWidth),
            ToolText.right("\(coin.height)", Self.heightWidth),
            coin.isCoinbase ? "Yes" : "No",
        ].joined(separator: " ")
        return ToolText.labelled(text, pid: event.pid, shown: pidColumn)
    }
}

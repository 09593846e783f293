import Foundation
import TapyrusEncoding
import TraceHarness

/// `tapyrus-trace raw-p2p`: every P2P message with all its bytes as hex (the
/// seed's `log_raw_p2p_msgs.py`), of any size up to the protocol maximum.
///
/// A message is marked incomplete only when its bytes could not be read in
/// full, saying how many were; the capture's summary counts lost events. The
/// closing counts are per process, with a PID column.
public struct RawP2PLog: TraceTool {
    /// Messages printed whole and with fewer bytes than declared, of one process.
    public struct Counts: Sendable, Hashable {
        public var complete = 0
        public var incomplete = 0
    }

    /// JSON Lines instead of text.
    public var json: Bool
    /// Text lines start with the process's pid (see ``PIDColumn``).
    public var pidColumn: Bool
    public let probes = TracedP2PMessage.probes
    public var readsPayloads: Bool { true }
    /// The counts of each process, by pid.
    public private(set) var countsByPID: [Int32: Counts] = [:]
    /// The pids in the order their first message arrived.
    public private(set) var pids: [Int32] = []

    public init(json: Bool = false, pidColumn: Bool = false) {
        self.json = json
        self.pidColumn = pidColumn
    }

    /// Messages printed whole so far, over every process.
    public var complete: Int { countsByPID.values.reduce(0) { $0 + $1.complete } }
    /// Messages printed with fewer bytes than declared, over every process.
    public var incomplete: Int { countsByPID.values.reduce(0) { $0 + $1.incomplete } }

    public func header() -> [String] {
        json ? [] : ["Logging raw P2P messages, whole (up to 32 MiB each)."]
    }

    public mutating func consume(_ event: TraceEvent) -> [String] {
        do {
            guard let message = try TracedP2PMessage(event) else { return [] }
            if countsByPID[event.pid] == nil { pids.append(event.pid) }
            if message.payload.isComplete {
                countsByPID[event.pid, default: Counts()].complete += 1
            } else {
                countsByPID[event.pid, default: Counts()].incomplete += 1
            }
            return [line(for: message, event: event)]
        } catch {
            return [ToolText.undecodable(error, event: event, json: json, pidColumn: pidColumn)]
        }
    }

    /// The counts: over all, or with a PID column one line per process
    /// (and their sum, when there are several).
    public func finish() -> [String] {
        guard !json else { return [] }
        func text(_ counts: Counts) -> String {
            "\(counts.complete + counts.incomplete) messages: \(counts.complete) whole, \(counts.incomplete) incomplete"
        }
        let all = Counts(complete: complete, incomplete: incomplete)
        guard pidColumn, !pids.isEmpty else { return [text(all)] }
        let each = pids.map { PIDColumn.label(text(countsByPID[$0] ?? Counts()), pid: $0) }
        return pids.count > 1 ? each + [PIDColumn.label(text(all), "all")] : each
    }

    /// The line for one message.
    ///
    /// Text: `outbound msg 'ping' to peer 0 (inbound, 127.0.0.1:5000) with 8 bytes: 0102…`,
    /// prefixed with `Warning: incomplete message (only R out of N bytes)! `
    /// when not every byte could be read, and with a PID column by the pid.
    public func line(for message: TracedP2PMessage, event: TraceEvent) -> String {
        let payload = message.payload
        if json {
            return ToolText.object([("time", ToolText.time(event)), ("pid", "\(event.pid)")] + message.jsonMembers + [
                ("complete", "\(payload.isComplete)"),
                ("received", "\(payload.bytes.count)"),
                ("hex", ToolText.string(payload.bytes.hexString)),
            ])
        }
        let preposition = message.direction == .inbound ? "from" : "to"
        let warning = payload.isComplete ? "" : "Warning: incomplete message (only \(payload.bytes.count) out of \(payload.declaredLength) bytes)! "
        let text = "\(warning)\(message.direction.rawValue) msg '\(message.messageType)' \(preposition) peer \(message.peerID) (\(message.connectionType), \(message.peerAddress)) with \(message.size) bytes: \(payload.bytes.hexString)"
        return ToolText.labelled(text, pid: event.pid, shown: pidColumn)
    }
}

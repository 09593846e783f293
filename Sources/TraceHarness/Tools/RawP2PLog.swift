import Foundation

/// `tapyrus-trace raw-p2p`: every P2P message with all its bytes as hex (the
/// seed's `log_raw_p2p_msgs.py`), of any size up to the protocol maximum.
///
/// A message is marked incomplete only when its bytes could not be read in
/// full, saying how many were; the capture's summary counts lost events.
public struct RawP2PLog: TraceTool {
    /// JSON Lines instead of text.
    public var json: Bool
    public let probes = TracedP2PMessage.probes
    public var readsPayloads: Bool { true }
    /// Messages printed whole so far.
    public private(set) var complete = 0
    /// Messages printed with fewer bytes than declared.
    public private(set) var incomplete = 0

    public init(json: Bool = false) {
        self.json = json
    }

    public func header() -> [String] {
        json ? [] : ["Logging raw P2P messages, whole (up to 32 MiB each)."]
    }

    public mutating func consume(_ event: TraceEvent) -> [String] {
        do {
            guard let message = try TracedP2PMessage(event) else { return [] }
            if message.payload.isComplete { complete += 1 } else { incomplete += 1 }
            return [line(for: message, event: event)]
        } catch {
            return [ToolText.undecodable(error, json: json)]
        }
    }

    public func finish() -> [String] {
        json ? [] : ["\(complete + incomplete) messages: \(complete) whole, \(incomplete) incomplete"]
    }

    /// The line for one message.
    ///
    /// Text: `outbound msg 'ping' to peer 0 (inbound, 127.0.0.1:5000) with 8 bytes: 0102…`,
    /// prefixed with `Warning: incomplete message (only R out of N bytes)! `
    /// when not every byte could be read.
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
        return "\(warning)\(message.direction.rawValue) msg '\(message.messageType)' \(preposition) peer \(message.peerID) (\(message.connectionType), \(message.peerAddress)) with \(message.size) bytes: \(payload.bytes.hexString)"
    }
}

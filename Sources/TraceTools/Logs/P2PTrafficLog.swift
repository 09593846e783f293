import Foundation
import TraceHarness

/// One P2P message a node sent or received, from `net:inbound_message` or
/// `net:outbound_message`.
public struct TracedP2PMessage: Sendable, Hashable {
    /// Which way the message went.
    public enum Direction: String, Sendable, Hashable {
        case inbound, outbound
    }

    public var direction: Direction
    public var messageType: String
    public var peerID: Int64
    public var connectionType: String
    /// The peer's address, whole (a Tor v3 address with its port is 68 characters).
    public var peerAddress: String
    /// The message's size in bytes, as the tracepoint declared it.
    public var size: UInt64
    /// The message's bytes as captured.
    public var payload: Payload

    public init(direction: Direction, messageType: String, peerID: Int64, connectionType: String,
                peerAddress: String, size: UInt64, payload: Payload) {
        self.direction = direction
        self.messageType = messageType
        self.peerID = peerID
        self.connectionType = connectionType
        self.peerAddress = peerAddress
        self.size = size
        self.payload = payload
    }

    /// The two probes P2P messages come from.
    public static let probes = [InboundMessage.tracepoint.probe, OutboundMessage.tracepoint.probe]

    /// The message an event describes; nil for an event of another probe.
    public init?(_ event: TraceEvent) throws(EventDecodingError) {
        if let inbound = try event.as(InboundMessage.self) {
            self.init(direction: .inbound, messageType: inbound.messageType, peerID: inbound.peerID,
                      connectionType: inbound.connectionType, peerAddress: inbound.peerAddress,
                      size: inbound.messageSize, payload: inbound.message)
        } else if let outbound = try event.as(OutboundMessage.self) {
            self.init(direction: .outbound, messageType: outbound.messageType, peerID: outbound.peerID,
                      connectionType: outbound.connectionType, peerAddress: outbound.peerAddress,
                      size: outbound.messageSize, payload: outbound.message)
        } else {
            return nil
        }
    }

    /// `inbound 'pong' msg from peer 11 (outbound-full-relay, 127.0.0.1:1234) with 8 bytes`:
    /// the seed's line, with "to" for messages sent.
    public var summary: String {
        let preposition = direction == .inbound ? "from" : "to"
        return "\(direction.rawValue) '\(messageType)' msg \(preposition) peer \(peerID) (\(connectionType), \(peerAddress)) with \(size) bytes"
    }

    /// The JSON members every P2P tool prints for a message, after the time and pid.
    var jsonMembers: [(String, String)] {
        [
            ("direction", ToolText.string(direction.rawValue)),
            ("message_type", ToolText.string(messageType)),
            ("peer_id", "\(peerID)"),
            ("connection_type", ToolText.string(connectionType)),
            ("peer_address", ToolText.string(peerAddress)),
            ("size", "\(size)"),
        ]
    }
}

/// `tapyrus-trace p2p-log`: one line per P2P message in or out (the seed's
/// `log_p2p_traffic.bt`), with whole addresses; with a PID column, each line
/// names the process that sent or received the message.
public struct P2PTrafficLog: TraceTool {
    /// JSON Lines instead of text.
    public var json: Bool
    /// Text lines start with the process's pid (see ``PIDColumn``).
    public var pidColumn: Bool
    public let probes = TracedP2PMessage.probes

    public init(json: Bool = false, pidColumn: Bool = false) {
        self.json = json
        self.pidColumn = pidColumn
    }

    public mutating func consume(_ event: TraceEvent) -> [String] {
        do {
            guard let message = try TracedP2PMessage(event) else { return [] }
            return [line(for: message, event: event)]
        } catch {
            return [ToolText.undecodable(error, event: event, json: json, pidColumn: pidColumn)]
        }
    }

    /// The line for one message: the seed's text, or a JSON object.
    public func line(for message: TracedP2PMessage, event: TraceEvent) -> String {
        guard json else { return ToolText.labelled(message.summary, pid: event.pid, shown: pidColumn) }
        return ToolText.object([("time", ToolText.time(event)), ("pid", "\(event.pid)")] + message.jsonMembers)
    }
}

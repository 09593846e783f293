import Foundation
import TraceHarness

/// The traffic the P2P monitor shows: per node (traced process) and peer,
/// message counts and bytes in each direction, connection type, address and
/// the recent messages.
///
/// Fed with `net:inbound_message` and `net:outbound_message` events; a node
/// appears with its first message, a peer with its first message and keeps
/// its row (ids are never reused by a tapyrusd, so a reconnecting peer gets a
/// new row). Peer ids are per process: two nodes both have a peer 0, so a row
/// is a (pid, peer id) pair. A node restarted is a new process, a new node.
public struct P2PTraffic: Sendable {
    /// Which way a message went, seen from the traced node.
    public enum Direction: String, Sendable, Hashable, Codable {
        /// Sent by the traced node to the peer.
        case outbound
        /// Received by the traced node from the peer.
        case inbound
    }

    /// One message in a peer's history.
    public struct Message: Sendable, Hashable {
        public var direction: Direction
        public var type: String
        /// Payload size in bytes.
        public var size: UInt64
        public var date: Date
    }

    /// A peer of one node: the node's pid and the peer id the node gave it.
    public struct PeerKey: Sendable, Hashable, CustomStringConvertible {
        public var pid: Int32
        public var id: Int64

        public init(pid: Int32, id: Int64) {
            self.pid = pid
            self.id = id
        }

        public var description: String { "peer \(id) of process \(pid)" }
    }

    /// One traced process seen sending or receiving messages.
    public struct Node: Sendable, Hashable {
        public var pid: Int32
        /// Whether the process was seen to exit.
        public var exited = false
    }

    /// One peer's row and history.
    public struct Peer: Sendable, Hashable {
        /// The node (process) this is a peer of.
        public var pid: Int32
        /// The id the node gave the peer.
        public var id: Int64
        public var address: String
        public var connectionType: String
        public var outboundCount = 0
        public var outboundBytes: UInt64 = 0
        public var inboundCount = 0
        public var inboundBytes: UInt64 = 0
        /// The most recent messages, oldest first (at most ``P2PTraffic/historyLimit``).
        public var messages: [Message] = []
        public var lastSeen: Date

        public var key: PeerKey { PeerKey(pid: pid, id: id) }
    }

    /// Messages kept per peer.
    public let historyLimit: Int
    /// Peers by node and id.
    public private(set) var peersByKey: [PeerKey: Peer] = [:]
    /// The nodes in the order their first message was seen.
    public private(set) var nodes: [Node] = []
    private var nodeIndex: [Int32: Int] = [:]
    /// Every message recorded.
    public private(set) var totalMessages = 0

    public init(historyLimit: Int = 1000) {
        self.historyLimit = max(1, historyLimit)
    }

    /// Peers node by node (in the order the nodes appeared), each node's in id order.
    public var peers: [Peer] {
        peersByKey.values.sorted { left, right in
            let (a, b) = (nodeIndex[left.pid] ?? 0, nodeIndex[right.pid] ?? 0)
            return a != b ? a < b : left.id < right.id
        }
    }

    /// The node of process `pid`, if it sent or received a message.
    public func node(_ pid: Int32) -> Node? {
        nodeIndex[pid].map { nodes[$0] }
    }

    /// Records a P2P message event of any traced process; other events are
    /// ignored. Returns the message recorded, if any.
    @discardableResult
    public mutating func record(_ event: TraceEvent) -> Message? {
        if let inbound = try? event.as(InboundMessage.self) {
            return record(.inbound, pid: event.pid, peerID: inbound.peerID, address: inbound.peerAddress,
                          connectionType: inbound.connectionType, type: inbound.messageType, size: inbound.messageSize, date: event.date)
        }
        if let outbound = try? event.as(OutboundMessage.self) {
            return record(.outbound, pid: event.pid, peerID: outbound.peerID, address: outbound.peerAddress,
                          connectionType: outbound.connectionType, type: outbound.messageType, size: outbound.messageSize, date: event.date)
        }
        return nil
    }

    /// Records one message between node `pid` and its peer `peerID`.
    @discardableResult
    public mutating func record(_ direction: Direction, pid: Int32, peerID: Int64, address: String, connectionType: String,
                                type: String, size: UInt64, date: Date = Date()) -> Message {
        if nodeIndex[pid] == nil {
            nodeIndex[pid] = nodes.count
            nodes.append(Node(pid: pid))
        }
        let key = PeerKey(pid: pid, id: peerID)
        var peer = peersByKey[key] ?? Peer(pid: pid, id: peerID, address: address, connectionType: connectionType, lastSeen: date)
        // The connection type gains flags once the peer's version arrived.
        peer.connectionType = connectionType
        peer.address = address
        peer.lastSeen = date
        switch direction {
        case .outbound:
            peer.outboundCount += 1
            peer.outboundBytes &+= size
        case .inbound:
            peer.inboundCount += 1
            peer.inboundBytes &+= size
        }
        let message = Message(direction: direction, type: type, size: size, date: date)
        peer.messages.append(message)
        if peer.messages.count > historyLimit {
            peer.messages.removeFirst(peer.messages.count - historyLimit)
        }
        peersByKey[key] = peer
        totalMessages += 1
        return message
    }

    /// Marks node `pid` as exited; its rows stay. A pid that sent no message is ignored.
    public mutating func processExited(_ pid: Int32) {
        guard let index = nodeIndex[pid] else { return }
        nodes[index].exited = true
    }

    /// `2 nodes (1 exited), 4 peers`.
    public var countsText: String {
        let exited = nodes.filter(\.exited).count
        return "\(nodes.count) \(nodes.count == 1 ? "node" : "nodes")\(exited > 0 ? " (\(exited) exited)" : ""), "
            + "\(peersByKey.count) \(peersByKey.count == 1 ? "peer" : "peers")"
    }
}

/// The P2P monitor's screen: the peer list or one peer's message flow,
/// the selection, and the rendering of either into lines of a given size.
///
/// Pure state: the terminal I/O lives in the CLI, which feeds keys to
/// ``handle(_:peers:)`` and draws what ``render(_:width:height:status:)`` returns.
public struct P2PMonitorScreen: Sendable {
    /// What is shown.
    public enum Mode: Sendable, Hashable {
        case peers
        /// The message flow of one node with one of its peers.
        case flow(P2PTraffic.PeerKey)
    }

    /// What a key asks the caller to do.
    public enum Action: Sendable, Hashable {
        case redraw
        case quit
        case none
    }

    /// The smallest terminal the screen is drawn in.
    public static let minimumSize = (width: 60, height: 10)

    public private(set) var mode: Mode = .peers
    /// The selected row, kept by node and peer id so it survives rows appearing.
    public private(set) var selectedPeer: P2PTraffic.PeerKey?
    /// First peer row shown (scrolls to keep the selection visible).
    private var firstRow = 0
    /// Lines of the peer list above the first peer row.
    static let peerListHeader = 5
    /// Width of the PID column: the pid, and `exited` once the process is gone.
    static let pidWidth = PIDColumn.width + 8

    public init() {}

    /// Applies a key given the rows currently listed (in ``P2PTraffic/peers`` order).
    public mutating func handle(_ key: MonitorKey, peers: [P2PTraffic.Peer]) -> Action {
        switch (mode, key) {
        case (_, .interrupt):
            return .quit
        case (.peers, .quit), (.peers, .escape):
            return .quit
        case (.flow, .quit), (.flow, .escape):
            mode = .peers
            return .redraw
        case (.peers, .up), (.peers, .down):
            guard !peers.isEmpty else { return .none }
            let current = selectedIndex(in: peers) ?? 0
            let next = key == .up ? max(0, current - 1) : min(peers.count - 1, current + 1)
            selectedPeer = peers[next].key
            return .redraw
        case (.peers, .enter), (.peers, .space):
            guard let index = selectedIndex(in: peers) else { return .none }
            mode = .flow(peers[index].key)
            return .redraw
        default:
            return .none
        }
    }

    /// The index of the selected row in `peers`; the first row when none was
    /// chosen yet (or the chosen one is not listed).
    public func selectedIndex(in peers: [P2PTraffic.Peer]) -> Int? {
        guard !peers.isEmpty else { return nil }
        guard let selectedPeer else { return 0 }
        return peers.firstIndex { $0.key == selectedPeer } ?? 0
    }

    /// The screen as `height` lines of exactly `width` columns, and which
    /// line (if any) is the highlighted selection.
    public mutating func render(_ traffic: P2PTraffic, width: Int, height: Int, status: String = "") -> ScreenFrame {
        guard width >= Self.minimumSize.width, height >= Self.minimumSize.height else {
            return ScreenFrame(lines: [ScreenText.tooSmall(width: width, height: height, minimum: Self.minimumSize)], highlighted: nil)
        }
        switch mode {
        case .peers:
            return renderPeers(traffic, width: width, height: height, status: status)
        case .flow(let key):
            return renderFlow(traffic.peersByKey[key], key: key, exited: traffic.node(key.pid)?.exited ?? false, width: width, height: height)
        }
    }

    private mutating func renderPeers(_ traffic: P2PTraffic, width: Int, height: Int, status: String) -> ScreenFrame {
        let peers = traffic.peers
        var lines = [
            " P2P Message Monitor",
            " Navigate with UP/DOWN or J/K and select a peer with ENTER or SPACE to see individual P2P messages",
            "",
            "  " + ScreenText.fit("PID", Self.pidWidth) + " PEER  " + ScreenText.fit("OUTBOUND", 23) + ScreenText.fit("INBOUND", 23)
                + ScreenText.fit("TYPE", 23) + "ADDR",
        ]
        lines.append("")
        let rows = height - Self.peerListHeader - 1
        var highlighted: Int?
        if peers.isEmpty {
            lines.append("  waiting for P2P messages…")
        } else {
            let selected = selectedIndex(in: peers) ?? 0
            selectedPeer = peers[selected].key
            if selected < firstRow { firstRow = selected }
            if selected >= firstRow + rows { firstRow = selected - rows + 1 }
            firstRow = max(0, min(firstRow, max(0, peers.count - rows)))
            for index in firstRow..<min(peers.count, firstRow + rows) {
                if index == selected { highlighted = lines.count }
                let exited = traffic.node(peers[index].pid)?.exited ?? false
                lines.append(Self.peerRow(peers[index], nodeExited: exited, selected: index == selected))
            }
        }
        while lines.count < height - 1 { lines.append("") }
        let more = peers.count > rows ? " · rows \(firstRow + 1)-\(min(peers.count, firstRow + rows)) of \(peers.count)" : ""
        lines.append(" \(traffic.countsText)\(more)\(status.isEmpty ? "" : " · " + status) · q/ESC quit")
        return ScreenFrame(lines: lines.map { ScreenText.fit($0, width) }, highlighted: highlighted)
    }

    /// One row: the node's pid (`exited` once it is gone), then the seed's columns.
    public static func peerRow(_ peer: P2PTraffic.Peer, nodeExited: Bool, selected: Bool) -> String {
        let marker = selected ? ">" : " "
        return marker + " "
            + ScreenText.fit("\(peer.pid)\(nodeExited ? " exited" : "")", pidWidth)
            + ScreenText.right(String(peer.id), 5) + "  "
            + ScreenText.fit(String(peer.outboundCount), 6) + ScreenText.right(String(peer.outboundBytes), 10) + " byte  "
            + ScreenText.fit(String(peer.inboundCount), 6) + ScreenText.right(String(peer.inboundBytes), 10) + " byte  "
            + ScreenText.fit(peer.connectionType, 22) + " " + peer.address
    }

    private func renderFlow(_ peer: P2PTraffic.Peer?, key: P2PTraffic.PeerKey, exited: Bool, width: Int, height: Int) -> ScreenFrame {
        let boxWidth = min(width - 4, 100)
        let inner = boxWidth - 4
        let indent = String(repeating: " ", count: max(0, (width - boxWidth) / 2))
        let rule = indent + String(repeating: "-", count: boxWidth)
        func boxed(_ text: String) -> String { indent + "| " + ScreenText.fit(text, inner) + " |" }

        let node = "NODE \(key.pid)\(exited ? " (exited)" : "")"
        var lines = [rule, boxed(ScreenText.centre("\(node) · PEER \(key.id) (\(peer?.address ?? "unknown"))", inner))]
        let type = peer?.connectionType ?? ""
        let ends = "OUR NODE" + ScreenText.centre(type, max(0, inner - 12)) + "PEER"
        lines.append(boxed(ends))
        let room = height - lines.count - 2
        let messages = peer?.messages ?? []
        let shown = messages.suffix(messages.count > room ? room - 1 : room)
        if shown.count < messages.count {
            lines.append(boxed(ScreenText.centre("… \(messages.count - shown.count) earlier", inner)))
        }
        for message in shown {
            lines.append(boxed(Self.flowText(message, inner: inner)))
        }
        if messages.isEmpty { lines.append(boxed(ScreenText.centre("no messages yet", inner))) }
        lines.append(rule)
        while lines.count < height - 1 { lines.append("") }
        lines.append(" q/ESC back")
        return ScreenFrame(lines: lines.map { ScreenText.fit($0, width) }, highlighted: nil)
    }

    /// A message in the flow: ours on the left, the peer's on the right.
    public static func flowText(_ message: P2PTraffic.Message, inner: Int) -> String {
        switch message.direction {
        case .outbound:
            ScreenText.fit("\(message.type) (\(message.size) byte) --->", inner)
        case .inbound:
            ScreenText.right("<--- \(message.type) (\(message.size) bytes)", inner)
        }
    }
}

/// A rendered screen: one string per row and the row to draw highlighted.
public struct ScreenFrame: Sendable, Hashable {
    public var lines: [String]
    public var highlighted: Int?

    public init(lines: [String], highlighted: Int?) {
        self.lines = lines
        self.highlighted = highlighted
    }
}

/// One P2P message as a JSON Lines record (`p2p-monitor --json`).
public struct P2PMonitorRecord: Sendable, Codable {
    public var time: String
    /// The process that sent or received the message.
    public var pid: Int32
    public var direction: P2PTraffic.Direction
    public var peerID: Int64
    public var address: String
    public var connectionType: String
    public var type: String
    public var size: UInt64

    enum CodingKeys: String, CodingKey {
        case time, pid, direction, peerID = "peer_id", address, connectionType = "connection_type", type, size
    }

    /// The record of a P2P message event; nil for other events.
    public init?(_ event: TraceEvent) {
        if let inbound = try? event.as(InboundMessage.self) {
            self.init(time: event.date, pid: event.pid, direction: .inbound, peerID: inbound.peerID, address: inbound.peerAddress,
                      connectionType: inbound.connectionType, type: inbound.messageType, size: inbound.messageSize)
        } else if let outbound = try? event.as(OutboundMessage.self) {
            self.init(time: event.date, pid: event.pid, direction: .outbound, peerID: outbound.peerID, address: outbound.peerAddress,
                      connectionType: outbound.connectionType, type: outbound.messageType, size: outbound.messageSize)
        } else {
            return nil
        }
    }

    init(time: Date, pid: Int32, direction: P2PTraffic.Direction, peerID: Int64, address: String, connectionType: String, type: String, size: UInt64) {
        self.time = MonitorTime.iso(time)
        self.pid = pid
        self.direction = direction
        self.peerID = peerID
        self.address = address
        self.connectionType = connectionType
        self.type = type
        self.size = size
    }

    /// One JSON line.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// Timestamps of the monitors, as the `log` command prints them (UTC).
public enum MonitorTime {
    /// ISO 8601 with microseconds, UTC (the `time` of JSON Lines).
    public static func iso(_ date: Date) -> String {
        EventFormatter.isoTime(date)
    }

    /// `HH:MM:SS.mmm`, UTC.
    public static func clock(_ date: Date) -> String {
        String(EventFormatter.time(date).dropLast(3))
    }
}

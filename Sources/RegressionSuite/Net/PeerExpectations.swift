import Foundation
import NodeControl
import TapyrusEncoding
import TraceHarness

/// One peer as a node's `getpeerinfo` reports it: the ground truth for the
/// peer fields of `net:inbound_message` and `net:outbound_message`.
struct ReportedPeer: Sendable, CustomStringConvertible {
    var id: Int64
    var addr: String
    var addrbind: String?
    var inbound: Bool
    var whitelisted: Bool
    var addnode: Bool
    var relaytxes: Bool
    var services: UInt64
    var subver: String

    init(_ json: JSONValue) throws {
        guard let id = json["id"]?.intValue, let addr = json["addr"]?.stringValue,
              let inbound = json["inbound"]?.boolValue else {
            throw ScenarioError("getpeerinfo entry without id, addr or inbound: \(json)")
        }
        self.id = id
        self.addr = addr
        self.inbound = inbound
        addrbind = json["addrbind"]?.stringValue
        whitelisted = json["whitelisted"]?.boolValue ?? false
        addnode = json["addnode"]?.boolValue ?? false
        relaytxes = json["relaytxes"]?.boolValue ?? false
        services = json["services"]?.stringValue.flatMap { UInt64($0, radix: 16) } ?? 0
        subver = json["subver"]?.stringValue ?? ""
    }

    /// Every peer `node` reports.
    static func all(of node: TapyrusNode) async throws -> [ReportedPeer] {
        let reply = try await node.rpc.call("getpeerinfo")
        guard let entries = reply.arrayValue else { throw ScenarioError("getpeerinfo is not an array: \(reply)") }
        return try entries.map(ReportedPeer.init)
    }

    /// The connection type string tapyrusd passes (`CNode::GetConnectionType`:
    /// origin, one-shot, whitelisted, feeler, limited, manual, relays
    /// transactions, joined by `-`), rebuilt from these `getpeerinfo` fields.
    ///
    /// `getpeerinfo` reports no one-shot or feeler flag: `oneShot` says
    /// whether the scenario made this connection with `-seednode` (no
    /// scenario makes feelers). The limited and relay flags are learned from
    /// the peer's `version`, so `afterVersion: false` gives the string of the
    /// events before that.
    func connectionType(afterVersion: Bool, oneShot: Bool = false) -> String {
        let limited = services & 1 == 0 && services & 1024 != 0
        return [
            inbound ? "In" : "Out", oneShot ? "O" : "", whitelisted ? "W" : "", "",
            afterVersion && limited ? "L" : "", addnode ? "M" : "", afterVersion && relaytxes ? "Tx" : "",
        ].joined(separator: "-")
    }

    var description: String { "peer \(id) \(addr) (\(inbound ? "inbound" : "outbound"))" }
}

/// A P2P message event of either direction, for comparisons that treat both alike.
struct MessageEvent: Sendable, CustomStringConvertible {
    enum Direction: String, Sendable { case inbound, outbound }

    var direction: Direction
    var peerID: Int64
    var peerAddress: String
    var connectionType: String
    var messageType: String
    var messageSize: UInt64
    var message: Payload

    init(_ direction: Direction, _ fields: P2PMessageFields) {
        self.direction = direction
        peerID = fields.peerID
        peerAddress = fields.peerAddress
        connectionType = fields.connectionType
        messageType = fields.messageType
        messageSize = fields.messageSize
        message = fields.message
    }

    init(_ event: InboundMessage) { self.init(.inbound, event.fields) }

    init(_ event: OutboundMessage) { self.init(.outbound, event.fields) }

    /// The message events of a recording, in the order they fired.
    static func all(in recording: EventRecording) async throws -> [MessageEvent] {
        try await recording.all().compactMap { event throws(EventDecodingError) -> MessageEvent? in
            if let inbound = try event.as(InboundMessage.self) { return MessageEvent(inbound) }
            if let outbound = try event.as(OutboundMessage.self) { return MessageEvent(outbound) }
            return nil
        }
    }

    var description: String { "\(direction.rawValue) \(messageType) (\(messageSize) bytes) peer \(peerID)" }
}

extension Array where Element == MessageEvent {
    /// The events exchanged with peer `id` in `direction`.
    func with(peer id: Int64, _ direction: MessageEvent.Direction) -> [MessageEvent] {
        filter { $0.peerID == id && $0.direction == direction }
    }

    /// How many events of each message type, as `type×count`, sorted.
    var typeCounts: [String: Int] {
        Dictionary(grouping: self, by: \.messageType).mapValues(\.count)
    }
}

/// `type×count, …` in type order, for evidence lines.
func describeCounts(_ counts: [String: Int]) -> String {
    counts.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ", ")
}

/// Checks the peer fields of `events` (all exchanged with one peer, in the
/// order they fired) against `getpeerinfo`'s `peer`: id, address, and the
/// connection type, which lacks the flags learned from the peer's `version`
/// up to and including the node's `verack` (sent while handling that version).
/// `oneShot`: the scenario made the connection with `-seednode`.
func checkPeerFields(_ events: [MessageEvent], of peer: ReportedPeer, node: String, oneShot: Bool = false, _ check: Check) {
    check.that(events.allSatisfy { $0.peerID == peer.id },
               "\(node): \(events.count) events carry getpeerinfo's peer id \(peer.id)")
    let addresses = Set(events.map(\.peerAddress))
    check.equal(addresses, [peer.addr], "\(node): every event of peer \(peer.id) carries getpeerinfo's addr \(peer.addr)")
    let handshakeEnd = events.firstIndex { $0.direction == .outbound && $0.messageType == "verack" }
    check.that(handshakeEnd != nil, "\(node): the node's verack to peer \(peer.id) was traced")
    let before = peer.connectionType(afterVersion: false, oneShot: oneShot)
    let after = peer.connectionType(afterVersion: true, oneShot: oneShot)
    let expected = events.indices.map { index in index <= (handshakeEnd ?? events.count) ? before : after }
    check.equal(events.map(\.connectionType), expected,
                "\(node): connection types of peer \(peer.id) are \(before) until the node's verack, then \(after) (getpeerinfo)")
}

/// Checks that the event's size is its payload's byte count (no header) and
/// the payload arrived whole and equals `expected`, which is `source`.
func checkPayload(_ event: MessageEvent, equals expected: [UInt8], _ source: String, _ what: String, _ check: Check) {
    check.equal(event.messageSize, UInt64(expected.count), "\(what): message_size is the payload's \(expected.count) bytes, without the 24-byte header")
    check.that(event.message.isComplete, "\(what): payload captured whole",
               detail: "\(event.message.bytes.count) of \(event.message.declaredLength) bytes")
    check.that(event.message.bytes == expected, "\(what): payload bytes equal \(source)",
               detail: firstDifference(event.message.bytes, expected))
}

/// Where two byte strings first differ, for failure details.
func firstDifference(_ actual: [UInt8], _ expected: [UInt8]) -> String {
    let common = Swift.min(actual.count, expected.count)
    let index = (0..<common).first { actual[$0] != expected[$0] } ?? common
    let window = { (bytes: [UInt8]) in Hex.encode(bytes[Swift.min(index, bytes.count)..<Swift.min(index + 16, bytes.count)]) }
    return "\(actual.count) vs \(expected.count) bytes, first difference at \(index): \(window(actual)) vs \(window(expected))"
}

/// Polls `condition` until it returns nil or `timeout` passes; returns the
/// last reason it gave (nil when it held).
func pollUntil(timeout: Duration, _ condition: () async throws -> String?) async throws -> String? {
    let deadline = ContinuousClock.now + timeout
    while true {
        let reason = try await condition()
        if reason == nil || ContinuousClock.now >= deadline { return reason }
        try await Task.sleep(for: .milliseconds(50))
    }
}

/// The `getpeerinfo` entries by which two connected nodes see each other:
/// `from` made an outbound connection to `to`.
func linkedPeers(from: TapyrusNode, to: TapyrusNode) async throws -> (onFrom: ReportedPeer, onTo: ReportedPeer) {
    let onFrom = try requireScenario(try await ReportedPeer.all(of: from).first { !$0.inbound && $0.addr == to.p2pAddress },
                                     "\(from.name)'s outbound peer \(to.p2pAddress)")
    let inbound = try await ReportedPeer.all(of: to).filter(\.inbound)
    let onTo = try requireScenario(inbound.first { $0.addr == onFrom.addrbind } ?? (inbound.count == 1 ? inbound.first : nil),
                                   "\(to.name)'s inbound peer \(onFrom.addrbind ?? "?")")
    return (onFrom, onTo)
}

/// Checks that what `sender` sent over one link is what `receiver` received:
/// per message type, the same number of events, in order with equal sizes and
/// bytes. Waits (bounded) for messages still in flight first.
func checkLinkAgrees(
    sender: (name: String, recording: EventRecording, peer: ReportedPeer),
    receiver: (name: String, recording: EventRecording, peer: ReportedPeer),
    _ check: Check
) async throws -> (sent: [MessageEvent], received: [MessageEvent]) {
    var sent: [MessageEvent] = []
    var received: [MessageEvent] = []
    let mismatch = try await pollUntil(timeout: .seconds(5)) {
        sent = try await MessageEvent.all(in: sender.recording).with(peer: sender.peer.id, .outbound)
        received = try await MessageEvent.all(in: receiver.recording).with(peer: receiver.peer.id, .inbound)
        return sent.typeCounts == received.typeCounts ? nil
            : "sent \(describeCounts(sent.typeCounts)); received \(describeCounts(received.typeCounts))"
    }
    let link = "\(sender.name)→\(receiver.name)"
    check.that(mismatch == nil, "\(link): every message type sent was received as often (\(describeCounts(sent.typeCounts)))",
               detail: mismatch ?? "")
    let receivedByType = Dictionary(grouping: received, by: \.messageType)
    for (type, outgoing) in Dictionary(grouping: sent, by: \.messageType).sorted(by: { $0.key < $1.key }) {
        let incoming = receivedByType[type] ?? []
        let pairs = zip(outgoing, incoming)
        let sizesAgree = pairs.allSatisfy { $0.messageSize == $1.messageSize }
        let bytesAgree = pairs.allSatisfy { $0.message.bytes == $1.message.bytes && $0.message.isComplete && $1.message.isComplete }
        check.that(sizesAgree && bytesAgree && outgoing.count == incoming.count,
                   "\(link) \(type)×\(outgoing.count): each sent message's size and bytes equal the received one's, in order",
                   detail: pairs.first { $0.messageSize != $1.messageSize || $0.message.bytes != $1.message.bytes }
                       .map { "\($0.messageSize) vs \($1.messageSize) bytes; " + firstDifference($0.message.bytes, $1.message.bytes) }
                       ?? "\(outgoing.count) sent, \(incoming.count) received")
    }
    return (sent, received)
}

/// A block as RPC serialises it: `getblockheader <hash> false` and `getblock <hash> 0`.
struct SerialisedBlock: Sendable {
    var hash: String
    var header: [UInt8]
    var block: [UInt8]

    init(hash: String, header: [UInt8], block: [UInt8]) {
        self.hash = hash
        self.header = header
        self.block = block
    }

    init(hash: String, rpc: RPCClient) async throws {
        self.hash = hash
        let headerHex = try await rpc.call("getblockheader", [.string(hash), .bool(false)]).stringValue
        header = try requireScenario(headerHex.flatMap(Hex.decode), "getblockheader \(hash) false")
        block = try requireScenario(Hex.decode(try await rpc.getBlockHex(hash: hash)), "getblock \(hash) 0")
    }

    /// Whether `event` delivers this block: a `block` message equal to the
    /// block's serialisation, or (BIP152) a `cmpctblock` of a coinbase-only
    /// block: the header, an 8-byte nonce, no short ids, and the coinbase
    /// prefilled at index 0.
    func isDelivered(by event: MessageEvent) -> Bool {
        switch event.messageType {
        case "block":
            return event.message.bytes == block
        case "cmpctblock":
            // A coinbase-only block serialises as header, transaction count 1, coinbase.
            guard block.count > header.count + 1, block[header.count] == 1 else { return false }
            let bytes = event.message.bytes
            let coinbase = block[(header.count + 1)...]
            let fixed = header.count + 8
            return bytes.count == fixed + 3 + coinbase.count
                && Array(bytes[..<header.count]) == header
                && Array(bytes[fixed..<(fixed + 3)]) == [0, 1, 0]
                && Array(bytes[(fixed + 3)...]) == Array(coinbase)
        default:
            return false
        }
    }
}

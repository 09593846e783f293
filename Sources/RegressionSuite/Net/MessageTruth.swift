import Foundation
import TapyrusEncoding
import NodeControl

/// What a node's RPC says a P2P message it sends must hold: the ground truth
/// for the size and bytes of `net:outbound_message` (and, since the receiver
/// gets the same bytes, of the peer's `net:inbound_message`) in a
/// conversation between two nodes.
///
/// Each message type is checked against what the sender's RPC reports:
/// `version` against `getnetworkinfo` and its height, `headers` against
/// `getblockheader <hash> false`, `block` against `getblock <hash> 0`,
/// `inv`, `getheaders` and `getdata` against the sender's or the peer's chain,
/// and fixed-size or empty messages against their wire layout.
struct MessageTruth: Sendable {
    /// The sender's `getnetworkinfo`.
    var protocolVersion: Int32
    var localServices: UInt64
    var subversion: String
    /// The sender's chain at the time its `version` went out (its start height).
    var startHeight: Int32
    /// Serialised headers and blocks of the chain both nodes share, by hash (RPC hex).
    var headers: [String: [UInt8]]
    var blocks: [String: [UInt8]]
    /// Block hashes in height order, genesis first.
    var chain: [String]
    /// Nonces of the pings the peer sent, which the sender's pongs must echo.
    var peerPingNonces: Set<UInt64>

    /// Reads the truth from `node`'s RPC for its current chain.
    static func of(_ node: TapyrusNode, startHeight: Int32, peerPings: [MessageEvent]) async throws -> MessageTruth {
        let network = try await node.rpc.call("getnetworkinfo")
        let version = try requireScenario(network["protocolversion"]?.intValue, "getnetworkinfo protocolversion")
        let services = try requireScenario(network["localservices"]?.stringValue.flatMap { UInt64($0, radix: 16) }, "getnetworkinfo localservices")
        let subversion = try requireScenario(network["subversion"]?.stringValue, "getnetworkinfo subversion")
        var headers: [String: [UInt8]] = [:]
        var blocks: [String: [UInt8]] = [:]
        var chain: [String] = []
        for height in 0...(try await node.rpc.getBlockCount()) {
            let block = try await SerialisedBlock(hash: try await node.rpc.getBlockHash(height: height), rpc: node.rpc)
            headers[block.hash] = block.header
            blocks[block.hash] = block.block
            chain.append(block.hash)
        }
        let nonces = peerPings.compactMap { P2PMessage(command: "ping", payload: $0.message.bytes).nonce }
        return MessageTruth(protocolVersion: Int32(version), localServices: services, subversion: subversion,
                            startHeight: startHeight, headers: headers, blocks: blocks, chain: chain,
                            peerPingNonces: Set(nonces))
    }

    /// Why `event`'s payload is not what the sender's RPC demands, or nil when it is.
    func disagreement(with event: MessageEvent) -> String? {
        let payload = event.message.bytes
        guard event.message.isComplete else { return "payload incomplete (\(payload.count) of \(event.message.declaredLength) bytes)" }
        guard event.messageSize == UInt64(payload.count) else { return "message_size \(event.messageSize) is not the payload's \(payload.count) bytes" }
        do {
            switch event.messageType {
            case "version":
                let version = try VersionMessage.decode(payload)
                let expected: [String] = ["\(protocolVersion)", String(localServices, radix: 16), subversion, "\(startHeight)"]
                let arrived: [String] = ["\(version.version)", String(version.services, radix: 16), version.userAgent, "\(version.startHeight)"]
                return arrived == expected ? nil
                    : "version (protocol, services, user agent, start height) \(arrived), getnetworkinfo and the chain say \(expected)"
            case "verack", "sendheaders", "getaddr", "mempool":
                return payload.isEmpty ? nil : "\(event.messageType) carries \(payload.count) bytes, none expected"
            case "ping", "feefilter":
                return payload.count == 8 ? nil : "\(event.messageType) is \(payload.count) bytes, not 8"
            case "pong":
                guard let nonce = P2PMessage(command: "pong", payload: payload).nonce else { return "pong is \(payload.count) bytes, not 8" }
                return peerPingNonces.contains(nonce) ? nil : "pong nonce \(nonce) echoes no ping the peer sent"
            case "sendcmpct":
                return payload.count == 9 && payload[0] <= 1 ? nil : "sendcmpct is not a flag and an 8-byte version: \(Hex.encode(payload))"
            case "headers":
                return headersDisagreement(payload)
            case "inv", "getdata", "notfound":
                let items = try P2PMessage(command: event.messageType, payload: payload).inventory()
                guard payload.count == compactSizeLength(items.count) + 36 * items.count else { return "\(items.count) items in \(payload.count) bytes" }
                let unknown = items.filter { $0.type == .block && blocks[Hex.encode($0.hash.reversed())] == nil }
                return unknown.isEmpty ? nil : "\(unknown.count) block item(s) not in the chain"
            case "getheaders", "getblocks":
                return locatorDisagreement(payload)
            case "block":
                return blocks.values.contains(payload) ? nil : "block payload equals no getblock <hash> 0 of the chain"
            case "cmpctblock":
                return chain.contains { hash in
                    guard let header = headers[hash], let block = blocks[hash] else { return false }
                    return SerialisedBlock(hash: hash, header: header, block: block).isDelivered(by: event)
                } ? nil : "cmpctblock is no chain block's header and prefilled coinbase"
            case "addr":
                var reader = ByteReader(payload)
                let count = Int(try reader.readCompactSize())
                return payload.count == compactSizeLength(count) + 30 * count ? nil : "addr of \(count) entries in \(payload.count) bytes"
            default:
                return "no ground truth for message type \(event.messageType)"
            }
        } catch {
            return "\(event.messageType) payload does not decode: \(error)"
        }
    }

    /// A `headers` payload: a count, then per header its serialisation and a
    /// zero transaction count; every header one of the chain's, in height order.
    private func headersDisagreement(_ payload: [UInt8]) -> String? {
        var reader = ByteReader(payload)
        guard let count = try? reader.readCompactSize() else { return "headers has no count" }
        var position = payload.count - reader.remaining
        var matched = 0
        for hash in chain {
            guard matched < count, let header = headers[hash] else { continue }
            let end = position + header.count + 1
            if end <= payload.count, Array(payload[position..<(end - 1)]) == header, payload[end - 1] == 0 {
                position = end
                matched += 1
            }
        }
        return matched == count && position == payload.count ? nil
            : "headers: \(matched) of \(count) headers equal getblockheader's, \(payload.count - position) bytes left over"
    }

    /// A `getheaders`/`getblocks` payload: a version, a locator of the
    /// chain's hashes and a stop hash.
    private func locatorDisagreement(_ payload: [UInt8]) -> String? {
        var reader = ByteReader(payload)
        guard let version: UInt32 = try? reader.read(), let count = try? reader.readCompactSize(),
              payload.count == 4 + compactSizeLength(Int(count)) + 32 * (Int(count) + 1) else {
            return "locator of \(payload.count) bytes does not parse"
        }
        guard version == UInt32(protocolVersion) else { return "locator version \(version), getnetworkinfo says \(protocolVersion)" }
        for _ in 0..<count {
            guard let hash = try? reader.read(count: 32), blocks[Hex.encode(hash.reversed())] != nil else {
                return "a locator hash is not in the chain"
            }
        }
        return nil
    }

    private func compactSizeLength(_ value: Int) -> Int {
        value < 0xfd ? 1 : value <= 0xffff ? 3 : value <= 0xffff_ffff ? 5 : 9
    }
}

/// What `getpeerinfo` counts per message type for one peer, header included:
/// the ground truth that every message of a conversation was traced, the
/// ones after the scenario's last barrier too.
struct PeerTraffic: Sendable, Equatable, CustomStringConvertible {
    var sent: [String: Int]
    var received: [String: Int]

    /// The bytes per type that `events` (one peer's, both directions) account for.
    init(events: [MessageEvent]) {
        var sent: [String: Int] = [:]
        var received: [String: Int] = [:]
        for event in events {
            let bytes = Int(event.messageSize) + 24
            switch event.direction {
            case .outbound: sent[event.messageType, default: 0] += bytes
            case .inbound: received[event.messageType, default: 0] += bytes
            }
        }
        self.sent = sent
        self.received = received
    }

    init(sent: [String: Int], received: [String: Int]) {
        self.sent = sent
        self.received = received
    }

    /// `bytessent_per_msg` and `bytesrecv_per_msg` of peer `id` on `node`.
    static func reported(by node: TapyrusNode, peer id: Int64) async throws -> PeerTraffic {
        let reply = try await node.rpc.call("getpeerinfo")
        let entry = try requireScenario(reply.arrayValue?.first { $0["id"]?.intValue == id }, "peer \(id) in \(node.name)'s getpeerinfo")
        func counts(_ key: String) -> [String: Int] {
            guard case .object(let fields)? = entry[key] else { return [:] }
            return fields.compactMapValues { $0.intValue.map(Int.init) }.filter { $0.value > 0 }
        }
        return PeerTraffic(sent: counts("bytessent_per_msg"), received: counts("bytesrecv_per_msg"))
    }

    var description: String {
        "sent \(describeCounts(sent)); received \(describeCounts(received))"
    }
}

/// Checks that the message events of peer `peer` on `node` account for
/// every byte `getpeerinfo` counts for it, in each direction and message
/// type (payload plus the 24-byte header): so no message went untraced, none
/// was traced twice, and no size left out or added the header.
///
/// `getpeerinfo` counts a received message when its last byte arrives, and
/// the node traces it when it processes it, a moment later; so the two are
/// compared once they agree or the recording's timeout passes.
func checkTrafficAccounted(_ node: TapyrusNode, peer: ReportedPeer, recording: EventRecording, _ check: Check) async throws {
    var traced = PeerTraffic(sent: [:], received: [:])
    var reported = traced
    let mismatch = try await pollUntil(timeout: .seconds(10)) {
        reported = try await PeerTraffic.reported(by: node, peer: peer.id)
        traced = PeerTraffic(events: try await MessageEvent.all(in: recording).filter { $0.peerID == peer.id })
        return traced == reported ? nil : "traced \(traced), getpeerinfo \(reported)"
    }
    check.that(mismatch == nil, "\(node.name): the traced messages of peer \(peer.id), 24 header bytes added to each size, equal getpeerinfo's bytes per message type (\(reported))",
               detail: mismatch ?? "")
}

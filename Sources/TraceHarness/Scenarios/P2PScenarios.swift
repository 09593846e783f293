import Foundation
import NodeControl

extension ScenarioCatalog {
    static let p2p: [any Scenario] = [RawPeerMessagesScenario(), NodeSyncMessagesScenario()]
}

/// `net:inbound_message` / `net:outbound_message` against our own raw peer:
/// the handshake and a ping with a known nonce, byte for byte.
struct RawPeerMessagesScenario: Scenario {
    let name = "net-raw-peer"
    let tracepoints = [InboundMessage.tracepoint.probe, OutboundMessage.tracepoint.probe]

    /// The ping nonce we send ("TRACEPIN" in ASCII).
    static let nonce: UInt64 = 0x5452_4143_4550_494E

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        try await withScenarioNode(context, check, name: name) { node in
            let recording = try await context.record(node)
            let peer = try await node.connectRawPeer()
            defer { Task { await peer.close() } }
            let (_, pong) = try await peer.ping(nonce: Self.nonce)
            let sent = await peer.sent
            let received = await peer.received

            let peers = try await ReportedPeer.all(of: node)
            check.equal(peers.count, 1, "getpeerinfo lists exactly our raw peer")
            let ours = try requireScenario(peers.first { $0.inbound && $0.subver == "/tapyrus-trace:0.1/" }, "our raw peer in getpeerinfo")

            // What the node received from us: exactly what we sent.
            try await recording.wait(for: sent.count, InboundMessage.self) { $0.peerID == ours.id }
            try await recording.wait(for: received.count, OutboundMessage.self) { $0.peerID == ours.id }
            let events = try await MessageEvent.all(in: recording).filter { $0.peerID == ours.id }
            let inbound = events.with(peer: ours.id, .inbound)
            check.equal(inbound.map(\.messageType), sent.map(\.command), "inbound events are exactly the messages we sent, in order")
            for (event, wire) in zip(inbound, sent) {
                checkPayload(event, equals: wire.message.payload, "inbound \(wire.command)", check)
            }

            // What the node sent us, up to the pong: exactly what we received.
            let outbound = Array(events.with(peer: ours.id, .outbound).prefix(received.count))
            check.equal(outbound.map(\.messageType), received.map(\.command),
                        "outbound events up to the pong are exactly the \(received.count) messages we received, in order")
            for (event, wire) in zip(outbound, received) {
                checkPayload(event, equals: wire.message.payload, "outbound \(wire.command)", check)
            }
            let pongEvent = outbound.last { $0.messageType == "pong" }
            check.equal(pong.message.nonce, Self.nonce, "the pong we received echoes our nonce")
            check.equal(pongEvent.flatMap { P2PMessage(command: "pong", payload: $0.message.bytes).nonce }, Self.nonce,
                        "the outbound pong event's payload echoes our nonce")
            check.that(["version", "verack"].allSatisfy { type in outbound.contains { $0.messageType == type } },
                       "the node's version and verack to us were traced")

            // Up to the pong (the node may go on sending after it; we stop reading there).
            let handshakeAndPing = Array(events.prefix { event in
                !(event.direction == .outbound && event.messageType == "pong")
            }) + (pongEvent.map { [$0] } ?? [])
            checkPeerFields(handshakeAndPing, of: ours, node: node.name, check)
            check.knownIssue("tapyrusd's tracing.md documents the connection origin as \"in\"/\"out\"; the code passes \"In\"/\"Out\"") {
                check.that(handshakeAndPing.allSatisfy { $0.connectionType.hasPrefix("in-") },
                           "connection types start with the documented origin \"in\"",
                           detail: "arrived \(Set(handshakeAndPing.map(\.connectionType)).sorted())")
            }

            // No inbound event beyond what we sent, after a settle.
            try await Task.sleep(for: .milliseconds(200))
            let settled = try await MessageEvent.all(in: recording).with(peer: ours.id, .inbound)
            check.equal(settled.count, sent.count, "no inbound event from our peer beyond the \(sent.count) messages we sent")
        }
    }
}

/// `net:inbound_message` / `net:outbound_message` between two nodes syncing
/// blocks: what one node sends, the other receives, with the same size and
/// bytes, and the blocks travel as `getblock`'s serialisation.
struct NodeSyncMessagesScenario: Scenario {
    let name = "net-node-sync"
    let tracepoints = [InboundMessage.tracepoint.probe, OutboundMessage.tracepoint.probe]

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        try await withScenarioNodePair(context, check, names: ("\(name)-a", "\(name)-b")) { nodeA, nodeB in
            let recordingA = try await context.record(nodeA)
            let recordingB = try await context.record(nodeB)
            try await NodeNetwork.connect(nodeA, to: nodeB)
            let address = try await nodeA.rpc.getNewAddress()
            let hashes = try await nodeA.rpc.generateToAddress(3, address: address)
            try await NodeNetwork.waitForSync([nodeA, nodeB])

            let (peerOnA, peerOnB) = try await linkedPeers(from: nodeA, to: nodeB)
            let (sentByA, _) = try await checkLinkAgrees(sender: (nodeA.name, recordingA, peerOnA),
                                                         receiver: (nodeB.name, recordingB, peerOnB), check)
            let (sentByB, _) = try await checkLinkAgrees(sender: (nodeB.name, recordingB, peerOnB),
                                                         receiver: (nodeA.name, recordingA, peerOnA), check)
            check.that(sentByA.contains { $0.messageType == "headers" || $0.messageType == "inv" },
                       "\(nodeA.name) announced blocks with headers or inv (A→B: \(describeCounts(sentByA.typeCounts)))")
            check.that(sentByB.contains { $0.messageType == "getdata" || $0.messageType == "getheaders" },
                       "\(nodeB.name) asked for them with getheaders or getdata (B→A: \(describeCounts(sentByB.typeCounts)))")
            checkPeerFields(try await MessageEvent.all(in: recordingA).filter { $0.peerID == peerOnA.id }, of: peerOnA, node: nodeA.name, check)
            checkPeerFields(try await MessageEvent.all(in: recordingB).filter { $0.peerID == peerOnB.id }, of: peerOnB, node: nodeB.name, check)

            for hash in hashes {
                let block = try await SerialisedBlock(hash: hash, rpc: nodeA.rpc)
                let deliveries = sentByA.filter(block.isDelivered(by:))
                check.equal(deliveries.count, 1, "block \(hash.prefix(16)) went A→B once, as a block message equal to getblock's serialisation or a cmpctblock of its header and coinbase (\(deliveries.map(\.messageType)))")
            }
        }
    }
}

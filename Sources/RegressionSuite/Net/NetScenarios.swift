import Foundation
import NodeControl
import TapyrusEncoding
import TraceHarness

extension ScenarioCatalog {
    static let p2p: [any Scenario] = [RawPeerMessagesScenario(), NodeSyncMessagesScenario(), LargeMessageScenario(), ConnectionTypesScenario()]
}

/// `net:inbound_message` / `net:outbound_message` against our own raw peer:
/// the handshake and a ping with a known nonce, byte for byte.
struct RawPeerMessagesScenario: Scenario {
    let name = "net-raw-peer"
    let tracepoints = [InboundMessage.tracepoint.probe, OutboundMessage.tracepoint.probe]

    var coverage: [PathCoverage] {
        [
            .exercised(InboundMessage.tracepoint.probe, "an inbound raw peer: version, verack, ping and the node's later messages"),
            .exercised(OutboundMessage.tracepoint.probe, "to an inbound raw peer: the handshake, pong and every later message"),
        ]
    }

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
            // The node's one peer is ours: wait for every message (whatever peer id it carries, checked below).
            try await recording.wait(for: sent.count, InboundMessage.self)
            try await recording.wait(for: received.count, OutboundMessage.self)
            check.equal(Set(try await MessageEvent.all(in: recording).map(\.peerID)), [ours.id],
                        "every message event carries getpeerinfo's peer id \(ours.id) of the node's one peer")
            let events = try await MessageEvent.all(in: recording).filter { $0.peerID == ours.id }
            let inbound = events.with(peer: ours.id, .inbound)
            check.equal(inbound.map(\.messageType), sent.map(\.command), "inbound events are exactly the messages we sent, in order")
            for (event, wire) in zip(inbound, sent) {
                checkPayload(event, equals: wire.message.payload, "the payload we sent", "inbound \(wire.command)", check)
            }

            // What the node sent us, up to the pong: exactly what we received.
            let outbound = Array(events.with(peer: ours.id, .outbound).prefix(received.count))
            check.equal(outbound.map(\.messageType), received.map(\.command),
                        "outbound events up to the pong are exactly the \(received.count) messages we received, in order")
            for (event, wire) in zip(outbound, received) {
                checkPayload(event, equals: wire.message.payload, "the payload we received", "outbound \(wire.command)", check)
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
            let origins = Set(handshakeAndPing.map { String($0.connectionType.prefix { $0 != "-" }) })
            check.knownIssue("tapyrusd's tracing.md documents the connection origin as \"in\"/\"out\"; the code passes \"In\"/\"Out\"",
                             "connection type origins of our inbound raw peer", arrived: origins, documented: ["in"], today: ["In"])

            // The node processes a peer's messages in order and answered our
            // ping last: every message we sent was traced before that pong.
            let all = try await MessageEvent.all(in: recording)
            check.equal(Set(all.map(\.peerID)), [ours.id], "every message event carries getpeerinfo's id \(ours.id) of the node's one peer")
            check.equal(all.with(peer: ours.id, .inbound).count, sent.count, "no inbound event from our peer beyond the \(sent.count) messages we sent")
            // Every message the node sent us, those after the pong too, against getpeerinfo's byte counts.
            try await checkTrafficAccounted(node, peer: ours, recording: recording, check)
        }
    }
}

/// `net:inbound_message` / `net:outbound_message` between two nodes syncing
/// blocks: what one node sends, the other receives, with the same size and
/// bytes, and the blocks travel as `getblock`'s serialisation.
struct NodeSyncMessagesScenario: Scenario {
    let name = "net-node-sync"
    let tracepoints = [InboundMessage.tracepoint.probe, OutboundMessage.tracepoint.probe]

    var coverage: [PathCoverage] {
        [
            .exercised(InboundMessage.tracepoint.probe, "a manual outbound peer (addnode onetry) and its inbound side, syncing blocks"),
            .exercised(OutboundMessage.tracepoint.probe, "a manual outbound peer (addnode onetry) and its inbound side, syncing blocks"),
            .exercised(InboundMessage.tracepoint.probe, "a headers-first sync of a \(Self.chainLength)-block chain: getheaders, one headers message of them all, getdata in batches, a block message each"),
            .exercised(OutboundMessage.tracepoint.probe, "a headers-first sync of a \(Self.chainLength)-block chain: getheaders, one headers message of them all, getdata in batches, a block message each"),
        ]
    }

    /// Blocks A mines alone before the nodes meet: B then syncs them all
    /// headers first (more than the 16 blocks a peer may have in flight).
    static let chainLength: Int32 = 120

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        try await withScenarioNodePair(context, check, names: ("\(name)-a", "\(name)-b")) { nodeA, nodeB in
            let recordingA = try await context.record(nodeA)
            let recordingB = try await context.record(nodeB)
            let address = try await nodeA.rpc.getNewAddress()
            var hashes = try await nodeA.rpc.generateToAddress(Int(Self.chainLength), address: address)
            try await NodeNetwork.connect(nodeA, to: nodeB)
            try await NodeNetwork.waitForSync([nodeA, nodeB])
            // Then blocks announced to a peer in sync.
            hashes += try await nodeA.rpc.generateToAddress(3, address: address)
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
            // The sync: B's getheaders answered by one headers message of the
            // whole chain (at most 2,000 fit one), whose bytes MessageTruth
            // compares with getblockheader's below.
            let headerCounts = sentByA.filter { $0.messageType == "headers" }.compactMap { event -> UInt64? in
                var reader = ByteReader(event.message.bytes)
                return try? reader.readCompactSize()
            }
            check.that(headerCounts.contains(UInt64(Self.chainLength)),
                       "\(nodeA.name) sent the \(Self.chainLength) headers of its chain in one headers message (headers messages of \(headerCounts) headers)")

            // Each node has one peer: every message event names it.
            let eventsA = try await MessageEvent.all(in: recordingA)
            let eventsB = try await MessageEvent.all(in: recordingB)
            check.equal(Set(eventsA.map(\.peerID)), [peerOnA.id], "\(nodeA.name): every message event carries getpeerinfo's peer id \(peerOnA.id) of its one peer")
            check.equal(Set(eventsB.map(\.peerID)), [peerOnB.id], "\(nodeB.name): every message event carries getpeerinfo's peer id \(peerOnB.id) of its one peer")
            checkPeerFields(eventsA, of: peerOnA, node: nodeA.name, check)
            checkPeerFields(eventsB, of: peerOnB, node: nodeB.name, check)

            // Every message each node sent, against the sender's own RPC.
            // (Each version message carries the sender's height when they met.)
            for (sender, sent, peerSent, height) in [(nodeA, sentByA, sentByB, Self.chainLength), (nodeB, sentByB, sentByA, 0)] {
                let truth = try await MessageTruth.of(sender, startHeight: height, peerPings: peerSent.filter { $0.messageType == "ping" })
                let wrong = sent.compactMap { event in truth.disagreement(with: event).map { "\(event.messageType): \($0)" } }
                check.equal(wrong, [], "\(sender.name): each of the \(sent.count) messages it sent has the size and bytes its RPC demands (\(describeCounts(sent.typeCounts)))")
            }
            // And nothing untraced: getpeerinfo's byte counts per message type.
            try await checkTrafficAccounted(nodeA, peer: peerOnA, recording: recordingA, check)
            try await checkTrafficAccounted(nodeB, peer: peerOnB, recording: recordingB, check)

            for hash in hashes {
                let block = try await SerialisedBlock(hash: hash, rpc: nodeA.rpc)
                let deliveries = sentByA.filter(block.isDelivered(by:))
                check.equal(deliveries.count, 1, "block \(hash.prefix(16)) went A→B once, as a block message equal to getblock's serialisation or a cmpctblock of its header and coinbase (\(deliveries.map(\.messageType)))")
            }
        }
    }
}

/// `net:inbound_message` / `net:outbound_message` with payloads far larger
/// than 32 KB: a 40 KB transaction (1,200 outputs) relayed from node A to node B and the
/// block holding it sent to our raw peer, each captured whole and equal to
/// RPC's serialisation.
struct LargeMessageScenario: Scenario {
    let name = "net-large-message"
    let tracepoints = [InboundMessage.tracepoint.probe, OutboundMessage.tracepoint.probe]

    var coverage: [PathCoverage] {
        [
            .exercised(InboundMessage.tracepoint.probe, "payloads over 32 KB: a 40 KB tx relayed between nodes"),
            .exercised(OutboundMessage.tracepoint.probe, "payloads over 32 KB: a 40 KB tx and a 41 KB block"),
        ]
    }

    /// Outputs of the large transaction: 34 bytes each makes it about 40 KB,
    /// above the 32 KB that tracing.md says may be cut off.
    static let outputs = 1_200

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        try await withScenarioNodePair(context, check, names: ("\(name)-a", "\(name)-b")) { nodeA, nodeB in
            let rpc = nodeA.rpc
            let address = try await rpc.getNewAddress()
            try await rpc.generateToAddress(2, address: address)
            try await NodeNetwork.connect(nodeA, to: nodeB)
            try await NodeNetwork.waitForSync([nodeA, nodeB])
            let recordingA = try await context.record(nodeA)
            let recordingB = try await context.record(nodeB)

            let txid = try await Self.sendToMany(Self.outputs, rpc: rpc)
            try await NodeNetwork.waitForSync([nodeA, nodeB], mempools: true)
            let rawTransaction = try requireScenario(Hex.decode(try await rpc.getRawTransactionHex(txid)), "getrawtransaction \(txid)")
            check.that(rawTransaction.count > 32 * 1024, "the transaction is larger than 32 KB", detail: "\(rawTransaction.count) bytes")

            let (peerOnA, peerOnB) = try await linkedPeers(from: nodeA, to: nodeB)
            let sentTx = try await recordingA.wait(for: 1, OutboundMessage.self) { $0.peerID == peerOnA.id && $0.messageType == "tx" }
            let receivedTx = try await recordingB.wait(for: 1, InboundMessage.self) { $0.peerID == peerOnB.id && $0.messageType == "tx" }
            check.equal(sentTx.count, 1, "\(nodeA.name) sent one tx message to \(nodeB.name)")
            check.equal(receivedTx.count, 1, "\(nodeB.name) received one tx message from \(nodeA.name)")
            if let sent = sentTx.first { checkPayload(MessageEvent(sent), equals: rawTransaction, "getrawtransaction's serialisation", "\(nodeA.name) outbound tx \(txid.prefix(16))", check) }
            if let received = receivedTx.first { checkPayload(MessageEvent(received), equals: rawTransaction, "getrawtransaction's serialisation", "\(nodeB.name) inbound tx \(txid.prefix(16))", check) }

            // The block holding it, asked for by our raw peer so that it goes whole (not compact).
            let hash = try requireScenario(try await rpc.generateToAddress(1, address: address).first, "the mined block")
            let block = try await SerialisedBlock(hash: hash, rpc: rpc)
            check.that(try await rpc.getBlock(hash: hash).tx.contains(txid), "block \(hash.prefix(16)) holds the transaction")
            let peer = try await nodeA.connectRawPeer()
            defer { Task { await peer.close() } }
            let item = try requireScenario(InventoryItem(type: .block, rpcHex: hash), "inventory item for \(hash)")
            try await peer.send(.getdata([item]))
            let wire = try await peer.receive(command: "block")
            check.that(wire.message.payload == block.block, "our raw peer received getblock's \(block.block.count)-byte serialisation",
                       detail: firstDifference(wire.message.payload, block.block))
            let ourID = try requireScenario(try await ReportedPeer.all(of: nodeA).first { $0.subver == "/tapyrus-trace:0.1/" }?.id, "our raw peer in getpeerinfo")
            let blockEvents = try await recordingA.wait(for: 1, OutboundMessage.self) { $0.peerID == ourID && $0.messageType == "block" }
            check.equal(blockEvents.count, 1, "\(nodeA.name) sent one block message to our raw peer")
            if let event = blockEvents.first {
                checkPayload(MessageEvent(event), equals: block.block, "getblock's serialisation", "\(nodeA.name) outbound block \(hash.prefix(16))", check)
            }
        }
    }

    /// Pays a small amount to each of `outputs` distinct synthetic addresses
    /// in one wallet transaction; returns its txid.
    static func sendToMany(_ outputs: Int, rpc: RPCClient) async throws -> String {
        let amounts = Dictionary(uniqueKeysWithValues: (0..<UInt32(outputs)).map { (SyntheticAddress.dev($0), Amount(units: 10_000)) })
        return try await rpc.sendMany(amounts)
    }
}

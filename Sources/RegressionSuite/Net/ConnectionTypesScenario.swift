import Foundation
import NodeControl
import TraceHarness

/// `net:inbound_message` / `net:outbound_message` on every kind of connection
/// a dev-mode node can make: the connection type string
/// (`CNode::GetConnectionType`, net.h:881: origin, `O` one-shot, `W`
/// whitelisted, `F` feeler, `L` limited, `M` manual, `Tx` relays
/// transactions, joined by `-`), the peer id and the address of every
/// message event of each connection, in both directions.
///
/// Two nodes: the subject S and a target T that listens on four ports (its
/// own and three `-bind`s, so that each of S's outbound connections has its
/// own address: `OpenNetworkConnection` refuses a second connection to an
/// address already connected) and runs with `-whitelist=127.0.0.1`.
///
/// | Connection | made by | type before the peer's version → after |
/// |---|---|---|
/// | S → T | `-connect=` at start | `Out-----M-` → `Out-----M-Tx` |
/// | S → T | `-seednode=` at start | `Out-O-----` → `Out-O-----Tx` |
/// | S → T | `addnode … add` | `Out-----M-` → `Out-----M-Tx` |
/// | S → T | `addnode … onetry` | `Out-----M-` → `Out-----M-Tx` |
/// | raw → S | version relay=false | `In------` → `In------`, `In------Tx` after our `filterclear` |
/// | raw → S | version services NODE_NETWORK_LIMITED only | `In------` → `In----L--Tx` |
/// | raw → T | whitelisted range | `In--W----` → `In--W----Tx` |
/// | S's four on T | whitelisted; S runs `-blocksonly` | `In--W----` throughout |
///
/// `-connect` is manual (`M`) in this build: `ThreadOpenConnections` opens
/// each `-connect` address with `OpenNetworkConnection(…, manual_connection:
/// true)` (net.cpp:1774), and `getpeerinfo` reports it `addnode: true`. The
/// one-shot is made at once: the `-connect` loop runs `ProcessOneShot` first
/// (net.cpp:1770); T's address book is empty (it takes routable addresses
/// only), so T answers S's `getaddr` with nothing and the one-shot, which
/// ends on its first `addr`, stays open for the scenario. Both are made
/// while S starts, so S is recorded from its first event.
///
/// Ground truth: `getpeerinfo` of either node (`inbound`, `whitelisted`,
/// `addnode`, `relaytxes`, `services`, `id`, `addr`, `addrbind` and the bytes
/// per message type), the sender's `getnetworkinfo` (`localservices`,
/// `localrelay`), what our raw peers sent in their `version`, and which
/// address S was given with `-seednode` (no RPC reports the one-shot flag).
/// Flags learned from the peer's `version` (L, Tx) are absent up to and
/// including the node's `verack` (``checkPeerFields(_:of:node:oneShot:_:)``);
/// `filterclear` turns Tx on for the events after it (net_processing.cpp:3059).
/// Every message event of both nodes belongs to one of these connections,
/// and per connection, direction and message type their sizes add up to
/// `getpeerinfo`'s bytes.
struct ConnectionTypesScenario: Scenario {
    let name = "net-connection-types"
    let tracepoints = [InboundMessage.tracepoint.probe, OutboundMessage.tracepoint.probe]

    var coverage: [PathCoverage] {
        tracepoints.flatMap { probe -> [PathCoverage] in
            [
                .exercised(probe, "type In: inbound, version relay=false (no Tx)"),
                .exercised(probe, "type Tx switched on by filterclear"),
                .exercised(probe, "type L: inbound peer advertising NODE_NETWORK_LIMITED without NODE_NETWORK"),
                .exercised(probe, "type W: inbound from a -whitelist range"),
                .exercised(probe, "type M: addnode add"),
                .exercised(probe, "type M: addnode onetry"),
                .exercised(probe, "type M: -connect (manual_connection in ThreadOpenConnections)"),
                .exercised(probe, "type O: one-shot (-seednode)"),
                .exercised(probe, "type Tx: outbound peer relaying, subject -blocksonly (its own relay flag not in its types)"),
                .unreachable(probe, "type F: feeler", reason: "ThreadOpenConnections makes a feeler only once all 8 full-relay outbound slots are filled from the address book, and then at most every FEELER_INTERVAL (120 s, Poisson); a dev node's address book takes routable addresses only (CAddrMan::Add_), so peers on 127.0.0.1 never fill it, and -connect turns that loop off"),
                .unreachable(probe, "type Out without O or M: full-relay outbound from the address book", reason: "the address book takes routable addresses only (CAddrMan::Add_), and dev nodes listen on 127.0.0.1"),
                .unreachable(probe, "block-relay-only connection", reason: "no such connection in this version: CNode has no block-relay-only flag and GetConnectionType (net.h:881) no letter for it"),
            ]
        }
    }

    /// NODE_NETWORK_LIMITED (BIP159), the one service bit our limited raw peer advertises.
    static let networkLimited: UInt64 = 1 << 10
    /// Ping nonces of our raw peers: no relay, limited, whitelisted, and the no-relay peer after `filterclear`.
    static let nonces: [UInt64] = [0x5452_4143_4552_4C59, 0x5452_4143_454C_494D, 0x5452_4143_4557_4854, 0x5452_4143_4546_434C]

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        let extraPorts = try PortAllocator.freePorts(3)
        try await withScenarioNode(context, check, name: "\(name)-t", configure: { options in
            options.arguments += ["-whitelist=127.0.0.1"] + extraPorts.map { "-bind=127.0.0.1:\($0)" }
        }) { target in
            let recordingT = try await context.record(target)
            let addresses = Addresses(connect: target.p2pAddress, seed: "127.0.0.1:\(extraPorts[0])",
                                      added: "127.0.0.1:\(extraPorts[1])", onetry: "127.0.0.1:\(extraPorts[2])")
            // -connect implies -listen=0 unless -listen is given: our raw peers connect to S.
            try await withRecordedScenarioNode(context, check, name: "\(name)-s", configure: { options in
                options.arguments += ["-connect=\(addresses.connect)", "-seednode=\(addresses.seed)", "-blocksonly", "-listen=1"]
            }) { subject, recordingS in
                try await subject.rpc.addNode(addresses.added, command: .add)
                try await subject.rpc.addNode(addresses.onetry, command: .onetry)
                try await waitForHandshakes(subject, target, addresses)
                try await checkConnections(subject, recordingS, target, recordingT, addresses, check)
            }
        }
    }

    /// The addresses of T that S connects to, one per way of connecting.
    struct Addresses: Sendable {
        var connect: String
        var seed: String
        var added: String
        var onetry: String

        var all: [String] { [connect, seed, added, onetry] }
    }

    /// Waits until S has finished the handshake with T on each address and
    /// T has as many handshaken inbound peers.
    private func waitForHandshakes(_ subject: TapyrusNode, _ target: TapyrusNode, _ addresses: Addresses) async throws {
        // addnode add: the added-connections thread looks at its list every 2 s.
        try await waitUntil("\(subject.name) handshaken with \(target.name) on \(addresses.all)", timeout: .seconds(30)) {
            let outbound = try await subject.rpc.getPeerInfo().filter { !$0.inbound && $0.version > 0 }.map(\.addr)
            let inbound = try await target.rpc.getPeerInfo().filter { $0.inbound && $0.version > 0 }.count
            return Set(outbound) == Set(addresses.all) && inbound == addresses.all.count ? nil
                : "\(subject.name) outbound \(outbound.sorted()), \(target.name) \(inbound) inbound"
        }
    }

    private func checkConnections(_ subject: TapyrusNode, _ recordingS: EventRecording, _ target: TapyrusNode, _ recordingT: EventRecording,
                                  _ addresses: Addresses, _ check: Check) async throws {
        let subjectNetwork = try await NetworkInfo.of(subject)
        let targetNetwork = try await NetworkInfo.of(target)
        check.equal(subjectNetwork.relay, false, "\(subject.name) runs -blocksonly: getnetworkinfo localrelay false")
        check.equal(targetNetwork.relay, true, "\(target.name) relays: getnetworkinfo localrelay true")

        // Our raw peers: one not relaying, one limited (on S), one whitelisted (on T).
        let noRelayVersion = rawVersion(port: subject.p2pPort) { $0.relay = false }
        let limitedVersion = rawVersion(port: subject.p2pPort) { $0.services = Self.networkLimited }
        let noRelay = try await subject.connectRawPeer(version: noRelayVersion)
        defer { Task { await noRelay.close() } }
        let limited = try await subject.connectRawPeer(version: limitedVersion)
        defer { Task { await limited.close() } }
        let whitelisted = try await target.connectRawPeer()
        defer { Task { await whitelisted.close() } }
        for (peer, nonce) in zip([noRelay, limited, whitelisted], Self.nonces) {
            let (_, pong) = try await peer.ping(nonce: nonce)
            check.equal(pong.message.nonce, nonce, "our raw peer's pong echoes nonce \(String(nonce, radix: 16))")
        }

        // getpeerinfo against what S was configured with and what our peers sent.
        let peersS = try await ReportedPeer.all(of: subject)
        check.equal(peersS.count, 6, "\(subject.name)'s getpeerinfo lists its four connections to \(target.name) and our two raw peers (\(peersS))")
        var outboundS: [String: ReportedPeer] = [:]
        for address in addresses.all {
            let peer = try requireScenario(peersS.first { !$0.inbound && $0.addr == address }, "\(subject.name)'s outbound peer \(address)")
            outboundS[address] = peer
            let seed = address == addresses.seed
            check.equal([peer.addnode, peer.whitelisted, peer.relaytxes], [!seed, false, true],
                        "\(subject.name)'s peer \(address) (\(seed ? "-seednode" : "manual")): getpeerinfo addnode, whitelisted, relaytxes (\(target.name) relays)")
            check.equal(peer.services, targetNetwork.services, "\(subject.name)'s peer \(address): services are \(target.name)'s getnetworkinfo localservices")
        }
        let rawOnS = peersS.filter { $0.inbound && $0.subver == "/tapyrus-trace:0.1/" }
        check.equal(rawOnS.count, 2, "\(subject.name) lists our two raw peers as inbound")
        let noRelayPeer = try requireScenario(rawOnS.first { !$0.relaytxes }, "\(subject.name)'s raw peer with relaytxes false")
        let limitedPeer = try requireScenario(rawOnS.first { $0.relaytxes }, "\(subject.name)'s raw peer with relaytxes true")
        check.equal([noRelayPeer.services, limitedPeer.services], [noRelayVersion.services, limitedVersion.services],
                    "\(subject.name)'s raw peers: getpeerinfo services are what their version said")
        check.that(rawOnS.allSatisfy { !$0.whitelisted && !$0.addnode }, "\(subject.name)'s raw peers are neither whitelisted nor manual")

        let peersT = try await ReportedPeer.all(of: target)
        check.equal(peersT.count, 5, "\(target.name)'s getpeerinfo lists \(subject.name)'s four connections and our raw peer (\(peersT))")
        check.that(peersT.allSatisfy { $0.inbound && $0.whitelisted && !$0.addnode }, "\(target.name)'s peers are all inbound and whitelisted (-whitelist=127.0.0.1)")
        var inboundT: [String: ReportedPeer] = [:]
        for address in addresses.all {
            let bind = try requireScenario(outboundS[address]?.addrbind, "\(subject.name)'s addrbind of \(address)")
            let peer = try requireScenario(peersT.first { $0.addr == bind }, "\(target.name)'s inbound peer \(bind)")
            inboundT[address] = peer
            check.equal(peer.relaytxes, subjectNetwork.relay, "\(target.name)'s peer \(bind) (\(subject.name) via \(address)): relaytxes is \(subject.name)'s localrelay")
            check.equal(peer.services, subjectNetwork.services, "\(target.name)'s peer \(bind): services are \(subject.name)'s localservices")
        }
        let whitelistedPeer = try requireScenario(peersT.first { $0.subver == "/tapyrus-trace:0.1/" }, "our raw peer in \(target.name)'s getpeerinfo")
        check.that(whitelistedPeer.relaytxes, "\(target.name)'s raw peer relays (its version said relay=true)")

        // The connection type strings getpeerinfo's flags make, against the table above.
        var expected: [(label: String, peer: ReportedPeer, oneShot: Bool, type: String)] = [
            ("raw relay=false", noRelayPeer, false, "In------"),
            ("raw limited", limitedPeer, false, "In----L--Tx"),
            ("\(target.name) raw", whitelistedPeer, false, "In--W----Tx"),
        ]
        for (address, way) in [(addresses.connect, "-connect"), (addresses.seed, "-seednode"), (addresses.added, "addnode add"), (addresses.onetry, "addnode onetry")] {
            let oneShot = address == addresses.seed
            if let peer = outboundS[address] { expected.append((way, peer, oneShot, oneShot ? "Out-O-----Tx" : "Out-----M-Tx")) }
            if let peer = inboundT[address] { expected.append(("\(target.name) from \(subject.name) by \(way)", peer, false, "In--W----")) }
        }
        for (label, peer, oneShot, type) in expected {
            check.equal(peer.connectionType(afterVersion: true, oneShot: oneShot), type, "\(label): getpeerinfo's flags make connection type \(type)")
        }

        // Tx on for the no-relay peer once the node handles our filterclear.
        try await noRelay.send(P2PMessage(command: "filterclear"))
        let (_, pong) = try await noRelay.ping(nonce: Self.nonces[3])
        check.equal(pong.message.nonce, Self.nonces[3], "the pong after filterclear echoes our nonce")
        let relayingPeer = try requireScenario(try await ReportedPeer.all(of: subject).first { $0.id == noRelayPeer.id }, "\(subject.name)'s raw peer \(noRelayPeer.id) after filterclear")
        check.equal(relayingPeer.relaytxes, true, "\(subject.name)'s raw peer \(noRelayPeer.id): getpeerinfo relaytxes true after filterclear")
        check.equal(relayingPeer.connectionType(afterVersion: true), "In------Tx", "raw relay=false after filterclear: getpeerinfo's flags make connection type In------Tx")

        // Every message event: of a known connection, all accounted for by getpeerinfo's bytes.
        for (node, recording, peers) in [(subject, recordingS, peersS), (target, recordingT, peersT)] {
            for peer in peers { try await checkTrafficAccounted(node, peer: peer, recording: recording, check) }
            let ids = Set(try await MessageEvent.all(in: recording).map(\.peerID))
            check.equal(ids, Set(peers.map(\.id)), "\(node.name): every message event carries the id of one of its getpeerinfo peers, and each has events")
        }

        // Each connection's events: id, address, and the connection type of each event.
        let eventsS = try await MessageEvent.all(in: recordingS)
        let eventsT = try await MessageEvent.all(in: recordingT)
        for address in addresses.all {
            if let peer = outboundS[address] {
                checkPeerFields(eventsS.filter { $0.peerID == peer.id }, of: peer, node: subject.name, oneShot: address == addresses.seed, check)
            }
            if let peer = inboundT[address] { checkPeerFields(eventsT.filter { $0.peerID == peer.id }, of: peer, node: target.name, check) }
        }
        checkPeerFields(eventsS.filter { $0.peerID == limitedPeer.id }, of: limitedPeer, node: subject.name, check)
        checkPeerFields(eventsT.filter { $0.peerID == whitelistedPeer.id }, of: whitelistedPeer, node: target.name, check)
        let noRelayEvents = eventsS.filter { $0.peerID == noRelayPeer.id }
        let filterclear = noRelayEvents.firstIndex { $0.direction == .inbound && $0.messageType == "filterclear" }
        check.that(filterclear != nil, "\(subject.name): our filterclear from raw peer \(noRelayPeer.id) was traced")
        if let filterclear {
            checkPeerFields(Array(noRelayEvents[...filterclear]), of: noRelayPeer, node: subject.name, check)
            let after = noRelayEvents[(filterclear + 1)...]
            let relaying = relayingPeer.connectionType(afterVersion: true)
            check.equal(after.map(\.connectionType), Array(repeating: relaying, count: after.count),
                        "\(subject.name): the \(after.count) events of raw peer \(noRelayPeer.id) after our filterclear carry \(relaying) (getpeerinfo after it)")
        }

        // What the node received from our raw peers: exactly what they sent.
        for (node, events, peer, raw) in [(subject, eventsS, noRelayPeer, noRelay), (subject, eventsS, limitedPeer, limited), (target, eventsT, whitelistedPeer, whitelisted)] {
            let sent = await raw.sent.map(\.command)
            check.equal(events.with(peer: peer.id, .inbound).map(\.messageType), sent,
                        "\(node.name): the inbound events of raw peer \(peer.id) are the \(sent.count) messages it sent, in order")
        }

        let origins = Set(eventsS.map { String($0.connectionType.prefix { $0 != "-" }) })
        check.knownIssue("tapyrusd's tracing.md documents the connection origin as \"in\"/\"out\"; the code passes \"In\"/\"Out\"",
                         "connection type origins of \(subject.name)'s inbound and outbound connections", arrived: origins, documented: ["in", "out"], today: ["In", "Out"])
    }

    /// Our raw peer's `version` to the node on `port`, changed by `change`.
    private func rawVersion(port: UInt16, _ change: (inout VersionMessage) -> Void) -> VersionMessage {
        var version = VersionMessage(timestamp: Int64(Date().timeIntervalSince1970), receiver: .ipv4(127, 0, 0, 1, port: port))
        change(&version)
        return version
    }
}

/// What a node's `getnetworkinfo` says of its own side of every connection.
private struct NetworkInfo: Sendable {
    var services: UInt64
    var relay: Bool

    static func of(_ node: TapyrusNode) async throws -> NetworkInfo {
        let reply = try await node.rpc.call("getnetworkinfo")
        let services = try requireScenario(reply["localservices"]?.stringValue.flatMap { UInt64($0, radix: 16) }, "\(node.name)'s getnetworkinfo localservices")
        let relay = try requireScenario(reply["localrelay"]?.boolValue, "\(node.name)'s getnetworkinfo localrelay")
        return NetworkInfo(services: services, relay: relay)
    }
}

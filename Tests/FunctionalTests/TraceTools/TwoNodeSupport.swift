import Foundation
import NodeControl
import Testing
import TraceHarness

/// A private copy of the installed tapyrusd in a folder of its own: probes
/// attached by its path (uprobes follow the file's inode) trace only the nodes
/// a test starts with it, never another test's.
final class PrivateTapyrusd: Sendable {
    let folder: TemporaryFolder
    let binaries: TapyrusBinaries
    /// The copy's path, for `--tapyrusd`.
    var path: String { binaries.tapyrusd }

    init(_ name: String) throws {
        guard let installed = tapyrusBinaries else { throw FixtureError("no tapyrusd found") }
        folder = try TemporaryFolder(name)
        let copy = "\(folder.path)/tapyrusd"
        // Copied by cp, so no child this process forks meanwhile inherits a
        // descriptor open for writing (exec would fail with ETXTBSY).
        let copied = try Fixture.run("/bin/cp", [installed.tapyrusd, copy])
        guard copied.status == 0 else { throw FixtureError("cp: \(copied.standardError)") }
        binaries = TapyrusBinaries(tapyrusd: copy, tapyrusGenesis: installed.tapyrusGenesis, tapyrusCLI: installed.tapyrusCLI)
    }
}

/// Two dev-mode nodes of one private tapyrusd: `a` and `b`.
struct TwoNodes: Sendable {
    let tapyrusd: PrivateTapyrusd
    let network: NodeNetwork
    var a: TapyrusNode { network.nodes[0] }
    var b: TapyrusNode { network.nodes[1] }

    /// Both nodes' pids, `a`'s first.
    func pids() async throws -> (a: Int32, b: Int32) {
        let a = try #require(await a.pid), b = try #require(await b.pid)
        return (a, b)
    }
}

/// The two nodes wired as the P2P tests want them: `a` connected out to `b`
/// (each one's peer 0 the other), then a raw peer of each, pinging `a` and
/// `b` a different number of times; with both nodes' `getpeerinfo` after.
struct WiredNodes {
    let pids: (a: Int32, b: Int32)
    let rawA: RawPeer, rawB: RawPeer
    let table: PeerTable
    /// `a`'s peer `b` and `b`'s peer `a`, by `getpeerinfo` (the link's two ends meet at `a`'s bind address).
    let linkOnA: PeerInfo, linkOnB: PeerInfo
    /// Each node's raw peer, by `getpeerinfo`.
    let rawOnA: PeerInfo, rawOnB: PeerInfo

    /// The raw peers' ids, as the events carry them.
    var rawIDs: (a: Int64, b: Int64) { (Int64(rawOnA.id), Int64(rawOnB.id)) }
}

extension TwoNodes {
    /// Connects `a` to `b`, then a raw peer to each, pinging them `pings.a` and `pings.b` times.
    func wire(pings: (a: UInt64, b: UInt64)) async throws -> WiredNodes {
        let (pidA, pidB) = try await pids()
        try await network.connect(0, to: 1)
        let rawA = try await a.connectRawPeer()
        for nonce in 1...pings.a { _ = try await rawA.ping(nonce: nonce) }
        let rawB = try await b.connectRawPeer()
        for nonce in 1...pings.b { _ = try await rawB.ping(nonce: nonce) }
        let table = try await PeerTable([(pidA, a), (pidB, b)])
        let linkOnA = try #require(table.peers[pidA]?.values.first { !$0.inbound })
        let linkOnB = try #require(table.peers[pidB]?.values.first { $0.inbound && $0.addr == linkOnA.addrbind })
        let rawOnA = try #require(table.peers[pidA]?.values.first { $0.inbound })
        let rawOnB = try #require(table.peers[pidB]?.values.first { $0.inbound && $0.id != linkOnB.id })
        return WiredNodes(pids: (pidA, pidB), rawA: rawA, rawB: rawB, table: table,
                          linkOnA: linkOnA, linkOnB: linkOnB, rawOnA: rawOnA, rawOnB: rawOnB)
    }
}

/// Starts two nodes of a private tapyrusd (with `arguments` each), connects
/// `a` out to `b` when `connect` (then each has a peer 0: the other), runs
/// `body`, and finishes both whatever happens (their datadirs kept if it threw).
func withTwoNodes<R: Sendable>(_ name: String, arguments: [String] = [], connect: Bool = true,
                               _ body: (TwoNodes) async throws -> R) async throws -> R {
    let tapyrusd = try PrivateTapyrusd(name)
    let network = try await NodeNetwork.start(count: 2, binaries: tapyrusd.binaries) { index in
        var options = NodeOptions(name: "\(name)-\(index == 0 ? "a" : "b")")
        options.arguments = arguments
        return options
    }
    do {
        if connect { try await network.connect(0, to: 1) }
        let result = try await body(TwoNodes(tapyrusd: tapyrusd, network: network))
        await network.finish(passed: true)
        return result
    } catch {
        await network.finish(passed: false)
        throw error
    }
}

/// Both nodes' `getpeerinfo`: the ground truth of which peer id of which
/// process has which address and direction.
struct PeerTable {
    /// Peers by pid, then by id.
    var peers: [Int32: [Int64: PeerInfo]]

    init(_ nodes: [(pid: Int32, node: TapyrusNode)]) async throws {
        var peers: [Int32: [Int64: PeerInfo]] = [:]
        for (pid, node) in nodes {
            peers[pid] = Dictionary(uniqueKeysWithValues: try await node.rpc.getPeerInfo().map { (Int64($0.id), $0) })
        }
        self.peers = peers
    }

    /// The peer `id` of process `pid`.
    func peer(_ pid: Int32, _ id: Int64) -> PeerInfo? { peers[pid]?[id] }
}

/// One P2P message as a tool printed it, whatever its format.
struct PrintedMessage: Hashable, CustomStringConvertible {
    var pid: Int32
    var inbound: Bool
    var type: String
    var peerID: Int64
    var connectionType: String
    var address: String
    var size: UInt64

    var description: String { "\(pid) \(inbound ? "in" : "out") \(type) (\(size)) peer \(peerID) \(connectionType) \(address)" }

    /// A `p2p-log` line with its PID column: `48213   inbound 'ping' msg from peer 1 (In------Tx, 127.0.0.1:5) with 8 bytes`.
    init?(p2pLogLine line: String) {
        let pattern = #"^(\d+) +(inbound|outbound) '([^']+)' msg (from|to) peer (\d+) \(([^,]+), ([^)]+)\) with (\d+) bytes$"#
        guard let match = line.firstMatch(of: try! Regex(pattern)), match.count == 9,
              let pid = match[1].substring.flatMap({ Int32($0) }), let peerID = match[5].substring.flatMap({ Int64($0) }),
              let size = match[8].substring.flatMap({ UInt64($0) }) else { return nil }
        let inbound = match[2].substring == "inbound"
        guard (match[4].substring == "from") == inbound else { return nil }
        self.init(pid: pid, inbound: inbound, type: String(match[3].substring ?? ""), peerID: peerID,
                  connectionType: String(match[6].substring ?? ""), address: String(match[7].substring ?? ""), size: size)
    }

    /// A `raw-p2p` line with its PID column: `48213   inbound msg 'ping' from peer 1 (In------Tx, 127.0.0.1:5) with 8 bytes: 0102…`.
    init?(rawP2PLine line: String) {
        let pattern = #"^(\d+) +(inbound|outbound) msg '([^']+)' (from|to) peer (\d+) \(([^,]+), ([^)]+)\) with (\d+) bytes: ([0-9a-f]*)$"#
        guard let match = line.firstMatch(of: try! Regex(pattern)), match.count == 10,
              let pid = match[1].substring.flatMap({ Int32($0) }), let peerID = match[5].substring.flatMap({ Int64($0) }),
              let size = match[8].substring.flatMap({ UInt64($0) }), (match[9].substring?.count ?? -1) == Int(size) * 2 else { return nil }
        let inbound = match[2].substring == "inbound"
        guard (match[4].substring == "from") == inbound else { return nil }
        self.init(pid: pid, inbound: inbound, type: String(match[3].substring ?? ""), peerID: peerID,
                  connectionType: String(match[6].substring ?? ""), address: String(match[7].substring ?? ""), size: size)
    }

    /// A `raw-p2p --json` object (`message_type`, `peer_address`) or a
    /// `p2p-monitor --json` record (`type`, `address`).
    init?(json object: [String: Any]) {
        guard let pid = (object["pid"] as? NSNumber)?.int32Value, let direction = object["direction"] as? String,
              let type = (object["message_type"] ?? object["type"]) as? String, let peerID = (object["peer_id"] as? NSNumber)?.int64Value,
              let connectionType = object["connection_type"] as? String,
              let address = (object["peer_address"] ?? object["address"]) as? String,
              let size = (object["size"] as? NSNumber)?.uint64Value else { return nil }
        self.init(pid: pid, inbound: direction == "inbound", type: type, peerID: peerID, connectionType: connectionType,
                  address: address, size: size)
    }

    /// A `log` line: `23:07:12.667158 48213/48220 net:inbound_message peer_id=0 peer_address="…" …`.
    init?(logLine line: String) {
        let pattern = #"^\d\d:\d\d:\d\d\.\d{6} (\d+)/\d+ +net:(inbound|outbound)_message peer_id=(\d+) peer_address="([^"]*)" connection_type="([^"]*)" message_type="([^"]*)" message_size=(\d+) "#
        guard let match = line.firstMatch(of: try! Regex(pattern)), match.count == 8,
              let pid = match[1].substring.flatMap({ Int32($0) }), let peerID = match[3].substring.flatMap({ Int64($0) }),
              let size = match[7].substring.flatMap({ UInt64($0) }) else { return nil }
        self.init(pid: pid, inbound: match[2].substring == "inbound", type: String(match[6].substring ?? ""), peerID: peerID,
                  connectionType: String(match[5].substring ?? ""), address: String(match[4].substring ?? ""), size: size)
    }

    init(pid: Int32, inbound: Bool, type: String, peerID: Int64, connectionType: String, address: String, size: UInt64) {
        self.pid = pid
        self.inbound = inbound
        self.type = type
        self.peerID = peerID
        self.connectionType = connectionType
        self.address = address
        self.size = size
    }
}

/// A raw peer's view of its connection: the ground truth of the traffic
/// between it and its node, which the raw peer sees from the other end.
///
/// Take ``before(_:)`` once the exchange is done, stop the tools, then
/// ``after(_:barrier:)``: a ping sent once the tools stopped, whose pong
/// follows every message the node sent before (TCP keeps the order).
struct RawPeerTruth {
    /// Everything the raw peer sent before the tools stopped: the node received exactly these, in order.
    var sent: [WireMessage]
    /// How many of the node's messages the raw peer had read before the tools stopped: the tools saw at least these.
    var readBeforeStop: Int
    /// The node's messages before the barrier's pong: the tools saw a prefix of these.
    var sentByNode: [WireMessage] = []

    static func before(_ peer: RawPeer) async -> RawPeerTruth {
        RawPeerTruth(sent: await peer.sent, readBeforeStop: await peer.received.count)
    }

    mutating func after(_ peer: RawPeer, barrier nonce: UInt64) async throws {
        _ = try await peer.ping(nonce: nonce)
        sentByNode = Array(await peer.received.dropLast())
    }

    /// Checks what a tool printed of this connection: the messages it
    /// received are exactly what the raw peer sent; the messages it sent are
    /// the first ones the raw peer read, at least all read before the stop.
    func check(_ printed: [PrintedMessage], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let inbound = printed.filter(\.inbound).map { "\($0.type) \($0.size)" }
        #expect(inbound == sent.map { "\($0.command) \($0.payloadSize)" }, "\(what): inbound = what the raw peer sent", sourceLocation: sourceLocation)
        let outbound = printed.filter { !$0.inbound }.map { "\($0.type) \($0.size)" }
        let truth = sentByNode.map { "\($0.command) \($0.payloadSize)" }
        #expect(outbound.count >= readBeforeStop && outbound.count <= truth.count,
                "\(what): \(outbound.count) outbound, the raw peer read \(readBeforeStop) before the stop and \(truth.count) before the barrier",
                sourceLocation: sourceLocation)
        #expect(outbound == Array(truth.prefix(outbound.count)), "\(what): outbound = the first messages the raw peer read", sourceLocation: sourceLocation)
    }
}

/// The pid in the PID column of a tool's line (7 wide, then a space); nil
/// for a line without one.
func pidColumn(of line: String) -> Int32? {
    guard line.count > 8, line[line.index(line.startIndex, offsetBy: 7)] == " " else { return nil }
    return Int32(line.prefix(7).trimmingCharacters(in: .whitespaces))
}

/// The PID column as a line starts with it: the pid left-aligned in 7, a space.
func pidColumnText(_ pid: Int32) -> String {
    String(pid).padding(toLength: 8, withPad: " ", startingAt: 0)
}

/// `line` without its PID column.
func withoutPIDColumn(_ line: String) -> String {
    String(line.dropFirst(8))
}

/// Parses standard output of a JSON Lines tool: one object per non-empty line.
func jsonObjects(_ result: ToolProcess.Result) throws -> [[String: Any]] {
    try result.lines.filter { !$0.isEmpty }.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "\($0)") }
}

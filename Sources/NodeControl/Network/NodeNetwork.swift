/// Several dev nodes sharing one genesis block, wired together over P2P on loopback.
///
/// ```swift
/// let network = try await NodeNetwork.start(count: 2)
/// try await network.connectInLine()
/// try await network.nodes[0].rpc.generateToAddress(5, address: address)
/// try await network.waitForSync()
/// await network.finish(passed: true)
/// ```
public struct NodeNetwork: Sendable {
    /// The nodes, in start order.
    public let nodes: [TapyrusNode]

    /// Wraps nodes started elsewhere (they must share a genesis block, i.e. a signing key).
    public init(nodes: [TapyrusNode]) {
        self.nodes = nodes
    }

    /// Starts `count` nodes concurrently; `makeOptions(index)` gives each its options.
    public static func start(count: Int, binaries: TapyrusBinaries? = nil,
                             options makeOptions: @Sendable (Int) -> NodeOptions = { NodeOptions(name: "node\($0)") }) async throws -> NodeNetwork {
        NodeNetwork(nodes: try await TapyrusNode.start(count: count, binaries: binaries, options: makeOptions))
    }

    /// Connects node `from` to node `to` and waits until both completed the handshake.
    public func connect(_ from: Int, to: Int, command: AddNodeCommand = .onetry, timeout: Duration = .seconds(30)) async throws {
        try await NodeNetwork.connect(nodes[from], to: nodes[to], command: command, timeout: timeout)
    }

    /// Connects each node to the next (0→1, 1→2, …) and waits for every handshake.
    public func connectInLine(command: AddNodeCommand = .onetry, timeout: Duration = .seconds(30)) async throws {
        for index in nodes.indices.dropLast() {
            try await connect(index, to: index + 1, command: command, timeout: timeout)
        }
    }

    /// Waits until every node has the same best block hash, and optionally the same mempool.
    public func waitForSync(mempools: Bool = false, timeout: Duration = .seconds(30)) async throws {
        try await NodeNetwork.waitForSync(nodes, mempools: mempools, timeout: timeout)
    }

    /// Finishes every node (see ``TapyrusNode/finish(passed:)``).
    public func finish(passed: Bool) async {
        await withTaskGroup(of: Void.self) { group in
            for node in nodes { group.addTask { await node.finish(passed: passed) } }
        }
    }

    /// Asks `from` to connect to `to` (`addnode`) and waits until both sides see the handshake done.
    ///
    /// `.onetry` connects at once (tens of milliseconds). `.add` only puts the peer on the
    /// node's list; its added-connections thread sleeps 2 s between rounds (60 s after a round
    /// that tried something), so give `.add` a timeout above a minute.
    public static func connect(_ from: TapyrusNode, to: TapyrusNode, command: AddNodeCommand = .onetry,
                               timeout: Duration = .seconds(30)) async throws {
        let inboundBefore = try await to.rpc.getPeerInfo().filter { $0.inbound && $0.version > 0 }.count
        try await from.rpc.addNode(to.p2pAddress, command: command)
        let target = to.p2pAddress
        try await waitUntil("\(from.name) connected to \(to.name) (\(target))", timeout: timeout) {
            let outbound = try await from.rpc.getPeerInfo().first { $0.addr == target && !$0.inbound }
            guard let outbound, outbound.version > 0 else {
                return "\(from.name) has no handshaken peer \(target)"
            }
            let inbound = try await to.rpc.getPeerInfo().filter { $0.inbound && $0.version > 0 }.count
            return inbound > inboundBefore ? nil : "\(to.name) has \(inbound) handshaken inbound peer(s)"
        }
    }

    /// Waits until all `nodes` report the same best block hash (and, if asked, the same mempool txids).
    public static func waitForSync(_ nodes: [TapyrusNode], mempools: Bool = false, timeout: Duration = .seconds(30)) async throws {
        try await waitUntil("\(nodes.count) nodes synced\(mempools ? " (tips and mempools)" : "")", timeout: timeout) {
            var tips: [String] = []
            var pools: [Set<String>] = []
            for node in nodes {
                tips.append(try await node.rpc.getBlockchainInfo().bestblockhash)
                if mempools { pools.append(Set(try await node.rpc.getRawMempool())) }
            }
            let tipsAgree = Set(tips).count == 1
            let poolsAgree = Set(pools).count <= 1
            if tipsAgree && poolsAgree { return nil }
            return zip(nodes, tips).map { "\($0.name): \($1.prefix(16))" }.joined(separator: ", ")
                + (poolsAgree ? "" : "; mempool sizes \(pools.map(\.count))")
        }
    }
}

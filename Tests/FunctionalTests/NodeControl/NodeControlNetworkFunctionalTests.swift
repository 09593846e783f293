import Foundation
import NodeControl
import TapyrusEncoding
import Testing

@Suite("NodeControl functional: several nodes and a raw P2P peer", .requiresTapyrusd)
struct NodeControlNetworkFunctionalTests {
    @Test("Two nodes connect, and blocks and a transaction mined on one reach the other")
    func twoNodesSync() async throws {
        let network = try await NodeNetwork.start(count: 2, binaries: tapyrusBinaries)
        let pids = await network.nodes.asyncMap { await $0.pid }
        var passed = false
        defer { if !passed { Task { await network.finish(passed: false) } } }
        let clock = ContinuousClock()
        let started = clock.now
        try await network.connect(0, to: 1)
        report("2-node connect (addnode onetry + handshake)", clock.now - started)
        let miner = network.nodes[0].rpc
        let address = try await miner.getNewAddress()
        let syncStart = clock.now
        try await miner.generateToAddress(5, address: address)
        try await network.waitForSync()
        report("2-node sync of 5 blocks", clock.now - syncStart)
        #expect(try await network.nodes[1].rpc.getBlockCount() == 5)
        let peers = try await network.nodes[0].rpc.getPeerInfo()
        #expect(peers.contains { $0.addr == network.nodes[1].p2pAddress && !$0.inbound })
        #expect(try await network.nodes[1].rpc.getConnectionCount() == 1)

        let txid = try await miner.sendToAddress(try await network.nodes[1].rpc.getNewAddress(), amount: .tpc(1))
        try await network.nodes[1].rpc.waitForMempool(containing: [txid])
        try await network.waitForSync(mempools: true)
        try await miner.generateToAddress(1, address: address)
        try await network.waitForSync(mempools: true)
        #expect(try await network.nodes[1].rpc.getBalance() == .tpc(1))

        try await network.nodes[0].rpc.disconnectNode(address: network.nodes[1].p2pAddress)
        try await waitUntil("disconnect") {
            let count = try await network.nodes[0].rpc.getConnectionCount()
            return count == 0 ? nil : "\(count) connections"
        }
        passed = true
        await network.finish(passed: true)
        for pid in pids.compactMap({ $0 }) { #expect(await waitForProcessToVanish(pid)) }
        for node in network.nodes { #expect(!FileManager.default.fileExists(atPath: node.dataDirectory)) }
    }

    @Test("A raw peer completes the handshake and its ping is answered by a pong with the same nonce")
    func rawPeerPing() async throws {
        try await withCheckedNode("rawpeer") { node in
            let peer = try await node.connectRawPeer()
            defer { Task { await peer.close() } }
            let remote = try #require(await peer.remoteVersion)
            #expect(remote.version == ProtocolVersion.current)
            #expect(remote.userAgent.contains("Tapyrus"))
            let nonce = UInt64.random(in: 1...UInt64.max)
            let (ping, pong) = try await peer.ping(nonce: nonce)
            #expect(ping.bytes.count == 32)
            #expect(ping.payloadSize == 8)
            #expect(Array(ping.bytes.prefix(4)) == NetworkMagic.dev.bytes)
            #expect(pong.message.nonce == nonce)
            #expect(pong.bytes.count == 32)
            let sent = await peer.sent.map(\.command)
            #expect(sent == ["version", "verack", "ping"])
            let peers = try await node.rpc.getPeerInfo()
            #expect(peers.contains { $0.subver == "/tapyrus-trace:0.1/" && $0.inbound })
        }
    }

    @Test("A raw getheaders is answered with the node's headers; an inv is accepted")
    func rawPeerGetheaders() async throws {
        try await withCheckedNode("getheaders") { node in
            let hashes = try await node.rpc.generateToAddress(3, address: try await node.rpc.getNewAddress())
            let peer = try await node.connectRawPeer()
            defer { Task { await peer.close() } }
            let genesis = try await node.rpc.getBlockHash(height: 0)
            let locator = try #require(InventoryItem(type: .block, rpcHex: genesis)).hash
            let request = try await peer.send(.getheaders(locator: [locator]))
            let expectedSize = 24 + 4 + 1 + 32 + 32
            #expect(request.bytes.count == expectedSize)
            let headers = try await peer.receive(command: "headers")
            var reader = ByteReader(headers.message.payload)
            #expect(try reader.readCompactSize() == 3)
            // An inv for an unknown transaction makes the node ask for it.
            let unknown = InventoryItem(type: .transaction, hash: (0..<32).map { _ in UInt8.random(in: 0...255) })
            try await peer.send(.inv([unknown]))
            let getdata = try await peer.receive(command: "getdata")
            #expect(try getdata.message.inventory() == [unknown])
            _ = hashes
        }
    }

    @Test("A transaction sent by the raw peer enters the node's mempool")
    func rawPeerTransaction() async throws {
        try await withCheckedNode("rawtx") { node in
            let rpc = node.rpc
            let address = try await rpc.getNewAddress()
            try await rpc.generateToAddress(1, address: address)
            let coinbase = try await rpc.getBlock(hash: try await rpc.getBlockHash(height: 1)).tx[0]
            let unsigned = try await rpc.createRawTransaction(inputs: [OutPoint(txid: coinbase, vout: 0)],
                                                             outputs: [address: Amount(units: 4_999_990_000)])
            let signed = try await rpc.signRawTransactionWithWallet(unsigned)
            let bytes = try #require(Hex.decode(signed.hex))
            let peer = try await node.connectRawPeer()
            defer { Task { await peer.close() } }
            let wire = try await peer.send(.tx(bytes))
            #expect(wire.bytes.count == 24 + bytes.count)
            try await rpc.waitForMempoolSize(1)
        }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}

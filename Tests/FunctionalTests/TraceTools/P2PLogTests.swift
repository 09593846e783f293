import Foundation
import NodeControl
import TapyrusEncoding
import Testing
import TraceHarness

@Suite("p2p-log and raw-p2p against a real tapyrusd", .serialized, .enabled(if: toolTestsUnavailableReason == nil, "\(toolTestsUnavailableReason ?? "")"))
struct P2PLogTests {
    @Test("a raw peer's handshake and ping show as inbound and outbound lines with getpeerinfo's id, connection type and address")
    func rawPeerPing() async throws {
        try await withToolNode("p2p-log") { node in
            let pid = try #require(await node.pid)
            let tool = try await ToolProcess(["p2p-log", "--pid", "\(pid)"])
            let peer = try await node.connectRawPeer()
            _ = try await peer.ping(nonce: 0x1234_5678)
            let info = try #require(try await node.rpc.getPeerInfo().first { $0.inbound })
            #expect(await tool.waitForOutput(containing: "outbound 'pong' msg to peer \(info.id)"))
            await peer.close()
            let result = try await tool.interrupt()
            expectCleanSummary(result, reason: "interrupted")
            // tapyrusd names connection types by flags: In------ then In------Tx once relaying.
            func expectLine(_ direction: String, _ type: String, _ size: Int) {
                let preposition = direction == "inbound" ? "from" : "to"
                let pattern = "^\(direction) '\(type)' msg \(preposition) peer \(info.id) \\(In[-A-Za-z]*, \(NSRegularExpression.escapedPattern(for: info.addr))\\) with \(size) bytes$"
                #expect(result.lines.contains { $0.range(of: pattern, options: .regularExpression) != nil }, "no line \(pattern) in \(result.lines)")
            }
            let versionSize = try #require(await peer.sent.first).payloadSize
            expectLine("inbound", "version", versionSize)
            expectLine("inbound", "verack", 0)
            expectLine("outbound", "verack", 0)
            expectLine("inbound", "ping", 8)
            expectLine("outbound", "pong", 8)
        }
    }

    @Test("raw-p2p prints a 40 KB transaction relayed between two nodes whole, equal to getrawtransaction's hex, and a burst of 500 pings without loss")
    func wholeMessagesAndBurst() async throws {
        let nodes = try await NodeNetwork.start(count: 2, binaries: tapyrusBinaries)
        var passed = false
        do {
            let sender = nodes.nodes[0], receiver = nodes.nodes[1]
            let address = try await sender.rpc.getNewAddress()
            _ = try await sender.rpc.generateToAddress(1, address: address)
            try await nodes.connect(0, to: 1)
            try await nodes.waitForSync()
            let pid = try #require(await receiver.pid)
            let tool = try await ToolProcess(["raw-p2p", "--pid", "\(pid)", "--json"])
            let amounts = Dictionary(uniqueKeysWithValues: (0..<UInt32(1200)).map { (SyntheticAddress.dev($0), Amount(units: 10_000)) })
            let txid = try await sender.rpc.sendMany(amounts)
            try await nodes.waitForSync(mempools: true)
            let hex = try await sender.rpc.getRawTransactionHex(txid)
            let peer = try await receiver.connectRawPeer()
            for nonce in 0..<UInt64(500) { try await peer.send(.ping(nonce: nonce)) }
            // The last pong is the barrier: the node fired inbound_message for
            // every ping before it answered the last. Ctrl-C drains the rest.
            _ = try await peer.receive(command: "pong", timeout: .seconds(20)) { $0.nonce == 499 }
            await peer.close()
            let result = try await tool.interrupt()
            expectCleanSummary(result, reason: "interrupted")
            let objects = try result.lines.filter { !$0.isEmpty }.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            let tx = try #require(objects.first { $0["message_type"] as? String == "tx" && $0["direction"] as? String == "inbound" })
            #expect(hex.count / 2 > 32 * 1024)
            #expect(tx["size"] as? Int == hex.count / 2)
            #expect(tx["received"] as? Int == hex.count / 2)
            #expect(tx["complete"] as? Bool == true)
            #expect(tx["hex"] as? String == hex)
            let pings = objects.filter { $0["message_type"] as? String == "ping" && $0["direction"] as? String == "inbound" && ($0["peer_address"] as? String)?.hasPrefix("127.0.0.1:") == true }
            #expect(pings.count >= 500)
            #expect(objects.allSatisfy { $0["complete"] as? Bool == true })
            passed = true
        } catch {
            await nodes.finish(passed: false)
            throw error
        }
        await nodes.finish(passed: passed)
    }
}

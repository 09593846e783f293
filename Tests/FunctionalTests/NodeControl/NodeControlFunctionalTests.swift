import Foundation
import NodeControl
import TapyrusEncoding
import Testing

@Suite("NodeControl functional: one real tapyrusd", .requiresTapyrusd)
struct NodeControlFunctionalTests {
    @Test("A node starts in dev mode, answers RPC through its cookie, and stops by RPC")
    func startAndStop() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let node = try await TapyrusNode.start(options: NodeOptions(name: "startstop"), binaries: tapyrusBinaries)
        report("node start", clock.now - started)
        let pid = try #require(await node.pid)
        let info = try await node.rpc.getBlockchainInfo()
        #expect(info.chain == String(DevNetwork.defaultNetworkID))
        #expect(info.mode?.lowercased() == "dev")
        #expect(info.blocks == 0)
        #expect(node.networkDirectory.hasSuffix("/dev-1905960821"))
        #expect(FileManager.default.fileExists(atPath: "\(node.networkDirectory)/.cookie"))
        #expect(FileManager.default.fileExists(atPath: "\(node.dataDirectory)/genesis.dat"))
        let stopReport = try await node.stop()
        report("node stop", stopReport.duration)
        #expect(stopReport.method == .rpcStop)
        #expect(stopReport.status == .exited(0))
        #expect(await node.pid == nil)
        #expect(processIsGone(pid))
        await node.finish(passed: true)
        #expect(!FileManager.default.fileExists(atPath: node.dataDirectory))
    }

    @Test("Blocks generated to a wallet address are signed with the test key and pay 50 TPC each")
    func generateToWalletAddress() async throws {
        try await withCheckedNode("generate") { node in
            let address = try await node.rpc.getNewAddress()
            let hashes = try await node.rpc.generateToAddress(3, address: address)
            #expect(hashes.count == 3)
            #expect(try await node.rpc.getBlockCount() == 3)
            #expect(try await node.rpc.getBlockHash(height: 3) == hashes[2])
            let block = try await node.rpc.getBlock(hash: hashes[2])
            #expect(block.height == 3)
            #expect(block.nTx == 1)
            #expect(block.proof?.isEmpty == false)
            #expect(block.previousblockhash == hashes[1])
            #expect(try await node.rpc.getBalance() == Amount(units: 3 * DevNetwork.coinbaseValue))
            let utxos = try await node.rpc.getTxOutSetInfo()
            #expect(utxos.height == 3)
            #expect(utxos.tpcTotal == Amount(units: 3 * DevNetwork.coinbaseValue), "totals: \(utxos.totalAmount ?? [:])")
        }
    }

    @Test("A wallet payment enters the mempool and is mined; a raw transaction passes testmempoolaccept")
    func sendAndMine() async throws {
        try await withCheckedNode("send") { node in
            let rpc = node.rpc
            let miner = try await rpc.getNewAddress()
            try await rpc.generateToAddress(2, address: miner)
            let payee = try await rpc.getNewAddress()

            // Raw path first, while both coinbases are unspent: spend the first by hand.
            let coinbase = try await rpc.getBlock(hash: try await rpc.getBlockHash(height: 1)).tx[0]
            let unsigned = try await rpc.createRawTransaction(inputs: [OutPoint(txid: coinbase, vout: 0)],
                                                             outputs: [payee: Amount(units: 4_999_000_000)])
            let signed = try await rpc.signRawTransactionWithWallet(unsigned)
            #expect(signed.complete)
            let verdict = try await rpc.testMempoolAccept([signed.hex])
            #expect(verdict.allAllowed, "\(verdict)")
            let rawTxid = try await rpc.sendRawTransaction(signed.hex)
            try await rpc.waitForMempool(containing: [rawTxid])

            // Wallet path.
            let txid = try await rpc.sendToAddress(payee, amount: Amount(units: 150_000_000))
            try await rpc.waitForMempool(containing: [txid])
            let entry = try await rpc.getMempoolEntry(txid)
            #expect(entry.size > 0)
            #expect(try await rpc.getMempoolInfo().size == 2)
            let many = try await rpc.sendMany([try await rpc.getNewAddress(): .tpc(1), try await rpc.getNewAddress(): .tpc(2)])
            try await rpc.waitForMempoolSize(3)

            try await rpc.generateToAddress(1, address: miner)
            try await rpc.waitForMempoolSize(0)
            for id in [txid, many, rawTxid] {
                #expect(try await rpc.getTransaction(id).confirmations == 1)
            }
            let decoded = try await rpc.getRawTransaction(txid)
            #expect(decoded.txid == txid)
            #expect(decoded.vout.contains { $0.value == Amount(units: 150_000_000) })
        }
    }

    @Test("A token can be issued and its balance read back")
    func issueToken() async throws {
        try await withCheckedNode("token") { node in
            let rpc = node.rpc
            try await rpc.generateToAddress(1, address: try await rpc.getNewAddress())
            let coinbase = try await rpc.getBlock(hash: try await rpc.getBlockHash(height: 1)).tx[0]
            let token = try await rpc.issueToken(type: .nonReissuable, value: 1000, source: coinbase, outputIndex: 0)
            #expect(token.color.count == 66)
            try await rpc.generateToAddress(1, address: try await rpc.getNewAddress())
            #expect(try await rpc.getBalance(color: token.color) == Amount(units: 1000))
        }
    }

    @Test("Wrong parameters and unknown methods become RPCError.server with the node's code")
    func rpcErrors() async throws {
        try await withCheckedNode("rpcerrors") { node in
            await #expect { try await node.rpc.getBlockHash(height: 99) } throws: { error in
                (error as? RPCError)?.code == RPCErrorCode.invalidParameter
            }
            await #expect { try await node.rpc.call("nosuchmethod") } throws: { error in
                (error as? RPCError)?.code == RPCErrorCode.methodNotFound
            }
            await #expect { try await node.rpc.call("getblockhash", ["x"]) } throws: { error in
                guard case .server? = error as? RPCError else { return false }
                return true
            }
            await #expect { try await node.rpc.generateToAddress(1, address: "notanaddress") } throws: { error in
                (error as? RPCError)?.code == RPCErrorCode.invalidAddressOrKey
            }
        }
    }

    @Test("RPC to a stopped node is a transport error naming its endpoint")
    func rpcToStoppedNode() async throws {
        try await withCheckedNode("stopped") { node in
            try await node.stop()
            await #expect { try await node.rpc.getBlockCount() } throws: { error in
                guard case let .transport(_, endpoint, _)? = error as? RPCError else { return false }
                return endpoint == "127.0.0.1:\(node.rpcPort)"
            }
        }
    }

    @Test("A restart with -reindex keeps the datadir and the chain")
    func restartWithReindex() async throws {
        try await withCheckedNode("restart") { node in
            try await node.rpc.generateToAddress(5, address: try await node.rpc.getNewAddress())
            let tip = try await node.rpc.getBlockchainInfo().bestblockhash
            let firstPid = try #require(await node.pid)
            try await node.restart(arguments: ["-reindex"])
            #expect(await node.arguments == ["-reindex"])
            let secondPid = try #require(await node.pid)
            #expect(secondPid != firstPid)
            #expect(processIsGone(firstPid))
            try await node.rpc.waitForBlockCount(atLeast: 5)
            #expect(try await node.rpc.getBlockchainInfo().bestblockhash == tip)
        }
    }

    @Test("A node with a bad option fails to start and the error carries its message")
    func badOptionReportsLog() async throws {
        var options = NodeOptions(name: "badoption")
        options.arguments = ["-prune=-5", "-txindex"]
        let error = try await #require(throws: NodeError.self) {
            try await TapyrusNode.start(options: options, binaries: tapyrusBinaries)
        }
        print("NodeControl: start failure as reported: \(error)")
        guard case .exitedDuringStartup = error.kind else {
            Issue.record("expected exitedDuringStartup, got \(error.kind)")
            return
        }
        #expect(!(error.logTail + [error.standardError]).joined().isEmpty)
        #expect(error.description.lowercased().contains("prune"))
        #expect(!error.description.contains("\n"))
        let dataDirectory = try #require(error.dataDirectory)
        #expect(FileManager.default.fileExists(atPath: dataDirectory), "a failed node's datadir is kept")
        try FileManager.default.removeItem(atPath: dataDirectory)
    }

    @Test("A node whose P2P port is taken fails to start and says so")
    func portTaken() async throws {
        try await withCheckedNode("holder") { holder in
            var options = NodeOptions(name: "porttaken")
            options.p2pPort = holder.p2pPort
            let error = try await #require(throws: NodeError.self) {
                try await TapyrusNode.start(options: options, binaries: tapyrusBinaries)
            }
            print("NodeControl: start failure as reported: \(error)")
            #expect(error.description.contains("bind") || error.description.contains("in use"))
            if let dataDirectory = error.dataDirectory { try? FileManager.default.removeItem(atPath: dataDirectory) }
        }
    }

    @Test("invalidateblock, reconsiderblock, setmocktime and pruneblockchain (after a restart with -prune=1) reach the node")
    func chainControlCalls() async throws {
        try await withCheckedNode("chaincontrol") { node in
            let rpc = node.rpc
            let hashes = try await rpc.generateToAddress(4, address: try await rpc.getNewAddress())
            try await rpc.invalidateBlock(hashes[2])
            #expect(try await rpc.getBlockCount() == 2)
            #expect(try await rpc.getBlock(hash: hashes[3]).confirmations == -1)
            try await rpc.reconsiderBlock(hashes[2])
            #expect(try await rpc.getBlockCount() == 4)
            try await rpc.setMockTime(Int64(Date().timeIntervalSince1970) + 3600)
            try await rpc.setMockTime(0)
            try await node.restart(arguments: ["-prune=1"])
            #expect(try await rpc.getBlockchainInfo().pruned)
            // A 4-block chain is below the 288 blocks a pruned node keeps: the node's own refusal comes back typed.
            await #expect(throws: RPCError.server(method: "pruneblockchain", code: RPCErrorCode.miscError,
                                                  message: "Blockchain is too short for pruning.")) {
                try await rpc.pruneBlockchain(height: 1)
            }
        }
    }
}

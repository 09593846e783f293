import BenchStore
import Foundation
import NodeControl
import TapyrusEncoding
import Testing
import TraceHarness

/// The wallet, UTXO cache and ConnectBlock tools traced by binary path with
/// two connected nodes of one tapyrusd.
@Suite("wallet, cache and connectblock tools by binary path keep two nodes of one tapyrusd apart", .serialized,
       .enabled(if: toolTestsUnavailableReason == nil, "\(toolTestsUnavailableReason ?? "")"))
struct TwoNodeChainToolTests {
    /// What `utxo-log` printed of one coin.
    struct CoinLine: Hashable {
        var pid: Int32
        var op: String
        var outpoint: String
    }

    @Test("coin-selection-log, utxo-log, flush-log and log: each line names its node, and each node's lines are what its RPC says it did")
    func walletAndCacheTools() async throws {
        try await withTwoNodes("chain-tools") { nodes in
            let (pidA, pidB) = try await nodes.pids()
            let binary = nodes.tapyrusd.path
            let coinSelection = try await ToolProcess(["coin-selection-log", "--tapyrusd", binary])
            let utxoLog = try await ToolProcess(["utxo-log", "--tapyrusd", binary])
            let flushLog = try await ToolProcess(["flush-log", "--tapyrusd", binary])
            let log = try await ToolProcess(["log", binary, "--probe", "validation:block_connected"])

            // a mines height 1, b height 2 (each a coin of its own), a pays
            // twice and b once, a mines height 3 with all three payments.
            let addressA = try await nodes.a.rpc.getNewAddress(), addressB = try await nodes.b.rpc.getNewAddress()
            try await nodes.a.rpc.generateToAddress(1, address: addressA)
            try await nodes.network.waitForSync()
            try await nodes.b.rpc.generateToAddress(1, address: addressB)
            try await nodes.network.waitForSync()
            let sends: [(node: TapyrusNode, pid: Int32, units: Int64)] = [(nodes.a, pidA, 150_000_000), (nodes.a, pidA, 250_000_000), (nodes.b, pidB, 70_000_000)]
            var txids: [String] = []
            for send in sends {
                txids.append(try await send.node.rpc.sendToAddress(try await send.node.rpc.getNewAddress(), amount: Amount(units: send.units)))
            }
            try await nodes.network.waitForSync(mempools: true)
            // The fee each payment pays, as its node's mempool has it.
            var fees: [Int64] = []
            for (index, send) in sends.enumerated() {
                fees.append(try #require(try await send.node.rpc.getMempoolEntry(txids[index]).fees).base.units)
            }
            try await nodes.a.rpc.generateToAddress(1, address: addressA)
            try await nodes.network.waitForSync()
            #expect(await coinSelection.waitForOutput(containing: "\(pidColumnText(pidB))  fee "))

            // b stops: its shutdown's flushes, while a runs on and the tools trace on.
            _ = try await nodes.b.stop()
            #expect(await flushLog.waitForOutput(containing: "\(pidColumnText(pidB))"), "b's shutdown flush")
            let results = (coinSelection: try await coinSelection.interrupt(), utxo: try await utxoLog.interrupt(),
                           flush: try await flushLog.interrupt(), log: try await log.interrupt())
            for result in [results.coinSelection, results.utxo, results.flush, results.log] { expectCleanSummary(result, reason: "interrupted") }

            // The chain as each node's RPC has it (b's read before it stopped is the same chain: a still has it).
            var hashes: [Int: String] = [:]
            for height in 1...3 { hashes[height] = try await nodes.a.rpc.getBlockHash(height: height) }

            // log: every line names its node; each node connected heights 1 to 3, once each.
            let blockLines = results.log.lines.filter { $0.contains(" validation:block_connected ") }
            for pid in [pidA, pidB] {
                let connected = blockLines.filter { $0.split(separator: " ").dropFirst().first?.hasPrefix("\(pid)/") == true }
                let seen = connected.compactMap { line -> String? in
                    guard let height = line.firstMatch(of: #/height=(\d+)/#).map({ String($0.1) }),
                          let hash = line.firstMatch(of: #/hash=([0-9a-f]{64})/#).map({ String($0.1) }) else { return nil }
                    return "\(height) \(hash)"
                }
                #expect(seen == (1...3).map { "\($0) \(hashes[$0] ?? "")" }, "process \(pid) connected heights 1-3: \(connected)")
            }
            #expect(blockLines.count == 6)

            // coin-selection-log: each node's sends, numbered per node, with the fee its wallet reports.
            let selectionLines = results.coinSelection.lines.filter { !$0.isEmpty }
            #expect(selectionLines.allSatisfy { [pidA, pidB].contains(pidColumn(of: $0) ?? -1) }, "\(selectionLines)")
            for (index, send) in sends.enumerated() {
                let number = sends[..<index].filter { $0.pid == send.pid }.count + 1
                let fee = fees[index]
                let mine = selectionLines.filter { pidColumn(of: $0) == send.pid }.map(withoutPIDColumn)
                let start = try #require(mine.firstIndex { $0.hasPrefix("send \(number) (process \(send.pid), thread ") }, "\(mine)")
                let block = Array(mine[start...].prefix { $0 == mine[start] || $0.hasPrefix("  ") })
                #expect(block.dropFirst().first == "  requested \(send.units) TPC", "\(block)")
                #expect(block.last == "  fee       \(fee) paid, \(fee) needed", "\(block)")
            }
            #expect(selectionLines.filter { withoutPIDColumn($0).hasPrefix("send ") }.count == 3)

            // utxo-log: each node's cache took exactly the coins of the three blocks.
            #expect(results.utxo.lines.first?.hasPrefix("PID     OP        Outpoint") == true)
            var created: Set<String> = [], spent: Set<String> = []
            for height in 1...3 {
                let hash = try #require(hashes[height])
                for (index, txid) in try await nodes.a.rpc.getBlock(hash: hash).tx.enumerated() {
                    let transaction = try Transaction(hex: try await nodes.a.rpc.getRawTransaction(txid, blockHash: hash).hex)
                    created.formUnion(transaction.outputs.indices.filter { !transaction.outputs[$0].isUnspendable }.map { "\(txid) \($0)" })
                    // A coinbase spends nothing.
                    if index > 0 { spent.formUnion(transaction.inputs.map { "\($0.previousOutput.txid) \($0.previousOutput.vout)" }) }
                }
            }
            #expect(spent.count >= 3, "the three payments spend")
            let coins = results.utxo.lines.dropFirst().filter { !$0.isEmpty }.compactMap { line -> CoinLine? in
                let columns = withoutPIDColumn(line).split(separator: " ")
                guard let pid = pidColumn(of: line), columns.count == 8 else { return nil }
                return CoinLine(pid: pid, op: String(columns[0]), outpoint: "\(columns[2]) \(columns[3])")
            }
            #expect(coins.count == results.utxo.lines.dropFirst().filter { !$0.isEmpty }.count, "every line has a PID column and eight more")
            for pid in [pidA, pidB] {
                #expect(Set(coins.filter { $0.pid == pid && $0.op == "Added" }.map(\.outpoint)) == created, "process \(pid) added the blocks' coins")
                #expect(Set(coins.filter { $0.pid == pid && $0.op == "Spent" }.map(\.outpoint)) == spent, "process \(pid) spent the payments' inputs")
            }

            // flush-log: b's shutdown flushed (ALWAYS); a, still running, did not flush.
            let flushLines = results.flush.lines.filter { !$0.isEmpty }
            #expect(flushLines.first == "PID     Duration (µs)   Mode       Coins Count     Memory Usage    Prune")
            let flushes = flushLines.dropFirst()
            #expect(!flushes.isEmpty && flushes.allSatisfy { pidColumn(of: $0) == pidB }, "\(flushLines)")
            #expect(flushes.contains { withoutPIDColumn($0).split(separator: " ").dropFirst().first == "ALWAYS" })
        }
    }

    @Test("connectblock: one benchmark per node, each with its own blocks, progress, total and histogram; it ends once both reached the end height; --store keeps a run per node")
    func connectBlock() async throws {
        try await withTwoNodes("connectblock-two") { nodes in
            let (pidA, pidB) = try await nodes.pids()
            let binary = nodes.tapyrusd.path
            let database = "\(nodes.tapyrusd.folder.path)/baselines.sqlite"
            let text = try await ToolProcess(["connectblock", "1", "6", "0", "--tapyrusd", binary, "--store", database, "--chain", "two-nodes"])
            let json = try await ToolProcess(["connectblock", "1", "6", "0", "--tapyrusd", binary, "--json"])
            // a mines five blocks, b connects them too: both benchmarks begun;
            // then the sixth, which ends a's, then b's.
            let address = try await nodes.a.rpc.getNewAddress()
            try await nodes.a.rpc.generateToAddress(5, address: address)
            try await nodes.network.waitForSync()
            try await nodes.a.rpc.generateToAddress(1, address: address)
            let results = (text: try await text.finish(), json: try await json.finish())
            let reason = "height 6 connected by processes \(pidA), \(pidB)"
            expectCleanSummary(results.text, reason: reason)
            expectCleanSummary(results.json, reason: reason)
            var hashes: [Int32: [String]] = [:]
            for (pid, node) in [(pidA, nodes.a), (pidB, nodes.b)] {
                var own: [String] = []
                for height in 1...6 { own.append(try await node.rpc.getBlockHash(height: height)) }
                hashes[pid] = own
            }

            let lines = results.text.lines
            #expect(lines.first == "ConnectBlock benchmark between height 1 and 6 inclusive, one per process")
            #expect(lines.dropFirst().filter { !$0.isEmpty }.allSatisfy { [pidA, pidB].contains(pidColumn(of: $0) ?? -1) },
                    "every line after the header in the PID column")
            for pid in [pidA, pidB] {
                let own = lines.filter { pidColumn(of: $0) == pid }.map(withoutPIDColumn)
                #expect(own.first == "Starting Connect Block Benchmark between height 1 and 6.")
                let blocks = own.filter { $0.hasPrefix("Block ") }
                let columns = blocks.map { $0.split(separator: " ").map(String.init) }
                #expect(columns.map { $0.count > 2 ? String($0[2].dropFirst().dropLast()) : "" } == hashes[pid] ?? [], "process \(pid)'s blocks")
                #expect(columns.map { $0.count > 1 ? Int($0[1]) ?? 0 : 0 } == Array(1...6))
                let benched = own.filter { $0.hasPrefix("BENCH ") }.compactMap { $0.split(separator: " ").dropFirst().first.flatMap { Int($0) } }.reduce(0, +)
                #expect(benched == 6, "process \(pid)'s progress lines count its six blocks")
                #expect(own.contains { $0.range(of: #"^Took \d+ ms to connect the blocks between height 1 and 6\.$"#, options: .regularExpression) != nil })
                #expect(own.contains { $0.hasPrefix("6 blocks, 6 transactions, 6 inputs, ") && $0.hasSuffix("; no height missing") })
                let histogram = own.drop { $0 != "@durations: " }.dropFirst().prefix { $0.hasPrefix("[") }
                #expect(histogram.compactMap { Int($0.dropFirst(16).prefix(8).trimmingCharacters(in: .whitespaces)) }.reduce(0, +) == 6,
                        "process \(pid)'s histogram holds its six blocks: \(histogram)")
            }
            #expect(lines.filter { $0.hasSuffix("@durations: ") }.count == 2, "two histograms, never one of both nodes")

            let objects = try jsonObjects(results.json)
            #expect(objects.allSatisfy { [pidA, pidB].contains(($0["pid"] as? NSNumber)?.int32Value ?? -1) }, "every object carries its pid")
            for pid in [pidA, pidB] {
                let own = objects.filter { ($0["pid"] as? NSNumber)?.int32Value == pid }
                #expect(own.filter { $0["event"] as? String == "block" }.map { $0["hash"] as? String ?? "" } == hashes[pid] ?? [])
                let end = own.filter { $0["event"] as? String == "end" }
                #expect(end.count == 1 && end.first?["blocks"] as? Int == 6 && end.first?["complete"] as? Bool == true)
                #expect(own.first?["event"] as? String == "start")
            }

            // --store: one complete run per process, each with its own six blocks.
            for pid in [pidA, pidB] {
                #expect(results.text.standardError.contains("process \(pid): stored as run "), "\(results.text.standardError)")
            }
            let store = try BaselineStore(path: database)
            let runs = try await store.runs()
            #expect(runs.count == 2)
            #expect(Set(runs.map { $0.run.parameters["pid"] ?? "" }) == ["\(pidA)", "\(pidB)"])
            for run in runs {
                #expect(run.run.status == .complete && run.chain.name == "two-nodes")
                let pid = try #require(run.run.parameters["pid"].flatMap { Int32($0) })
                #expect(try await store.blocks(run: run.run.id).map(\.hash) == hashes[pid] ?? [])
            }
        }
    }
}

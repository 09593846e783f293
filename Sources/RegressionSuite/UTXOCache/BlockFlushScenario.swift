import Foundation
import NodeControl
import TapyrusEncoding
import TraceHarness

/// `utxocache:utxocache_flush` caused by blocks alone: the PERIODIC flush at
/// the end of `ActivateBestChain`, the IF_NEEDED flush of `ConnectTip` and
/// the IF_NEEDED flush of `DisconnectTip`, on a node without pruning and on
/// one with manual pruning (`-prune=1`), which must flush alike and never
/// for pruning.
///
/// A producer node mines the blocks; the two targets (`-dbcache=4`,
/// `-maxmempool=5`, like utxocache-flush-pressure) get them by
/// `submitblock`, so their mempools stay empty and the allowance
/// `FlushStateToDisk` grants the coins cache is the same at every check:
/// T = nCoinCacheUsage + maxmempool = 1,835,008 + 5,000,000 bytes.
/// (Blocks mined from a node's own mempool shrink it by the mempool's use
/// while `ConnectTip` checks, and grow it again once the block's
/// transactions left the mempool, so a block can hardly land between the
/// two limits below.)
///
/// - PERIODIC at the end of `ActivateBestChain`: after a block of 36,000
///   tiny coins, each block adds 1,000 more (about 135 kB of cache, a fifth
///   of 0.1 T), until one ends with the cache over 0.9 T. `ConnectTip`'s
///   IF_NEEDED check saw the same cache and did not flush (nothing touches
///   the cache between the two checks with an empty mempool), so the memory
///   lies in (0.9 T, T]; it and the coin count equal what `UpdateTip` logged
///   for that block, between the two checks.
/// - IF_NEEDED from `ConnectTip`: a block of 54,000 tiny coins, connected
///   into the cache the PERIODIC flush emptied: memory over T, coins its
///   spendable outputs plus the spent coinbase entries of its inputs (read
///   from disk, spent, kept as dirty until written).
/// - IF_NEEDED from `DisconnectTip`: `invalidateblock` of that block, after
///   the flush wrote its coins: `DisconnectBlock` reads every output back and
///   spends it, and re-adds the six inputs, so the cache again holds one
///   entry per change, over T.
///
/// `AcceptBlock` calls `FlushStateToDisk` with mode NONE for every block
/// submitted; without pruning to do, it never fires: exactly the flushes
/// above arrive. Durations are bounded by the coin database write and the
/// call's wall time (``FlushTruth``).
struct UTXOCacheFlushBlocksScenario: Scenario {
    let name = "utxocache-flush-blocks"
    let tracepoints = [UTXOCacheFlush.tracepoint.probe]

    var coverage: [PathCoverage] {
        [
            .exercised(UTXOCacheFlush.tracepoint.probe, "mode PERIODIC at the end of ActivateBestChain (submitblock)"),
            .exercised(UTXOCacheFlush.tracepoint.probe, "mode IF_NEEDED from ConnectTip (one large block)"),
            .exercised(UTXOCacheFlush.tracepoint.probe, "mode IF_NEEDED from DisconnectTip (invalidateblock)"),
            .exercised(UTXOCacheFlush.tracepoint.probe, "the same flushes on a -prune=1 node, for_prune false"),
        ]
    }

    /// T with an empty mempool (see utxocache-flush-pressure for the coins cache's share of `-dbcache=4`).
    static let allowance = UTXOCacheFlushPressureScenario.allowance(mempoolUsage: 0)
    /// `fCacheLarge`'s limit: max(9 T / 10, T − 10 MiB), the first here.
    static let periodicLimit = max(9 * allowance / 10, allowance > 10 << 20 ? allowance - 10 << 20 : 0)
    static let prefillTransactions = 4
    static let stepOutputs = 1_000
    static let bigBlockTransactions = 6

    /// One node that gets the blocks, with what it recorded.
    private struct Target {
        var node: TapyrusNode
        var recording: EventRecording
        var label: String
    }

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        let names = ["\(name)-producer", "\(name)-plain", "\(name)-pruned"]
        try await withScenarioNodes(context, check, names: names, configure: { index, options in
            guard index > 0 else {
                options.configOptions += [("acceptnonstdtxn", "1")]
                return
            }
            options.configOptions += [("dbcache", "4"), ("maxmempool", "5")]
            options.arguments += NodeLog.arguments
            if index == 2 { options.arguments += ["-prune=1"] }
        }) { nodes in
            let producer = nodes[0].rpc
            var targets: [Target] = []
            for (node, label) in [(nodes[1], "without pruning"), (nodes[2], "with -prune=1")] {
                targets.append(Target(node: node, recording: try await context.recordFromNow(node), label: label))
            }
            defer { for target in targets { target.recording.stop() } }
            guard try await targets[1].node.rpc.getBlockchainInfo().pruned else { throw ScenarioError("-prune=1 did not enable pruning") }

            // The targets' wallets hold nothing; the producer's coinbases pay for the filler.
            let miner = try await producer.getNewAddress()
            var submitted = 0
            /// Submits the producer's blocks the targets lack; returns the wall time of each target's last submitblock.
            func deliver() async throws -> [Duration] {
                var walls = Array(repeating: Duration.zero, count: targets.count)
                let tip = try await producer.getBlockCount()
                while submitted < tip {
                    submitted += 1
                    let hex = try await producer.getBlockHex(hash: try await producer.getBlockHash(height: submitted))
                    for (index, target) in targets.enumerated() {
                        let (result, wall) = try await timed { try await target.node.rpc.call("submitblock", [.string(hex)]) }
                        guard result == .null else { throw ScenarioError("\(target.node.name) refused block \(submitted): \(result)") }
                        walls[index] = wall
                    }
                }
                return walls
            }
            try await producer.generateToAddress(40, address: miner)
            _ = try await deliver()
            let filler = try await CacheFiller.make(rpc: producer, changeAddress: miner)
            for _ in 0..<Self.prefillTransactions { try await filler.send() }
            try await producer.generateToAddress(1, address: miner)
            _ = try await deliver()
            for target in targets {
                check.equal(try await target.recording.events(UTXOCacheFlush.self).count, 0,
                            "\(target.label): no flush while accepting and connecting \(submitted) blocks (AcceptBlock's NONE has no pruning to do)")
                check.equal(try await target.node.rpc.getMempoolInfo().usage, 0, "\(target.label): the mempool is empty (the allowance is T = \(Self.allowance) bytes)")
            }

            // PERIODIC: small steps until the end of ActivateBestChain flushes.
            var steps = 0
            var walls: [Duration] = []
            var flushed: [[UTXOCacheFlush]] = targets.map { _ in [] }
            while flushed.allSatisfy(\.isEmpty) && steps < 30 {
                try await filler.send(outputs: Self.stepOutputs)
                try await producer.generateToAddress(1, address: miner)
                walls = try await deliver()
                steps += 1
                for (index, target) in targets.enumerated() { flushed[index] = try await target.recording.events(UTXOCacheFlush.self) }
            }
            let stepHash = try await producer.getBlockHash(height: submitted)
            for (index, target) in targets.enumerated() {
                let flushes = flushed[index]
                check.equal(flushes.map(\.mode), [.periodic], "\(target.label): block \(submitted) (step \(steps) of \(Self.stepOutputs) coins) flushes once, with mode PERIODIC")
                check.equal(flushes.map(\.forPrune), [false], "\(target.label): the PERIODIC flush is not for pruning")
                check.equal(flushes.filter { $0.memoryBytes > Self.periodicLimit && $0.memoryBytes <= Self.allowance }.count, 1,
                            "\(target.label): PERIODIC memory \(flushes.map(\.memoryBytes)) exceeds 0.9 T = \(Self.periodicLimit) and, since ConnectTip's IF_NEEDED check did not flush, is at most T = \(Self.allowance)")
                let log = try NodeLog.read(target.node)
                if let flush = flushes.first {
                    FlushTruth.checkMemory(flush, loggedAfter: log.lastConnection(of: stepHash), "\(target.label): the PERIODIC flush", check)
                    FlushTruth.checkDuration(flush, write: FlushTruth.writes(for: flushes, in: log, check).first ?? nil,
                                             wallMicroseconds: walls[index].microseconds, "\(target.label): the PERIODIC flush", check)
                }
            }
            check.equal(flushed[1].map(\.coins), flushed[0].map(\.coins), "the pruned node's PERIODIC flush holds as many coins as the other's")
            check.equal(flushed[1].map(\.memoryBytes), flushed[0].map(\.memoryBytes), "the pruned node's PERIODIC flush reports the same memory as the other's")

            // IF_NEEDED from ConnectTip: one big block into the emptied cache.
            for _ in 0..<Self.bigBlockTransactions { try await filler.send() }
            let bigHash = try requireScenario(try await producer.generateToAddress(1, address: miner).first, "the big block")
            walls = try await deliver()
            let big = try await CoinTruth.counts(connecting: bigHash, rpc: producer)
            var connectFlushes: [UTXOCacheFlush] = []
            for (index, target) in targets.enumerated() {
                let flushes = Array(try await target.recording.events(UTXOCacheFlush.self).dropFirst(1))
                check.equal(flushes.map(\.mode), [.ifNeeded], "\(target.label): the big block (\(big.adds) coins) flushes once, from ConnectTip, with mode IF_NEEDED")
                check.equal(flushes.map(\.coins), [UInt64(big.adds + big.spents)],
                            "\(target.label): IF_NEEDED coins are the big block's \(big.adds) spendable outputs and the \(big.spents) spent coinbase entries of its inputs")
                check.equal(flushes.filter { $0.memoryBytes > Self.allowance && $0.memoryBytes <= 2 * Self.allowance }.count, 1,
                            "\(target.label): ConnectTip's IF_NEEDED memory \(flushes.map(\.memoryBytes)) exceeds T = \(Self.allowance) and is within 2 T")
                check.equal(flushes.map(\.forPrune), [false], "\(target.label): ConnectTip's IF_NEEDED flush is not for pruning")
                let log = try NodeLog.read(target.node)
                if let flush = flushes.first {
                    FlushTruth.checkDuration(flush, write: FlushTruth.writes(for: flushes, in: log, check).first ?? nil,
                                             wallMicroseconds: walls[index].microseconds, "\(target.label): ConnectTip's IF_NEEDED flush", check)
                }
                connectFlushes += flushes
            }

            // IF_NEEDED from DisconnectTip: the big block disconnected again.
            // A spent per spendable output, an add per input (CoinLedger.changes(disconnecting:)).
            let disconnecting = big.adds + big.spents
            for (index, target) in targets.enumerated() {
                let (_, wall) = try await timed { try await target.node.rpc.invalidateBlock(bigHash) }
                let flushes = Array(try await target.recording.events(UTXOCacheFlush.self).dropFirst(2))
                check.equal(flushes.map(\.mode), [.ifNeeded], "\(target.label): invalidateblock of the big block flushes once, from DisconnectTip, with mode IF_NEEDED")
                check.equal(flushes.map(\.coins), [UInt64(disconnecting)],
                            "\(target.label): DisconnectTip's IF_NEEDED coins are the \(disconnecting) changes DisconnectBlock made: every output read back and spent, every input re-added")
                check.equal(flushes.filter { $0.memoryBytes > Self.allowance && $0.memoryBytes <= 2 * Self.allowance }.count, 1,
                            "\(target.label): DisconnectTip's IF_NEEDED memory \(flushes.map(\.memoryBytes)) exceeds T = \(Self.allowance) and is within 2 T")
                check.equal(flushes.map(\.forPrune), [false], "\(target.label): DisconnectTip's IF_NEEDED flush is not for pruning")
                let log = try NodeLog.read(target.node)
                if let flush = flushes.first {
                    FlushTruth.checkDuration(flush, write: FlushTruth.writes(for: flushes, in: log, check).first ?? nil,
                                             wallMicroseconds: wall.microseconds, "\(target.label): DisconnectTip's IF_NEEDED flush", check)
                    if index < connectFlushes.count {
                        check.equal(flush.memoryBytes, connectFlushes[index].memoryBytes,
                                    "\(target.label): DisconnectTip's flush reports the memory of ConnectTip's, with as many entries")
                    }
                }
                check.equal(try await target.recording.events(UTXOCacheFlush.self).count, 3, "\(target.label): exactly 3 flushes: PERIODIC, IF_NEEDED, IF_NEEDED")
            }
        }
    }
}

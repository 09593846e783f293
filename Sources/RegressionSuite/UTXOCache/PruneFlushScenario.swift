import Foundation
import NodeControl
import TapyrusEncoding
import TraceHarness

/// `utxocache:utxocache_flush` for pruning: `pruneblockchain` on a node with
/// manual pruning (`-prune=1`) deletes the first block file and flushes the
/// coins cache with mode NONE and `for_prune` true.
///
/// What the code requires (tapyrus-core `rpc/blockchain.cpp` pruneblockchain,
/// `blockprune.cpp`, `file_io.cpp` FindBlockPos and FlushStateToDisk):
/// - `pruneblockchain` refuses a chain shorter than the dev network's
///   `nPruneAfterHeight`, 1000 blocks, and lowers the height to tip − 288
///   (MIN_BLOCKS_TO_KEEP).
/// - FindFilesToPruneManual prunes only whole files before the newest
///   (`nLastBlockFile`) whose last height is at most that height. A block
///   goes to the next file when the current one would reach MAX_BLOCKFILE_SIZE
///   (128 MiB) with it (its size plus 8 header bytes). Tapyrus has no
///   `-fastprune`, so the scenario writes 128 MiB of blocks: blocks of ten
///   ~99.5 kB transactions (the standard size limit applies: this release
///   build ignores `-acceptnonstdtxn`), each carrying ten 9,938-byte
///   `OP_RETURN` outputs (allowed by `-datacarriersize=10000` and
///   `-datacarriermultiple=1`; unspendable, so they never enter the coins
///   cache) and one `OP_TRUE` output the next block's transaction spends.
///   Dev mode's maximum block size is 1,000,000 bytes (the block assembler
///   keeps 1,000 below it), so about 134 such blocks fill the first file.
/// - PruneBlockFilesManual calls FlushStateToDisk(NONE, height); when files
///   are pruned, `fFlushForPrune` makes it write the coins with `Sync()`
///   (not a full flush) and fire the tracepoint with the cache's size and
///   memory taken before. `Sync()` writes every dirty entry, erases the spent
///   ones and keeps the unspent ones in the cache.
///
/// The cache then: in manual prune mode nothing flushes before (FindFilesToPrune
/// sees a target of 2^64 − 1 bytes, and the cache is far below `-dbcache`),
/// so it holds every coin created and the spent entry of every coinbase
/// output spent (coinbase coins are never FRESH; see utxocache-flush-always).
/// Spent `OP_TRUE` outputs were FRESH and are gone.
struct UTXOCachePruneFlushScenario: Scenario {
    let name = "utxocache-flush-prune"
    let tracepoints = [UTXOCacheFlush.tracepoint.probe]

    var coverage: [PathCoverage] {
        [
            .exercised(UTXOCacheFlush.tracepoint.probe, "mode NONE with for_prune true: pruneblockchain on a -prune=1 node"),
        ]
    }

    /// MAX_BLOCKFILE_SIZE in tapyrus-core's validation.h.
    static let maxBlockFileSize = 0x800_0000
    /// The bytes before each block in a block file (message start and size).
    static let storageHeaderBytes = 8
    /// MIN_BLOCKS_TO_KEEP in validation.h.
    static let minBlocksToKeep = 288
    /// The dev network's nPruneAfterHeight (chainparams.cpp).
    static let pruneAfterHeight = 1000
    /// Transactions (and OP_TRUE chains) per big block.
    static let chains = 10

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        try await withScenarioNode(context, check, name: name, configure: { options in
            // On the command line: tapyrusd reads these before it selects the
            // config file's [dev] section (SelectConfigNetwork runs in
            // AppInitMain), so there they would be ignored.
            options.arguments += ["-prune=1", "-datacarriersize=10000", "-datacarriermultiple=1", "-debug=coindb", "-logtimemicros=1"]
        }) { node in
            let rpc = node.rpc
            let info = try await rpc.getBlockchainInfo()
            guard info.pruned else { throw ScenarioError("the node did not enable pruning with -prune=1") }
            let recording = try await context.recordFromNow(node)
            defer { recording.stop() }

            // Block 1's 50 TPC coinbase is split into the heads of the OP_TRUE chains.
            let miner = try await rpc.getNewAddress()
            try await rpc.generateToAddress(1, address: miner)
            let filler = try await BlockFileFiller.make(rpc: rpc, chains: Self.chains)
            try await rpc.generateToAddress(1, address: miner)

            // File 0 holds every block from the genesis on until one would make it reach 128 MiB.
            var fileZeroBytes = 0
            var firstInFileOne: Int?
            let tip = try await rpc.getBlockCount()
            for height in 0...tip {
                let size = try await rpc.getBlock(hash: try await rpc.getBlockHash(height: height)).size
                fileZeroBytes += size + Self.storageHeaderBytes
            }
            var bigBlocks = 0
            while firstInFileOne == nil {
                guard bigBlocks < 200 else { throw ScenarioError("\(bigBlocks) big blocks did not fill the first block file (\(fileZeroBytes) bytes)") }
                try await filler.sendRound()
                let hash = try requireScenario(try await rpc.generateToAddress(1, address: miner).first, "a big block")
                let block = try await rpc.getBlock(hash: hash)
                if bigBlocks == 0 {
                    check.equal(block.tx.count, Self.chains + 1, "a big block holds the \(Self.chains) filler transactions and its coinbase (\(block.size) bytes)")
                }
                bigBlocks += 1
                let add = block.size + Self.storageHeaderBytes
                if fileZeroBytes + add >= Self.maxBlockFileSize {
                    firstInFileOne = block.height
                } else {
                    fileZeroBytes += add
                }
            }
            let boundary = try requireScenario(firstInFileOne, "the first block of file 1")

            // Cheap empty blocks up to the height pruneblockchain needs.
            let height = try await rpc.getBlockCount()
            if height < Self.pruneAfterHeight {
                try await rpc.generateToAddress(Self.pruneAfterHeight - height, address: miner, timeout: .seconds(60))
            }
            let chainHeight = try await rpc.getBlockCount()
            let before = try await rpc.getBlockchainInfo()
            check.equal(before.pruneheight, 0, "nothing is pruned before pruneblockchain")
            check.equal(try await recording.events(UTXOCacheFlush.self).count, 0,
                        "no flush while writing \(bigBlocks) big blocks (file 0: \(fileZeroBytes) bytes, blocks 0…\(boundary - 1)) and growing the chain to \(chainHeight)")

            // Prune everything up to tip − 288: all of file 0.
            let requested = chainHeight - Self.minBlocksToKeep
            let (pruned, pruneWall) = try await timed { try await rpc.pruneBlockchain(height: requested) }
            let flushes = try await recording.wait(for: 1, UTXOCacheFlush.self)
            check.equal(pruned, requested, "pruneblockchain prunes up to height \(requested)")
            let after = try await rpc.getBlockchainInfo()
            check.equal(after.pruneheight, boundary, "file 0 is gone: the lowest stored block is the first of file 1, \(boundary)")
            let lastPruned = try await rpc.getBlockHash(height: boundary - 1)
            do {
                _ = try await rpc.getBlock(hash: lastPruned)
                check.fail("block \(boundary - 1), the last of file 0, is still readable after pruning")
            } catch {
                check.that("\(error)".contains("pruned"), "block \(boundary - 1), the last of file 0, is no longer readable: pruned data",
                           detail: "\(error)")
            }

            // Nothing more to prune: file 1 is the newest file, so no further flush.
            try await rpc.pruneBlockchain(height: requested)
            check.equal(try await recording.events(UTXOCacheFlush.self).count, 1,
                        "exactly one flush: a second pruneblockchain finds nothing to prune and does not flush")

            // gettxoutsetinfo flushes fully (ALWAYS) and counts what is on disk.
            let (setInfo, setInfoWall) = try await timed { try await rpc.getTxOutSetInfo() }
            let all = try await recording.wait(for: 2, UTXOCacheFlush.self)
            check.equal(try await recording.events(UTXOCacheFlush.self).count, 2, "exactly two flushes: prune, then gettxoutsetinfo")

            let prune = flushes.first
            check.equal(flushes.map(\.mode), [FlushMode.none], "the pruning flush has mode NONE (PruneBlockFilesManual)")
            check.equal(flushes.map(\.forPrune), [true], "the pruning flush has for_prune true")
            check.equal(flushes.map(\.coins), [UInt64(setInfo.txouts + filler.spentCoinbases)],
                        "coins before the pruning flush: gettxoutsetinfo's txouts (\(setInfo.txouts)) plus the \(filler.spentCoinbases) spent coinbase entry")
            // Memory and duration against debug.log: nothing touched the cache since the last block's UpdateTip.
            let log = try NodeLog.read(node)
            if let prune {
                FlushTruth.checkMemory(prune, loggedAfter: log.connectedBlocks.last, "the pruning flush", check)
            }
            let writes = FlushTruth.writes(for: all, in: log, check)
            for (index, (label, wall)) in [("the pruning flush", pruneWall), ("gettxoutsetinfo's flush", setInfoWall)].enumerated() where index < all.count {
                FlushTruth.checkDuration(all[index], write: writes[index], wallMicroseconds: wall.microseconds, label, check)
            }

            let always = all.dropFirst()
            check.equal(always.map(\.mode), [.always], "gettxoutsetinfo then flushes with mode ALWAYS")
            check.equal(always.map(\.forPrune), [false], "gettxoutsetinfo's flush is not for pruning")
            check.equal(always.map(\.coins), [UInt64(setInfo.txouts)],
                        "the pruning flush kept the \(setInfo.txouts) unspent coins in the cache and dropped the spent entry (Sync, not a full flush)")
            check.that(always.allSatisfy { $0.memoryBytes <= prune?.memoryBytes ?? 0 },
                       "the cache after the pruning flush uses no more memory than before it",
                       detail: "\(always.map(\.memoryBytes)) > \(prune?.memoryBytes ?? 0)")
        }
    }
}

/// Writes block-file bytes quickly: each round sends one ~99.5 kB
/// transaction per chain, each spending its chain's previous `OP_TRUE`
/// output, with ten 9,938-byte `OP_RETURN` outputs (not coins) and a new
/// `OP_TRUE` output. The chains start from one wallet coinbase (signed by the
/// wallet); the rest needs no signature.
///
/// `@unchecked Sendable`: `rpc` is Sendable and never changes; `heads` is
/// read and written with `lock` held.
final class BlockFileFiller: @unchecked Sendable {
    /// OP_RETURN outputs per transaction: 10 × 9,949 bytes keep it under 100,000 bytes.
    static let dataOutputs = 10
    static let fee: Int64 = 200_000
    /// `OP_RETURN` followed by 19 pushes of 520 zero bytes (the largest push):
    /// 9,938 bytes, under MAX_SCRIPT_SIZE (10,000).
    static let dataScript: [UInt8] = {
        var script: [UInt8] = [0x6a]
        for _ in 0..<19 { script += [0x4d, 0x08, 0x02] + [UInt8](repeating: 0, count: 520) }
        return script
    }()

    let rpc: RPCClient
    /// Coinbase outputs the filler spent (one: the split).
    let spentCoinbases = 1
    private let lock = NSLock()
    private var heads: [(txid: String, vout: Int, value: Int64)]

    private init(rpc: RPCClient, heads: [(txid: String, vout: Int, value: Int64)]) {
        self.rpc = rpc
        self.heads = heads
    }

    /// Splits one 50 TPC wallet coinbase into `chains` `OP_TRUE` outputs (the
    /// split stays in the mempool: mine it before the first round).
    static func make(rpc: RPCClient, chains: Int) async throws -> BlockFileFiller {
        let unspent = try requireScenario(try await rpc.call("listunspent").arrayValue, "listunspent")
        let coin = try requireScenario(unspent.first { coin in
            coin["amount"]?.doubleValue.map { Amount(rpcValue: $0) == .tpc(50) } ?? false
        }, "a 50 TPC wallet coinbase")
        let txid = try requireScenario(coin["txid"]?.stringValue, "the coinbase's txid")
        let vout = try requireScenario(coin["vout"]?.intValue, "the coinbase's index")
        let each = (Amount.tpc(50).units - fee) / Int64(chains)
        let hex = transaction(spending: OutPoint(txid: txid, vout: Int(vout)), trueOutputs: Array(repeating: each, count: chains), dataOutputs: 0)
        let signed = try await rpc.signRawTransactionWithWallet(hex)
        guard signed.complete else { throw ScenarioError("the wallet did not sign the split of \(txid)") }
        let split = try await rpc.sendRawTransaction(signed.hex)
        return BlockFileFiller(rpc: rpc, heads: (0..<chains).map { (split, $0, each) })
    }

    /// Sends the next transaction of every chain.
    func sendRound() async throws {
        let current = lock.withLock { heads }
        var next: [(txid: String, vout: Int, value: Int64)] = []
        for head in current {
            let value = head.value - Self.fee
            let hex = Self.transaction(spending: OutPoint(txid: head.txid, vout: head.vout), trueOutputs: [value], dataOutputs: Self.dataOutputs)
            next.append((try await rpc.sendRawTransaction(hex), 0, value))
        }
        lock.withLock { heads = next }
    }

    /// Features 1, one input with an empty script, the `OP_TRUE` outputs, the
    /// data outputs, lock time 0.
    static func transaction(spending coin: OutPoint, trueOutputs: [Int64], dataOutputs: Int) -> String {
        let spendable = trueOutputs.map { Transaction.Output(value: $0, script: [0x51]) }
        let data = Array(repeating: Transaction.Output(value: 0, script: dataScript), count: dataOutputs)
        return Transaction(inputs: [.init(spending: coin)], outputs: spendable + data).hex
    }
}

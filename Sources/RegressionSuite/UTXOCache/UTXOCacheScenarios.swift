import Foundation
import NodeControl
import TapyrusEncoding
import TraceHarness

extension ScenarioCatalog {
    /// The utxocache family. The flush for pruning (`for_prune` true, mode
    /// NONE from `pruneblockchain`) needs a second block file: Tapyrus prunes
    /// only whole files other than the newest, the first holds 128 MiB, and
    /// there is no `-fastprune` (see utxocache-flush-prune).
    static let utxocache: [any Scenario] = [
        UTXOCacheAddSpentScenario(),
        UTXOCacheColouredCoinScenario(),
        UTXOCacheUncacheScenario(),
        UTXOCacheFlushAlwaysScenario(),
        UTXOCacheFlushPressureScenario(),
        UTXOCachePruneFlushScenario(),
        UTXOCacheFlushBlocksScenario(),
    ]
}

/// `utxocache:utxocache_add` and `utxocache:utxocache_spent`: reconnecting a
/// block with a wallet payment adds exactly its coinbase, payment and change
/// and spends exactly the payment's inputs, every field as RPC states it.
struct UTXOCacheAddSpentScenario: Scenario {
    let name = "utxocache-add-spent"
    let tracepoints = [UTXOCacheAdd.tracepoint.probe, UTXOCacheSpent.tracepoint.probe]

    var coverage: [PathCoverage] {
        [
            .exercised(UTXOCacheAdd.tracepoint.probe, "outputs of a connected block: coinbase, payment, change (AddCoins in ConnectBlock)"),
            .exercised(UTXOCacheSpent.tracepoint.probe, "inputs spent by ConnectBlock (UpdateCoins)"),
        ]
    }

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        try await withScenarioNode(context, check, name: name) { node in
            let rpc = node.rpc
            let miner = try await rpc.getNewAddress()
            try await rpc.generateToAddress(2, address: miner)
            let payee = try await rpc.getNewAddress()
            let payment = Amount.tpc(10)
            let paymentTxid = try await rpc.sendToAddress(payee, amount: payment)

            let (hash, recording) = try await context.reconnectMinedBlock(node, address: miner)
            defer { recording.stop() }
            let expected = try await CoinTruth.changes(connecting: hash, rpc: rpc)
            let arrived = try await context.compareCoinChanges(expected, in: recording, check, block: hash)
            let adds = arrived.compactMap { if case .add(let coin) = $0 { coin } else { nil } }
            let spents = arrived.compactMap { if case .spent(let coin) = $0 { coin } else { nil } }

            // The same coins once more, each from its own ground truth.
            let block = try await rpc.getBlock(hash: hash)
            let height = UInt32(block.height)
            let transaction = try await rpc.getRawTransaction(paymentTxid, blockHash: hash)

            // The payment's inputs, from the wallet's transactions that made them.
            let raw = try await rpc.call("getrawtransaction", [.string(paymentTxid), true, .string(hash)])
            var inputs: [CoinRecord] = []
            for input in raw["vin"]?.arrayValue ?? [] {
                let txid = try requireScenario(input["txid"]?.stringValue, "an input of the payment")
                let index = try requireScenario(input["vout"]?.intValue, "an input index of the payment")
                inputs.append(try await CoinTruth.coin(txid, Int(index), rpc: rpc))
            }
            check.that(!inputs.isEmpty, "the payment spends \(inputs.count) input(s)")
            check.equal(spents.sorted(), inputs.sorted(), "spent events are the payment's inputs (txid, index, height, value, coinbase flag)")
            check.that(inputs.allSatisfy { $0.isCoinbase && $0.height < height }, "the payment's inputs are earlier coinbases: spent events carry coinbase=true",
                       detail: "\(inputs)")
            let fee = inputs.reduce(0) { $0 + $1.value } - transaction.vout.reduce(0) { $0 + $1.value.units }

            let coinbaseTxid = try requireScenario(block.tx.first, "the coinbase of \(hash)")
            // Dev mode's subsidy is 50 TPC; the coinbase also takes the payment's fee.
            check.equal(adds.filter { $0.txid == coinbaseTxid }, [
                CoinRecord(txid: coinbaseTxid, index: 0, colourID: "TPC", height: height, value: Amount.tpc(50).units + fee, isCoinbase: true),
            ], "coinbase add: 50 TPC plus the payment's fee \(fee), height \(height), coinbase")

            let paymentOutput = try requireScenario(transaction.vout.first { $0.scriptPubKey.addresses?.contains(payee) == true }, "the output paying \(payee)")
            check.equal(adds.filter { $0.txid == paymentTxid && $0.index == UInt32(paymentOutput.n) }, [
                CoinRecord(txid: paymentTxid, index: UInt32(paymentOutput.n), colourID: "TPC", height: height, value: payment.units, isCoinbase: false),
            ], "payment add: the 10 TPC sendtoaddress asked for, at \(paymentTxid.prefix(16))…:\(paymentOutput.n)")

            let changeOutputs = transaction.vout.filter { $0.n != paymentOutput.n }
            let change = try requireScenario(changeOutputs.first, "the payment's change output")
            check.equal(changeOutputs.count, 1, "the payment has one change output")
            check.equal(adds.filter { $0.txid == paymentTxid && $0.index == UInt32(change.n) }, [
                CoinRecord(txid: paymentTxid, index: UInt32(change.n), colourID: "TPC", height: height, value: change.value.units, isCoinbase: false),
            ], "change add: \(change.value.units) units at \(paymentTxid.prefix(16))…:\(change.n)")
        }
    }
}

/// `utxocache:utxocache_add` and `utxocache:utxocache_spent` for a coloured
/// coin: issuing a token adds a coin with the colour id `issuetoken` returned,
/// and sending the token spends that coin with the same colour id.
struct UTXOCacheColouredCoinScenario: Scenario {
    let name = "utxocache-coloured-coin"
    let tracepoints = [UTXOCacheAdd.tracepoint.probe, UTXOCacheSpent.tracepoint.probe]

    var coverage: [PathCoverage] {
        [
            .exercised(UTXOCacheAdd.tracepoint.probe, "coloured outputs: a token issue and a token send"),
            .exercised(UTXOCacheSpent.tracepoint.probe, "a coloured coin spent by a token send"),
        ]
    }

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        try await withScenarioNode(context, check, name: name) { node in
            let rpc = node.rpc
            let miner = try await rpc.getNewAddress()
            try await rpc.generateToAddress(2, address: miner)
            let unspent = try await rpc.call("listunspent")
            let source = try requireScenario(unspent[0], "a wallet coin to issue from")
            let sourceTxid = try requireScenario(source["txid"]?.stringValue, "the wallet coin's txid")
            let sourceIndex = try requireScenario(source["vout"]?.intValue, "the wallet coin's index")
            let tokens: Int64 = 1000
            let issued = try await rpc.issueToken(type: .nonReissuable, value: tokens, source: sourceTxid, outputIndex: Int(sourceIndex))
            let issueTxid = try requireScenario(issued.txid, "the issuing transaction")

            // Block 1: the issue. Its coloured output is added; RPC names it by its token.
            let (issueBlock, issueRecording) = try await context.reconnectMinedBlock(node, address: miner)
            let issueExpected = try await CoinTruth.changes(connecting: issueBlock, rpc: rpc)
            let issueChanges = try await context.compareCoinChanges(issueExpected, in: issueRecording, check, block: issueBlock)
            issueRecording.stop()
            let height = UInt32(try await rpc.getBlock(hash: issueBlock).height)
            let expectedColoured = issueExpected.compactMap(\.added).filter { $0.colourID != "TPC" }
            check.equal(expectedColoured.map(\.colourID), [issued.color], "RPC: the block adds one coloured coin, of the colour issuetoken returned")
            check.equal(expectedColoured.map(\.txid), [issueTxid], "RPC: the coloured coin is an output of the issuing transaction")
            let colouredOutpoints = Set(expectedColoured.map(\.outpoint))
            let coloured = issueChanges.compactMap(\.added).filter { colouredOutpoints.contains($0.outpoint) }
            check.equal(coloured.map(\.txid), [issueTxid], "one add for the coloured output of the issuing transaction")
            check.equal(coloured.map(\.value), [tokens], "the coloured add's value is the \(tokens) tokens issued")
            check.equal(coloured.map(\.height), [height], "the coloured add's height is its block's")
            check.equal(coloured.map(\.isCoinbase), [false], "the coloured add is not a coinbase")
            let issueSpents = issueChanges.compactMap(\.spentCoin).map(\.outpoint)
            check.equal(issueSpents, ["\(sourceTxid):\(sourceIndex)"], "issuing spends exactly the outpoint it was issued from")

            // Block 2: a token send spends the coloured coin (utxocache_spent reads
            // the coin in the cache, so its colour id is right).
            let tokenAddress = try await rpc.getNewAddress(color: issued.color)
            try await rpc.sendTokens(to: tokenAddress, count: 400)
            let (sendBlock, sendRecording) = try await context.reconnectMinedBlock(node, address: miner)
            defer { sendRecording.stop() }
            let sendExpected = try await CoinTruth.changes(connecting: sendBlock, rpc: rpc)
            let sendChanges = try await context.compareCoinChanges(sendExpected, in: sendRecording, check, block: sendBlock)
            let colouredSpents = sendChanges.compactMap(\.spentCoin).filter { $0.colourID != "TPC" }
            check.equal(colouredSpents, expectedColoured, "the token send spends the issued coin: same txid, index, colour id \(issued.color.prefix(16))…, height, value")
            let sendColoured = Set(sendExpected.compactMap(\.added).filter { $0.colourID == issued.color }.map(\.outpoint))
            let colouredAdds = sendChanges.compactMap(\.added).filter { sendColoured.contains($0.outpoint) }
            check.equal(colouredAdds.map(\.value).sorted(), [400, tokens - 400], "the token send adds 400 tokens and \(tokens - 400) tokens of change")
        }
    }
}

/// `utxocache:utxocache_uncache`: `testmempoolaccept` of an invalid
/// transaction spending a coin that is on disk but not in the cache fetches
/// the coin and then drops it again: one uncache, with that coin's fields.
struct UTXOCacheUncacheScenario: Scenario {
    let name = "utxocache-uncache"
    let tracepoints = [UTXOCacheUncache.tracepoint.probe]

    var coverage: [PathCoverage] {
        [
            .exercised(UTXOCacheUncache.tracepoint.probe, "a coin read from disk for a transaction testmempoolaccept refuses (coins_to_uncache)"),
        ]
    }

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        try await withScenarioNode(context, check, name: name) { node in
            let rpc = node.rpc
            let miner = try await rpc.getNewAddress()
            try await rpc.generateToAddress(3, address: miner)
            let firstBlock = try await rpc.getBlock(hash: try await rpc.getBlockHash(height: 1))
            let coinbase = try requireScenario(firstBlock.tx.first, "the coinbase of block 1")
            let coin = try await CoinTruth.coin(coinbase, 0, rpc: rpc)

            // A restart starts with an empty coins cache: block 1's coinbase is
            // then only on disk (the shutdown flush wrote it there).
            try await context.restart(node)
            let recording = try await context.recordFromNow(node)
            defer { recording.stop() }
            // Spends 60 TPC from a 50 TPC coin (and is unsigned): ATMP fetches the
            // coin into the cache, finds the transaction invalid and uncaches it.
            let invalid = try await rpc.createRawTransaction(inputs: [OutPoint(txid: coinbase, vout: 0)],
                                                             outputs: [try await rpc.getNewAddress(): .tpc(60)])
            let acceptance = try await rpc.testMempoolAccept([invalid])
            check.that(!acceptance.allAllowed, "testmempoolaccept rejects the transaction",
                       detail: "\(acceptance.verdicts) \(acceptance.packageRejectReason ?? "")")

            // testmempoolaccept returned: the uncache it caused is in the ring.
            let events = try await recording.events(UTXOCacheUncache.self)
            check.equal(events.count, 1, "exactly one utxocache_uncache for the coin testmempoolaccept fetched and dropped")
            check.equal(events.map(\.coin), [coin],
                        "the uncached coin is block 1's coinbase output 0 as RPC states it (\(coin))")
            check.equal(coin, CoinRecord(txid: coinbase, index: 0, colourID: "TPC", height: 1, value: Amount.tpc(50).units, isCoinbase: true),
                        "RPC's block 1 coinbase is 50 TPC, height 1, coinbase")
        }
    }
}

/// `utxocache:utxocache_flush` in mode ALWAYS: `gettxoutsetinfo` and shutdown
/// force full flushes, and each reports the coins the cache held then.
///
/// A node that never flushed holds in its cache every coin it created, and
/// reads nothing from disk (there is nothing there). A new non-coinbase coin
/// enters as FRESH and is erased when spent; a coinbase coin is added with
/// `possible_overwrite` (for duplicate coinbases), so it is never FRESH and,
/// once spent, stays as a spent DIRTY entry until the next flush. So before
/// the first flush the cache holds exactly `gettxoutsetinfo`'s txouts plus
/// the coinbase outputs spent so far. A full flush empties the cache;
/// afterwards it holds only what was created since. Durations and memory
/// are compared with the node's own log (see ``FlushTruth``).
struct UTXOCacheFlushAlwaysScenario: Scenario {
    let name = "utxocache-flush-always"
    let tracepoints = [UTXOCacheFlush.tracepoint.probe]

    var coverage: [PathCoverage] {
        [
            .exercised(UTXOCacheFlush.tracepoint.probe, "mode ALWAYS: gettxoutsetinfo and the shutdown flush"),
        ]
    }

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        try await withScenarioNode(context, check, name: name, configure: { $0.arguments += NodeLog.arguments }) { node in
            let rpc = node.rpc
            let recording = try await context.recordFromNow(node)
            defer { recording.stop() }
            let miner = try await rpc.getNewAddress()
            try await rpc.generateToAddress(4, address: miner)
            // A payment (one coin spent, two created) so that the count is not just the block count.
            let payment = try await rpc.sendToAddress(try await rpc.getNewAddress(), amount: .tpc(3))
            let paymentBlock = try requireScenario(try await rpc.generateToAddress(1, address: miner).first, "the payment's block")
            let raw = try await rpc.call("getrawtransaction", [.string(payment), true, .string(paymentBlock)])
            var spentCoinbases = 0
            for input in raw["vin"]?.arrayValue ?? [] {
                let txid = try requireScenario(input["txid"]?.stringValue, "an input of the payment")
                let index = try requireScenario(input["vout"]?.intValue, "an input index of the payment")
                if try await CoinTruth.coin(txid, Int(index), rpc: rpc).isCoinbase { spentCoinbases += 1 }
            }
            check.equal(spentCoinbases, 1, "the payment spends one coinbase output")
            // Nothing above flushes: blocks connect with IF_NEEDED and PERIODIC checks far from the limits.
            check.equal(await recording.count(of: UTXOCacheFlush.self), 0, "no flush while mining a few blocks")

            // gettxoutsetinfo flushes (ALWAYS) and then counts the UTXO set on disk.
            let (setInfo, firstWall) = try await timed { try await rpc.getTxOutSetInfo() }
            let first = try await recording.events(UTXOCacheFlush.self)
            check.equal(first.map(\.mode), [.always], "gettxoutsetinfo flushes once, with mode ALWAYS")
            check.equal(first.map(\.coins), [UInt64(setInfo.txouts + spentCoinbases)],
                        "coins before the flush equal gettxoutsetinfo's txouts (\(setInfo.txouts)) plus the \(spentCoinbases) spent coinbase entry")
            check.equal(first.map(\.forPrune), [false], "not a flush for pruning")

            // Again at once: the full flush rebuilt the cache empty.
            let (_, secondWall) = try await timed { try await rpc.getTxOutSetInfo() }
            let second = Array(try await recording.events(UTXOCacheFlush.self).dropFirst())
            check.equal(second.map(\.mode), [.always], "a second gettxoutsetinfo flushes once, with mode ALWAYS")
            check.equal(second.map(\.coins), [0], "the second flush finds the cache empty")
            check.equal(second.map(\.memoryBytes), [FlushTruth.emptyCacheBytes],
                        "the empty cache's memory is one pool chunk and one bucket (\(FlushTruth.emptyCacheBytes) bytes)")

            // Shutdown: two ALWAYS flushes (Shutdown() flushes before and after
            // stopping the background callbacks); the first holds the 3 coinbases
            // mined since, the second finds the cache empty.
            let mined = 3
            try await rpc.generateToAddress(mined, address: miner)
            let (_, stopWall) = try await timed { try await node.stop() }
            let flushes = try await recording.events(UTXOCacheFlush.self)
            check.equal(flushes.count, 4, "exactly 4 flushes: 2 gettxoutsetinfo, 2 at shutdown")
            let shutdown = Array(flushes.dropFirst(2))
            check.equal(shutdown.map(\.mode), [.always, .always], "shutdown flushes with mode ALWAYS, twice")
            check.equal(shutdown.map(\.coins), [UInt64(mined), 0], "shutdown flushes the \(mined) new coinbases, then an empty cache")
            check.equal(shutdown.map(\.forPrune), [false, false], "shutdown flushes are not for pruning")
            check.equal(shutdown.last?.memoryBytes, FlushTruth.emptyCacheBytes, "the last shutdown flush finds the cache rebuilt empty (\(FlushTruth.emptyCacheBytes) bytes)")

            // Durations and memory against debug.log.
            let log = try NodeLog.read(node)
            let writes = FlushTruth.writes(for: flushes, in: log, check)
            let walls = [firstWall, secondWall, stopWall, stopWall]
            let labels = ["first gettxoutsetinfo flush", "second gettxoutsetinfo flush", "first shutdown flush", "second shutdown flush"]
            for index in flushes.indices where index < walls.count {
                FlushTruth.checkDuration(flushes[index], write: writes[index], wallMicroseconds: walls[index].microseconds, labels[index], check)
            }
            if let flush = first.first { FlushTruth.checkMemory(flush, loggedAfter: log.lastConnection(of: paymentBlock), labels[0], check) }
            if let flush = shutdown.first { FlushTruth.checkMemory(flush, loggedAfter: log.connectedBlocks.last, labels[2], check) }
        }
    }
}

/// `utxocache:utxocache_flush` in modes IF_NEEDED and PERIODIC: a node with
/// the smallest cache settings (`-dbcache=4`, `-maxmempool=5`) flushes when
/// its coins cache outgrows them.
///
/// `FlushStateToDisk` allows the cache `nCoinCacheUsage` bytes plus the
/// mempool's unused room: T = nCoinCacheUsage + max(0, maxmempool − mempool
/// usage). With `-dbcache=4`, init gives 4 MiB − ½ MiB (block index) −
/// 1¾ MiB (coins database) = 1¾ MiB to the coins cache. A block connection
/// (IF_NEEDED) flushes when the cache's memory exceeds T; the end of
/// `ActivateBestChain` and of every mempool acceptance (PERIODIC) flush when
/// it exceeds 0.9 T. (PERIODIC's other trigger, 24 hours since the last
/// flush, reads the system clock, which `setmocktime` does not move.)
///
/// IF_NEEDED: five ~90 kB transactions (45,000 coins, about 6 MB of cache)
/// mined in one block exceed T (≈ 5 MB while they are still in the mempool).
/// PERIODIC: after that flush, a block with three such transactions (≈ 4 MB
/// of cache) stays under both limits; then more of them in the mempool lower
/// T until one acceptance finds the cache over 0.9 T.
///
/// Memory is bounded on both sides by the trigger: a flush fires at the
/// first check after the cache passed its limit L (T, or 0.9 T), so its
/// memory exceeds L, and it stays within 2 L here (each step grows the cache
/// by less than L), so a value off by a factor of two or counted in another
/// unit fails. Durations are bounded by the coin database write the node
/// logs and the wall time of the call that caused the flush (``FlushTruth``).
struct UTXOCacheFlushPressureScenario: Scenario {
    let name = "utxocache-flush-pressure"
    let tracepoints = [UTXOCacheFlush.tracepoint.probe]

    var coverage: [PathCoverage] {
        [
            .exercised(UTXOCacheFlush.tracepoint.probe, "mode IF_NEEDED: a block connection with the cache past its allowance"),
            .exercised(UTXOCacheFlush.tracepoint.probe, "mode PERIODIC: a mempool acceptance with the cache past 0.9 of its allowance"),
        ]
    }

    /// The coins cache's share of `-dbcache=4` (see above), in bytes.
    static let coinCacheBytes: UInt64 = 1_835_008
    static let maxMempoolBytes: UInt64 = 5_000_000

    /// T for a mempool using `usage` bytes.
    static func allowance(mempoolUsage usage: Int) -> UInt64 {
        coinCacheBytes + (maxMempoolBytes > UInt64(usage) ? maxMempoolBytes - UInt64(usage) : 0)
    }

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        try await withScenarioNode(context, check, name: name, configure: { options in
            options.configOptions += [("dbcache", "4"), ("maxmempool", "5"), ("acceptnonstdtxn", "1")]
            options.arguments += NodeLog.arguments
        }) { node in
            let rpc = node.rpc
            let recording = try await context.recordFromNow(node)
            defer { recording.stop() }
            let miner = try await rpc.getNewAddress()
            try await rpc.generateToAddress(21, address: miner)
            let filler = try await CacheFiller.make(rpc: rpc, changeAddress: miner)

            // IF_NEEDED. The node never flushed and read nothing from disk, so
            // its cache holds the UTXO set plus a spent entry for each coinbase
            // output spent (coinbases are never FRESH; see utxocache-flush-always).
            let bigBlock = 5
            for _ in 0..<bigBlock { try await filler.send() }
            let usageBeforeBigBlock = try await rpc.getMempoolInfo().usage
            let (_, bigBlockWall) = try await timed { try await rpc.generateToAddress(1, address: miner) }
            let ifNeeded = try await recording.wait(for: 1, UTXOCacheFlush.self)
            let (setInfo, setInfoWall) = try await timed { try await rpc.getTxOutSetInfo() }
            let afterSetInfo = try await recording.wait(for: 2, UTXOCacheFlush.self)
            check.equal(ifNeeded.map(\.mode), [.ifNeeded], "connecting the big block flushes with mode IF_NEEDED")
            check.equal(ifNeeded.map(\.coins), [UInt64(setInfo.txouts + bigBlock)],
                        "IF_NEEDED coins equal gettxoutsetinfo's txouts (\(setInfo.txouts)) plus the \(bigBlock) spent coinbase entries")
            let ifNeededLimit = Self.allowance(mempoolUsage: usageBeforeBigBlock)
            check.equal(ifNeeded.filter { $0.memoryBytes > ifNeededLimit && $0.memoryBytes <= 2 * ifNeededLimit }.count, 1,
                        "IF_NEEDED memory \(ifNeeded.map(\.memoryBytes)) exceeds the allowance T = \(ifNeededLimit) (mempool usage \(usageBeforeBigBlock) at connection) and is within 2 T")
            check.equal(ifNeeded.map(\.forPrune), [false], "IF_NEEDED flush is not for pruning")
            let always = afterSetInfo.dropFirst()
            check.equal(always.map(\.mode), [.always], "gettxoutsetinfo then flushes with mode ALWAYS")
            check.equal(always.map(\.coins), [0], "the IF_NEEDED flush emptied the cache (nothing read or created since)")

            // PERIODIC. The cache is empty; three filler transactions are signed
            // (each signing reads its coinbase from disk into the cache) and mined.
            let mediumBlock = 3
            for _ in 0..<mediumBlock { try await filler.send() }
            let mediumHash = try requireScenario(try await rpc.generateToAddress(1, address: miner).first, "the medium block")
            let medium = try await CoinTruth.counts(connecting: mediumHash, rpc: rpc)
            check.equal(try await recording.events(UTXOCacheFlush.self).count, 2, "the medium block (\(medium.adds) coins) flushes nothing")
            // Each further filler transaction raises mempool usage and reads one
            // more coinbase into the cache, until an acceptance flushes.
            var sent = 0
            var usage = 0
            var periodic: [UTXOCacheFlush] = []
            var lastSendWall = Duration.zero
            while periodic.isEmpty && sent < 12 {
                (_, lastSendWall) = try await timed { try await filler.send() }
                sent += 1
                usage = try await rpc.getMempoolInfo().usage
                periodic = Array(try await recording.events(UTXOCacheFlush.self).dropFirst(2))
            }
            check.equal(periodic.map(\.mode), [.periodic], "a mempool acceptance flushes with mode PERIODIC (after \(sent) transactions, mempool usage \(usage))")
            // The cache then: the medium block's new coins and its spent inputs,
            // and the coinbase each later transaction read.
            check.equal(periodic.map(\.coins), [UInt64(medium.adds + medium.spents + sent)],
                        "PERIODIC coins equal the medium block's \(medium.adds) adds and \(medium.spents) spent inputs plus the \(sent) coins read since")
            let periodicLimit = Self.allowance(mempoolUsage: usage) * 9 / 10
            check.equal(periodic.filter { $0.memoryBytes > periodicLimit && $0.memoryBytes <= 2 * periodicLimit }.count, 1,
                        "PERIODIC memory \(periodic.map(\.memoryBytes)) exceeds L = 0.9 × the allowance, \(periodicLimit), and is within 2 L")
            check.equal(periodic.map(\.forPrune), [false], "PERIODIC flush is not for pruning")
            let flushes = try await recording.events(UTXOCacheFlush.self)
            check.equal(flushes.count, 3, "exactly 3 flushes: IF_NEEDED, ALWAYS, PERIODIC")

            let log = try NodeLog.read(node)
            let writes = FlushTruth.writes(for: flushes, in: log, check)
            let walls = [bigBlockWall, setInfoWall, lastSendWall]
            for (index, label) in ["IF_NEEDED flush", "ALWAYS flush", "PERIODIC flush"].enumerated() where index < flushes.count {
                FlushTruth.checkDuration(flushes[index], write: writes[index], wallMicroseconds: walls[index].microseconds, label, check)
            }
            if flushes.count > 1 {
                check.equal(flushes[1].memoryBytes, FlushTruth.emptyCacheBytes,
                            "the ALWAYS flush finds the cache the IF_NEEDED flush rebuilt empty (\(FlushTruth.emptyCacheBytes) bytes)")
            }
        }
    }
}

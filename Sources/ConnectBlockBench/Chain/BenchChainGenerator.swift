import Foundation
import NodeControl
import TapyrusEncoding

/// Makes a benchmark chain with a dev node, deterministically.
///
/// Every choice comes from the specification's seed: each block's size
/// (log-uniform from one transaction to the maximum), each transaction's shape
/// (55% payments of 1–3 inputs to 2 outputs, 30% fan-outs of one coin to 10–50
/// outputs, 15% consolidations of 8–30 coins to one; only fan-outs while fewer
/// than 64 coins are spendable), the coins spent and the keys
/// paid. Transactions are built here, signed by the node with the fixed
/// ``BenchKeys`` (deterministic signatures) and mined with the node's clock set
/// to each block's fixed time, so the same specification makes the same bytes.
/// Every coin spent is a P2PKH coin, so connecting a block checks one
/// signature per input.
public struct BenchChainGenerator: Sendable {
    /// The chain to make.
    public var spec: BenchChainSpec
    /// The tapyrusd and tapyrus-genesis that make it.
    public var binaries: TapyrusBinaries
    /// Where the node's temporary datadir goes (`nil`: the system temporary folder).
    public var scratchDirectory: String?

    /// Most bytes of transactions put in one block (blocks may hold 999,000).
    static let blockBudgetBytes = 900_000
    /// Fee rate in tapyrus units per byte (the default relay minimum is 1).
    static let feePerByte: Int64 = 2
    /// The smallest output made.
    static let minimumOutput: Int64 = 100_000
    /// How many transactions are signed and sent at once.
    static let concurrentSubmissions = 4

    public init(spec: BenchChainSpec, binaries: TapyrusBinaries, scratchDirectory: String? = nil) {
        self.spec = spec
        self.binaries = binaries
        self.scratchDirectory = scratchDirectory
    }

    /// A coin the generator can spend.
    struct Coin: Sendable, Hashable {
        var txid: String
        var vout: UInt32
        var value: Int64
        var key: Int
    }

    /// A planned transaction and the keys that sign it.
    struct PlannedTransaction: Sendable {
        var transaction: Transaction
        var keys: [Int]
        var outputKeys: [Int]
    }

    /// Makes the chain into `cache`, replacing an earlier copy, and returns its manifest.
    ///
    /// The chain is built in a hidden folder beside its final one and moved
    /// into place only when complete, so an interrupted generation leaves no chain behind.
    /// - Parameter progress: called with one line per block.
    public func generate(into cache: BenchChainCache, progress: @Sendable (String) -> Void = { _ in }) async throws -> CachedBenchChain {
        try spec.validate()
        let folder = cache.folder(for: spec)
        let partial = "\(cache.root)/.\(spec.name)-\(spec.cacheKey).partial-\(getpid())"
        let fileManager = FileManager.default
        do {
            try fileManager.createDirectory(atPath: cache.root, withIntermediateDirectories: true)
            try? fileManager.removeItem(atPath: partial)
            try fileManager.createDirectory(atPath: partial, withIntermediateDirectories: false)
        } catch {
            throw BenchChainError.generationFailed("cannot make a folder in \(cache.root): \(error.localizedDescription)")
        }
        do {
            let (manifest, genesis) = try await generate(inFolder: partial, progress: progress)
            if fileManager.fileExists(atPath: folder) {
                let old = "\(cache.root)/.\(spec.name)-\(spec.cacheKey).old-\(getpid())"
                try fileManager.moveItem(atPath: folder, toPath: old)
                try? fileManager.removeItem(atPath: old)
            }
            try fileManager.moveItem(atPath: partial, toPath: folder)
            return CachedBenchChain(folder: folder, manifest: manifest, genesisBlock: genesis)
        } catch {
            try? fileManager.removeItem(atPath: partial)
            throw error
        }
    }

    /// Makes the chain's three files in `folder`; returns the manifest written and the genesis block (hex).
    func generate(inFolder folder: String, progress: @Sendable (String) -> Void) async throws -> (BenchChainManifest, String) {
        let clock = ContinuousClock()
        let started = clock.now
        let genesis = try await GenesisFactory.make(key: .test, tool: binaries.tapyrusGenesis, time: spec.genesisTime)
        var options = NodeOptions(name: "chain-\(spec.name)")
        options.genesisBlock = genesis
        options.parentDirectory = scratchDirectory
        options.arguments = ["-mocktime=\(spec.genesisTime)"]
        options.configOptions = [("maxmempool", "2000"), ("blockmaxsize", "999000")]
        options.rpcTimeout = .seconds(300)
        let version = try await binaries.verifyIdentity()
        return try await withNode(options: options, binaries: binaries) { node in
            let (stats, tip) = try await mine(node: node, progress: progress)
            try (genesis + "\n").write(toFile: "\(folder)/\(BenchChainCache.genesisFileName)", atomically: false, encoding: .utf8)
            let exported = try await export(node: node, to: "\(folder)/\(BenchChainCache.blocksFileName)")
            guard exported.tip == tip else {
                throw BenchChainError.generationFailed("the node's tip \(exported.tip) is not the last block mined, \(tip)")
            }
            let digest = try await BuildIdentity.sha256(of: "\(folder)/\(BenchChainCache.blocksFileName)")
            let manifest = BenchChainManifest(
                spec: spec, generatorVersion: BenchChainSpec.generatorVersion, cacheKey: spec.cacheKey, tipHash: tip,
                blocks: spec.blocks, transactions: stats.transactions, inputs: stats.inputs, outputs: stats.outputs,
                blockBytes: exported.blockBytes, largestBlockBytes: exported.largestBlock,
                blockList: stats.blocks, blocksSHA256: digest,
                blocksFileBytes: exported.fileBytes, generatedBy: version,
                generationSeconds: (clock.now - started).seconds, created: Date()
            )
            try BenchChainCache.encoder.encode(manifest).write(to: URL(fileURLWithPath: "\(folder)/\(BenchChainCache.manifestFileName)"))
            return (manifest, genesis)
        }
    }

    struct Totals {
        var transactions = 0
        var inputs = 0
        var outputs = 0
        var blocks: [BlockSummary] = []
    }

    /// Mines every block; returns the totals and the tip's hash.
    private func mine(node: TapyrusNode, progress: @Sendable (String) -> Void) async throws -> (Totals, String) {
        let rpc = node.rpc
        let keys = BenchKeys(seed: spec.seed, count: spec.keyCount)
        var addresses: [String] = []
        var scripts: [[UInt8]] = []
        for index in 0..<spec.keyCount {
            let label = "bench-\(index)"
            try await rpc.call("importprivkey", [.string(keys.wif(index)), .string(label), false])
            let found = try await rpc.call("getaddressesbylabel", [.string(label)])
            var p2pkh: (address: String, script: [UInt8])?
            for candidate in (found.objectValue ?? [:]).keys.sorted() {
                let info = try await rpc.call("getaddressinfo", [.string(candidate)])
                if let script = info["scriptPubKey"]?.stringValue.flatMap(Hex.decode), script.count == 25,
                   script.starts(with: [0x76, 0xA9, 0x14]) {
                    p2pkh = (candidate, script)
                }
            }
            guard let (address, script) = p2pkh else {
                throw BenchChainError.generationFailed("the node lists no P2PKH address for key \(index): \(found)")
            }
            addresses.append(address)
            scripts.append(script)
        }
        // The wallet was only needed to turn keys into addresses; without it the
        // node does not add every transaction to the wallet (about a third of
        // the generation's time). Signing and mining need no wallet.
        try await node.restart(arguments: node.arguments + ["-disablewallet"])

        var random = Xoshiro256StarStar(seed: spec.seed)
        var pool: [Coin] = []
        var totals = Totals()
        var tip = ""
        for height in 1...spec.blocks {
            try await rpc.setMockTime(spec.genesisTime + Int64(height) * spec.blockInterval)
            let planned = plan(block: height, pool: &pool, random: &random, scripts: scripts)
            let sent = try await submit(planned, rpc: rpc, keys: keys)
            let minerKey = height % spec.keyCount
            let hashes = try await rpc.generateToAddress(1, address: addresses[minerKey], timeout: .seconds(300))
            guard let hash = hashes.first else { throw BenchChainError.generationFailed("generatetoaddress made no block at height \(height)") }
            let block = try await rpc.getBlock(hash: hash)
            guard block.height == height, block.tx.count == sent.count + 1, Set(block.tx.dropFirst()) == Set(sent) else {
                throw BenchChainError.generationFailed("block \(height) holds \(block.tx.count - 1) transactions, \(sent.count) were sent (a transaction was left in the mempool or refused)")
            }
            let coinbase = try await rpc.call("gettxout", [.string(block.tx[0]), 0])
            guard let value = coinbase["value"]?.doubleValue else {
                throw BenchChainError.generationFailed("the coinbase of block \(height) has no output 0")
            }
            pool.append(Coin(txid: block.tx[0], vout: 0, value: Amount(rpcValue: value).units, key: minerKey))
            for (txid, transaction) in zip(sent, planned) {
                for (index, output) in transaction.transaction.outputs.enumerated() {
                    pool.append(Coin(txid: txid, vout: UInt32(index), value: output.value, key: transaction.outputKeys[index]))
                }
            }
            let inputs = planned.reduce(0) { $0 + $1.transaction.inputs.count }
            let outputs = planned.reduce(0) { $0 + $1.transaction.outputs.count }
            totals.transactions += planned.count + 1
            totals.inputs += inputs
            totals.outputs += outputs + 1
            totals.blocks.append(BlockSummary(height: height, hash: hash, transactions: planned.count + 1, inputs: inputs,
                                              outputs: outputs + 1, bytes: block.size))
            tip = hash
            progress("block \(height)/\(spec.blocks): \(planned.count) transactions, \(inputs) inputs, \(outputs) outputs, \(block.size) bytes")
        }
        return (totals, tip)
    }

    /// Chooses the transactions of one block, taking their coins out of `pool`.
    func plan(block height: Int, pool: inout [Coin], random: inout Xoshiro256StarStar, scripts: [[UInt8]]) -> [PlannedTransaction] {
        let target = max(1, min(spec.maxTransactionsPerBlock,
                                Int(exp(random.unit() * log(Double(spec.maxTransactionsPerBlock))).rounded(.down))))
        var planned: [PlannedTransaction] = []
        var bytes = 0
        func take() -> Coin {
            let index = random.index(below: pool.count)
            pool.swapAt(index, pool.count - 1)
            return pool.removeLast()
        }
        while planned.count < target, !pool.isEmpty {
            let (inputRange, outputRange): (ClosedRange<Int>, ClosedRange<Int>)
            let shape = pool.count < 64 ? 1.0 : random.unit()
            switch shape {
            case ..<0.55: (inputRange, outputRange) = (1...3, 2...2)
            case ..<0.70: (inputRange, outputRange) = (8...30, 1...1)
            default: (inputRange, outputRange) = (1...1, 10...50)
            }
            let inputCount = min(pool.count, inputRange.lowerBound + random.index(below: inputRange.count))
            var outputCount = outputRange.lowerBound + random.index(below: outputRange.count)
            var coins = (0..<inputCount).map { _ in take() }
            func total() -> Int64 { coins.reduce(Int64(0)) { $0 + $1.value } }
            func size(_ outputs: Int) -> Int { Transaction.estimatedSignedSize(inputs: coins.count, outputs: outputs) }
            func available(_ outputs: Int) -> Int64 { total() - Int64(size(outputs)) * Self.feePerByte }
            // Too little value for one output: spend more coins (small coins get consolidated).
            while available(1) < Self.minimumOutput, coins.count < 60, !pool.isEmpty {
                coins.append(take())
            }
            while outputCount > 1, available(outputCount) / Int64(outputCount) < Self.minimumOutput { outputCount -= 1 }
            guard available(outputCount) >= Self.minimumOutput, bytes + size(outputCount) <= Self.blockBudgetBytes else {
                pool.append(contentsOf: coins)
                break
            }
            let value = available(outputCount)
            let each = value / Int64(outputCount)
            let outputKeys = (0..<outputCount).map { _ in random.index(below: spec.keyCount) }
            let transaction = Transaction(
                inputs: coins.map { Transaction.Input(spending: OutPoint(txid: $0.txid, vout: Int($0.vout))) },
                outputs: outputKeys.enumerated().map { index, key in
                    Transaction.Output(value: index == 0 ? value - each * Int64(outputCount - 1) : each, script: scripts[key])
                })
            bytes += size(outputCount)
            planned.append(PlannedTransaction(transaction: transaction, keys: coins.map(\.key), outputKeys: outputKeys))
        }
        return planned
    }

    /// Signs and sends the planned transactions, a few at a time; returns their ids in order.
    private func submit(_ planned: [PlannedTransaction], rpc: RPCClient, keys: BenchKeys) async throws -> [String] {
        var ids = Array(repeating: "", count: planned.count)
        var next = 0
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            func add(_ index: Int) {
                let item = planned[index]
                group.addTask {
                    let wifs = Array(Set(item.keys)).sorted().map { JSONValue.string(keys.wif($0)) }
                    let signed = try await rpc.call("signrawtransactionwithkey",
                                                    [.string(item.transaction.hex), .array(wifs)])
                    guard signed["complete"]?.boolValue == true, let hex = signed["hex"]?.stringValue else {
                        throw BenchChainError.generationFailed("the node could not sign a transaction: \(signed["errors"] ?? signed)")
                    }
                    return (index, try await rpc.sendRawTransaction(hex))
                }
            }
            while next < min(planned.count, Self.concurrentSubmissions) {
                add(next)
                next += 1
            }
            for try await (index, txid) in group {
                ids[index] = txid
                if next < planned.count {
                    add(next)
                    next += 1
                }
            }
        }
        return ids
    }

    /// Writes every block from genesis to the tip into `path` in `blk*.dat`
    /// form; returns the tip, the blocks' total and largest size and the file's size.
    private func export(node: TapyrusNode, to path: String) async throws -> (tip: String, blockBytes: Int, largestBlock: Int, fileBytes: Int) {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw BenchChainError.generationFailed("cannot write \(path)")
        }
        defer { try? handle.close() }
        var tip = ""
        var total = 0
        var largest = 0
        var fileBytes = 0
        for height in 0...spec.blocks {
            let hash = try await node.rpc.getBlockHash(height: height)
            guard let block = Hex.decode(try await node.rpc.getBlockHex(hash: hash)) else {
                throw BenchChainError.generationFailed("block \(height) is not hex")
            }
            var writer = ByteWriter()
            writer.write(bytes: node.magic.bytes)
            writer.write(littleEndian: UInt32(block.count))
            writer.write(bytes: block)
            try handle.write(contentsOf: Data(writer.bytes))
            tip = hash
            total += block.count
            largest = max(largest, block.count)
            fileBytes += writer.bytes.count
        }
        return (tip, total, largest, fileBytes)
    }
}

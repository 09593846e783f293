@testable import ConnectBlockBench
import Foundation
import NodeControl
import TapyrusEncoding
import Testing
@testable import TraceHarness

// MARK: - Helpers

/// A P2PKH locking script whose 20-byte hash is `index` repeated.
private func p2pkhScript(_ index: Int) -> [UInt8] {
    [0x76, 0xA9, 0x14] + Array(repeating: UInt8(truncatingIfNeeded: index), count: 20) + [0x88, 0xAC]
}

/// A 64-hex-digit transaction id made of up to four numbers, 16 digits each.
private func txid(_ parts: Int...) -> String {
    (Array(parts.prefix(4)) + Array(repeating: 0, count: max(0, 4 - parts.count)))
        .map { String(UInt64(truncatingIfNeeded: $0), radix: 16).leftPadded(to: 16) }
        .joined()
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// Decodes Base58 (the Bitcoin alphabet); nil on a character outside it.
private func base58Decode(_ text: String) -> [UInt8]? {
    let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
    var bytes: [UInt8] = [] // base 256, least significant first
    for character in text {
        guard let digit = alphabet.firstIndex(of: character) else { return nil }
        var carry = digit
        for index in bytes.indices {
            carry += Int(bytes[index]) * 58
            bytes[index] = UInt8(carry & 0xFF)
            carry >>= 8
        }
        while carry > 0 {
            bytes.append(UInt8(carry & 0xFF))
            carry >>= 8
        }
    }
    let leadingOnes = text.prefix { $0 == "1" }.count
    return Array(repeating: 0, count: leadingOnes) + bytes.reversed()
}

/// The error `body` threw, or nil when it returned.
private func caught(_ body: () throws(BenchChainError) -> Void) -> BenchChainError? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}

// MARK: - 1. BenchChainSpec

@Suite("Bench chains: BenchChainSpec identity, presets and validation")
struct BenchChainSpecTests {
    private static let base = BenchChainSpec(name: "probe", blocks: 120, maxTransactionsPerBlock: 300, seed: 7,
                                             keyCount: 32, genesisTime: 1_767_225_600, blockInterval: 600)

    @Test("cacheKey is stable: equal specifications give the same 16-hex-digit key")
    func cacheKeyStable() {
        let a = Self.base
        let b = BenchChainSpec(name: "probe", blocks: 120, maxTransactionsPerBlock: 300, seed: 7,
                               keyCount: 32, genesisTime: 1_767_225_600, blockInterval: 600)
        #expect(a.cacheKey == b.cacheKey)
        #expect(a.cacheKey == a.cacheKey)
        #expect(a.cacheKey.count == 16)
        #expect(a.cacheKey.allSatisfy { "0123456789abcdef".contains($0) })
    }

    @Test("cacheKey changes when any single generating parameter changes",
          arguments: ["blocks", "maxTransactionsPerBlock", "seed", "keyCount", "genesisTime", "blockInterval"])
    func cacheKeyDependsOnEveryParameter(parameter: String) {
        var changed = Self.base
        switch parameter {
        case "blocks": changed.blocks += 1
        case "maxTransactionsPerBlock": changed.maxTransactionsPerBlock += 1
        case "seed": changed.seed += 1
        case "keyCount": changed.keyCount += 1
        case "genesisTime": changed.genesisTime += 1
        case "blockInterval": changed.blockInterval += 1
        default: Issue.record("unknown parameter \(parameter)")
        }
        #expect(changed != Self.base)
        #expect(changed.cacheKey != Self.base.cacheKey, "changing \(parameter) must change the chain's identity")
    }

    @Test("cacheKey does not depend on the chain's name")
    func cacheKeyIgnoresName() {
        var renamed = Self.base
        renamed.name = "something-else_2"
        #expect(renamed.cacheKey == Self.base.cacheKey)
        #expect(BenchChainCache(root: "/c").folder(for: renamed) == "/c/something-else_2-\(Self.base.cacheKey)")
    }

    @Test("cacheKey of the tiny and standard presets is pinned")
    func presetCacheKeysPinned() throws {
        // A guard, not a tautology: these keys name the chains already sitting
        // in people's caches. If this test fails, the generator's inputs (its
        // parameters, their defaults or the way the key is derived) changed;
        // when that change makes different blocks from the same parameters,
        // bump BenchChainSpec.generatorVersion (and update these literals),
        // so stale cached chains are not mistaken for new ones.
        #expect(BenchChainSpec.generatorVersion == "1")
        #expect(try BenchChainSpec.preset(named: "tiny").cacheKey == "19cbca1dd20fe2a1")
        #expect(try BenchChainSpec.preset(named: "standard").cacheKey == "9226eec9d9ef9314")
    }

    @Test("cacheKey is SHA-256 of the generator version and the sorted parameters")
    func cacheKeyDerivation() throws {
        let spec = try BenchChainSpec.preset(named: "tiny")
        let canonical = """
            generator=\(BenchChainSpec.generatorVersion)
            block_interval=600
            blocks=16
            genesis_time=1767225600
            keys=64
            max_transactions_per_block=40
            seed=1
            """
        #expect(spec.cacheKey == String(Hex.encode(SHA256.hash(Array(canonical.utf8))).prefix(16)))
    }

    @Test("preset(named:) finds every preset, smallest first")
    func presetsFound() throws {
        #expect(BenchChainSpec.presets.map(\.name) == ["tiny", "small", "standard", "large"])
        #expect(BenchChainSpec.presets.map(\.blocks) == BenchChainSpec.presets.map(\.blocks).sorted())
        for preset in BenchChainSpec.presets {
            #expect(try BenchChainSpec.preset(named: preset.name) == preset)
            #expect(caught { () throws(BenchChainError) in try preset.validate() } == nil, "preset \(preset.name) must be valid")
        }
        #expect(Set(BenchChainSpec.presets.map(\.cacheKey)).count == BenchChainSpec.presets.count)
    }

    @Test("preset(named:) of an unknown name throws unknownChain listing the known names")
    func unknownPreset() {
        let error = caught { () throws(BenchChainError) in _ = try BenchChainSpec.preset(named: "huge") }
        #expect(error == .unknownChain(name: "huge", known: ["tiny", "small", "standard", "large"]))
        let text = error?.description ?? ""
        #expect(text.contains("'huge'"))
        #expect(text.contains("tiny, small, standard, large"))
        #expect(caught { () throws(BenchChainError) in _ = try BenchChainSpec.preset(named: "Tiny") } != nil, "names are case-sensitive")
    }

    @Test("validate() accepts the boundary values")
    func validateBoundaries() {
        let low = BenchChainSpec(name: "a", blocks: 2, maxTransactionsPerBlock: 1, seed: 0, keyCount: 1,
                                 genesisTime: 1, blockInterval: 1)
        let high = BenchChainSpec(name: "Z-9_x", blocks: 100_000, maxTransactionsPerBlock: 5_000, seed: .max,
                                  keyCount: 1_000)
        #expect(caught { () throws(BenchChainError) in try low.validate() } == nil)
        #expect(caught { () throws(BenchChainError) in try high.validate() } == nil)
    }

    @Test("validate() rejects bad names and out-of-range values",
          arguments: [
              ("", "name"), ("two words", "name"), ("a/b", "name"), ("../up", "name"), ("dot.ted", "name"),
              ("blocks=1", "blocks"), ("blocks=100001", "blocks"),
              ("tx=0", "transactions per block"), ("tx=5001", "transactions per block"),
              ("keys=0", "keys"), ("keys=1001", "keys"),
              ("genesis=0", "times"), ("genesis=-5", "times"), ("interval=0", "times"), ("interval=-600", "times"),
          ])
    func validateRejects(change: String, problem: String) {
        var spec = Self.base
        let parts = change.split(separator: "=", maxSplits: 1).map(String.init)
        switch (parts.first ?? "", parts.count == 2 ? Int64(parts[1]) : nil) {
        case let ("blocks", value?): spec.blocks = Int(value)
        case let ("tx", value?): spec.maxTransactionsPerBlock = Int(value)
        case let ("keys", value?): spec.keyCount = Int(value)
        case let ("genesis", value?): spec.genesisTime = value
        case let ("interval", value?): spec.blockInterval = value
        default: spec.name = change
        }
        let error = caught { () throws(BenchChainError) in try spec.validate() }
        guard case let .invalidSpec(message) = error else {
            Issue.record("\(change): expected invalidSpec, got \(String(describing: error))")
            return
        }
        #expect(message.contains(problem), "\(change): \(message)")
        #expect(message.hasPrefix("chain '\(spec.name)'"))
    }
}

// MARK: - 2. Transaction

@Suite("Bench chains: Transaction serialisation and size estimate")
struct BenchChainRawTransactionTests {
    @Test("serialized() of 2 inputs and 2 outputs is the exact unsigned transaction")
    func exactBytes() throws {
        let txid1 = "00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f"
        let txid2 = "f0e0d0c0b0a0908070605040302010ff0123456789abcdef0123456789abcdef"
        let script1 = p2pkhScript(0x11)
        let script2: [UInt8] = [0x6A, 0x03, 0xAA, 0xBB, 0xCC] // OP_RETURN <3 bytes>: a script of another length
        let transaction = Transaction(
            inputs: [.init(spending: OutPoint(txid: txid1, vout: 1)), .init(spending: OutPoint(txid: txid2, vout: 0x0102_0304))],
            outputs: [.init(value: 5_000_000_000, script: script1), .init(value: 0x0102_0304_0506_0708, script: script2)])

        let expectedHex = "01000000"                                      // features (version) 1, little-endian
            + "02"                                                        // two inputs
            + "0f0e0d0c0b0a09080706050403020100ffeeddccbbaa99887766554433221100" // txid 1, byte-reversed
            + "01000000"                                                  // vout 1
            + "00"                                                        // empty scriptSig
            + "ffffffff"                                                  // sequence
            + "efcdab8967452301efcdab8967452301ff102030405060708090a0b0c0d0e0f0" // txid 2, byte-reversed
            + "04030201"                                                  // vout 0x01020304
            + "00" + "ffffffff"
            + "02"                                                        // two outputs
            + "00f2052a01000000"                                          // 5,000,000,000
            + "19" + "76a914" + String(repeating: "11", count: 20) + "88ac"
            + "0807060504030201"                                          // 0x0102030405060708
            + "05" + "6a03aabbcc"
            + "00000000"                                                  // lock time 0
        let bytes = transaction.serialized()
        #expect(Hex.encode(bytes) == expectedHex)
        #expect(bytes.count == 4 + 1 + 2 * 41 + 1 + (8 + 1 + 25) + (8 + 1 + 5) + 4)
        // The txid is reversed, not copied.
        #expect(Array(bytes[5..<37]) == Array(Hex.decode(txid1)!.reversed()))
    }

    @Test("serialized() uses compact sizes beyond 252 inputs")
    func compactSizeCounts() {
        let inputs = (0..<253).map { Transaction.Input(spending: OutPoint(txid: txid($0), vout: 0)) }
        let bytes = Transaction(inputs: inputs, outputs: []).serialized()
        #expect(Array(bytes[4..<7]) == [0xFD, 0xFD, 0x00])
        #expect(bytes.count == 4 + 3 + 253 * 41 + 1 + 4)
    }

    @Test("estimatedSignedSize is an upper bound of the signed P2PKH size for every shape the planner makes")
    func estimateBoundsSignedSize() {
        // A P2PKH scriptSig is at most 107 bytes (push of a 72-byte low-S DER
        // signature with its hash type, push of a 33-byte compressed key), and
        // its length prefix is already in the unsigned serialisation.
        for inputs in [1, 2, 3, 8, 30, 60] {
            for outputs in [1, 2, 10, 50] {
                let transaction = Transaction(
                    inputs: (0..<inputs).map { .init(spending: OutPoint(txid: txid($0 + 1), vout: $0)) },
                    outputs: (0..<outputs).map { .init(value: 100_000, script: p2pkhScript($0)) })
                let signedUpperBound = transaction.serialized().count + 107 * inputs
                #expect(transaction.estimatedSignedSize >= signedUpperBound, "\(inputs) in, \(outputs) out")
                // …and not wildly above it (the fee stays close to the rate).
                #expect(transaction.estimatedSignedSize <= signedUpperBound + 8, "\(inputs) in, \(outputs) out")
            }
        }
    }
}

// MARK: - 3. BenchKeys

@Suite("Bench chains: BenchKeys derivation and WIF encoding")
struct BenchChainKeysTests {
    @Test("the same seed and count give the same keys; another seed gives other keys")
    func deterministic() {
        let a = BenchKeys(seed: 1, count: 8)
        let b = BenchKeys(seed: 1, count: 8)
        let c = BenchKeys(seed: 2, count: 8)
        #expect(a == b)
        #expect(a.privateKeys.count == 8)
        #expect(a.privateKeys.allSatisfy { $0.count == 32 })
        #expect(Set(a.privateKeys).count == 8, "keys of one seed are distinct")
        #expect(Set(a.privateKeys).isDisjoint(with: Set(c.privateKeys)))
        #expect((0..<8).map(a.wif) == (0..<8).map(b.wif))
        #expect((0..<8).map(a.wif) != (0..<8).map(c.wif))
        // A longer list extends a shorter one.
        #expect(Array(BenchKeys(seed: 1, count: 20).privateKeys.prefix(8)) == a.privateKeys)
    }

    @Test("key i of seed s is SHA-256 of 'tapyrus-trace bench key s i'")
    func documentedDerivation() {
        let keys = BenchKeys(seed: 42, count: 3)
        #expect(keys.privateKeys[2] == SHA256.hash(Array("tapyrus-trace bench key 42 2".utf8)))
    }

    @Test("wif(i) decodes to 0xEF, the key, 0x01 and a valid double-SHA-256 checksum")
    func wifDecodes() throws {
        let keys = BenchKeys(seed: 1, count: 64)
        for index in [0, 1, 31, 63] {
            let wif = keys.wif(index)
            #expect(wif.count == 52, "a compressed-key testnet-style WIF is 52 characters")
            #expect(wif.hasPrefix("c"))
            let decoded = try #require(base58Decode(wif))
            #expect(decoded.count == 1 + 32 + 1 + 4)
            #expect(decoded[0] == 0xEF)
            #expect(decoded[0] == BenchKeys.devSecretKeyVersion)
            #expect(Array(decoded[1..<33]) == keys.privateKeys[index])
            #expect(decoded[33] == 0x01)
            #expect(Array(decoded[34...]) == Array(SHA256.doubleHash(decoded[0..<34]).prefix(4)))
        }
    }

    @Test("the test's Base58 decoder round-trips a known vector")
    func base58DecoderSanity() {
        // "Hello World!" in Base58 (the Bitcoin alphabet), and leading zero bytes as '1's.
        #expect(base58Decode("2NEpo7TZRRrLZSi2U") == Array("Hello World!".utf8))
        #expect(base58Decode("11") == [0, 0])
        #expect(base58Decode("0OIl") == nil)
    }
}

// MARK: - 4. BenchLog

@Suite("Bench chains: ConnectBlock timings from debug.log (BenchLog.connectTotals)")
struct BenchChainLogTests {
    static let log = """
        2026-11-26T01:00:00Z Reindexing block file blk00000.dat...
        2026-11-26T01:00:00Z       - Connect 1 transactions: 0.03ms (0.030ms/tx, 0.000ms/txin) [0.00s (0.03ms/blk)]
        2026-11-26T01:00:00Z     - Verify 0 txins: 0.04ms (0.000ms/txin) [0.00s (0.04ms/blk)]
        2026-11-26T01:00:00Z   - Connect total: 1.23ms [0.01s (0.61ms/blk)]
        2026-11-26T01:00:00Z   - Flush: 0.02ms [0.00s (0.01ms/blk)]
        2026-11-26T01:00:00Z   - Writing chainstate: 0.01ms [0.00s (0.00ms/blk)]
        2026-11-26T01:00:00Z UpdateTip: new best=0a1b2c3d4e5f60718293a4b5c6d7e8f9000102030405060708090a0b0c0d0e0f height=5 version=0x00000001 tx=6 date='2026-01-01T00:50:00Z' progress=1.000000 cache=0.0MiB(5txo)
        2026-11-26T01:00:00Z   - Connect postprocess: 0.05ms [0.00s (0.02ms/blk)]
        2026-11-26T01:00:00Z - Connect block: 1.40ms [0.01s (0.70ms/blk)]
        garbage without a timestamp
        2026-11-26T01:00:01Z   - Connect total: not-a-number ms
        2026-11-26T01:00:01Z   - Connect total: 12.5ms [0.02s (4.58ms/blk)]
        2026-11-26T01:00:01Z some other line height=99 that is not an UpdateTip
        2026-11-26T01:00:01Z UpdateTip: new best=ffee height=6 version=0x00000001 tx=40
        2026-11-26T01:00:01Z UpdateTip: new best=ffef height=7 version=0x00000001 tx=41
        \u{0}\u{1}binary junk - Connect total
        2026-11-26T01:00:02Z   - Connect total: 0.07ms [0.02s (3.40ms/blk)]
        2026-11-26T01:00:02Z UpdateTip: new best=abcd height=8 version=0x00000001 tx=42
        2026-11-26T01:00:03Z   - Connect total: 9.99ms [0.03s (3.00ms/blk)]
        2026-11-26T01:00:03Z Shutdown: done
        """

    @Test("each Connect total maps to the height of the next UpdateTip, in microseconds")
    func heightsToMicroseconds() {
        let totals = BenchLog.connectTotals(in: Self.log)
        #expect(totals[5] == 1230)
        #expect(abs((totals[6] ?? 0) - 12_500) < 1e-6)
        #expect(abs((totals[8] ?? 0) - 70) < 1e-6)
    }

    @Test("an UpdateTip without its own Connect total, and a Connect total without a following UpdateTip, are not attributed")
    func unattributed() {
        let totals = BenchLog.connectTotals(in: Self.log)
        // Height 7's UpdateTip follows height 6's, which consumed the timing;
        // the last Connect total (9.99 ms) has no UpdateTip after it.
        #expect(totals[7] == nil)
        #expect(!totals.values.contains { abs($0 - 9_990) < 1 })
        #expect(Set(totals.keys) == [5, 6, 8])
        #expect(totals[99] == nil, "only UpdateTip lines give heights")
    }

    @Test("garbage, an empty log and a missing file give no timings")
    func garbage() {
        #expect(BenchLog.connectTotals(in: "").isEmpty)
        #expect(BenchLog.connectTotals(in: "UpdateTip: height=3\n- Connect total: x\nheight=4\n\n\n").isEmpty)
        #expect(BenchLog.connectTotals(in: "- Connect total: 2.00ms\nUpdateTip: new best=aa height=\n").isEmpty)
        #expect(BenchLog.connectTotals(inLogAt: "/nonexistent/\(UUID().uuidString)/debug.log").isEmpty)
    }

    @Test("connectTotals(inLogAt:) reads the same timings from a file")
    func fromFile() throws {
        let path = NSTemporaryDirectory() + "bench-log-\(UUID().uuidString).log"
        try Self.log.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(BenchLog.connectTotals(inLogAt: path) == BenchLog.connectTotals(in: Self.log))
        #expect(BenchLog.connectTotals(inLogAt: path)[5] == 1230)
    }
}

// MARK: - 5. BenchChainCache

/// A synthetic cached chain in a temporary cache, with knobs to damage it.
private struct CacheFixture {
    let cache: BenchChainCache
    let spec: BenchChainSpec
    let genesis: [UInt8]
    let blocksFile: [UInt8]

    var folder: String { cache.folder(for: spec) }
    var blocksPath: String { "\(folder)/blocks.dat" }
    var genesisPath: String { "\(folder)/genesis.dat" }
    var manifestPath: String { "\(folder)/manifest.json" }

    /// One block-file record: network magic, little-endian size, block.
    static func record(_ block: [UInt8]) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(bytes: NetworkMagic.dev.bytes)
        writer.write(littleEndian: UInt32(block.count))
        writer.write(bytes: block)
        return writer.bytes
    }

    /// Writes a good chain folder for the tiny preset.
    init() throws {
        cache = BenchChainCache(root: NSTemporaryDirectory() + "bench-chains-\(UUID().uuidString.prefix(8))")
        spec = try BenchChainSpec.preset(named: "tiny")
        genesis = (0..<180).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        var file = Self.record(genesis)
        for height in 1...3 {
            file += Self.record((0..<(100 + height * 50)).map { UInt8(truncatingIfNeeded: $0 ^ height) })
        }
        blocksFile = file
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try writeBlocks(file)
        try writeGenesis(Hex.encode(genesis) + "\n")
        try writeManifest(manifest())
    }

    func manifest(spec: BenchChainSpec? = nil, sha: String? = nil, size: Int? = nil) -> BenchChainManifest {
        let spec = spec ?? self.spec
        return BenchChainManifest(
            spec: spec, generatorVersion: BenchChainSpec.generatorVersion, cacheKey: spec.cacheKey,
            tipHash: String(repeating: "ab", count: 32), blocks: 3, transactions: 10, inputs: 6, outputs: 12,
            blockBytes: 180 + 150 + 200 + 250, largestBlockBytes: 250,
            blockList: (1...3).map { BlockSummary(height: $0, hash: txid($0), transactions: 3,
                                                  inputs: 2, outputs: 4, bytes: 100 + $0 * 50) },
            blocksSHA256: sha ?? Hex.encode(SHA256.hash(blocksFile)), blocksFileBytes: size ?? blocksFile.count,
            generatedBy: "Tapyrus Core version v0.6.1", generationSeconds: 1.5,
            created: Date(timeIntervalSince1970: 1_790_000_000))
    }

    func writeBlocks(_ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: blocksPath)) }
    func writeGenesis(_ text: String) throws { try text.write(toFile: genesisPath, atomically: true, encoding: .utf8) }
    func writeManifest(_ manifest: BenchChainManifest) throws {
        try BenchChainCache.encoder.encode(manifest).write(to: URL(fileURLWithPath: manifestPath))
    }

    func loadError() async -> BenchChainError? {
        do {
            _ = try await cache.load(spec)
            return nil
        } catch {
            return error
        }
    }

    /// The problem of the `.damaged` error `load` throws, failing the test otherwise.
    func damage(sourceLocation: SourceLocation = #_sourceLocation) async -> String {
        let error = await loadError()
        guard case let .damaged(folder, problem) = error else {
            Issue.record("expected .damaged, got \(String(describing: error))", sourceLocation: sourceLocation)
            return ""
        }
        #expect(folder == self.folder, sourceLocation: sourceLocation)
        return problem
    }

    func remove() { try? FileManager.default.removeItem(atPath: cache.root) }
}

@Suite("Bench chains: BenchChainCache loads only intact chains")
struct BenchChainCacheTests {
    @Test("a good folder loads with its manifest and genesis block")
    func goodFolderLoads() async throws {
        let fixture = try CacheFixture()
        defer { fixture.remove() }
        #expect(fixture.cache.contains(fixture.spec))
        let chain = try await fixture.cache.load(fixture.spec)
        #expect(chain.folder == fixture.folder)
        #expect(chain.manifest == fixture.manifest())
        #expect(chain.genesisBlock == Hex.encode(fixture.genesis))
        #expect(chain.blocksPath == fixture.blocksPath)
        #expect(chain.name == "tiny")
        #expect(BenchChainCache.firstRecord(ofFileAt: fixture.blocksPath) == fixture.genesis)
        let entries = fixture.cache.entries()
        #expect(entries.count == 1)
        #expect(entries.first?.folder == fixture.folder)
        #expect(entries.first?.manifest == fixture.manifest())
    }

    @Test("a chain never made throws missing")
    func missingFolder() async throws {
        let fixture = try CacheFixture()
        defer { fixture.remove() }
        let other = try BenchChainSpec.preset(named: "small")
        #expect(!fixture.cache.contains(other))
        do {
            _ = try await fixture.cache.load(other)
            Issue.record("loading a chain that is not there succeeded")
        } catch {
            #expect(error == .missing(name: "small", folder: fixture.cache.folder(for: other)))
            #expect(error.description.contains("bench chain generate small"))
        }
        let empty = BenchChainCache(root: "/nonexistent/\(UUID().uuidString)")
        #expect(empty.entries().isEmpty)
    }

    @Test("an unparsable manifest is damaged")
    func unparsableManifest() async throws {
        let fixture = try CacheFixture()
        defer { fixture.remove() }
        try "{ this is not json".write(toFile: fixture.manifestPath, atomically: true, encoding: .utf8)
        #expect(await fixture.damage().contains("manifest.json is not a manifest"))
        #expect(fixture.cache.entries().first?.manifest == nil)
    }

    @Test("a manifest lacking a field is damaged and names the field")
    func incompleteManifest() async throws {
        let fixture = try CacheFixture()
        defer { fixture.remove() }
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture.manifestPath))) as? [String: Any])
        object["blocksSHA256"] = nil
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: fixture.manifestPath))
        let problem = await fixture.damage()
        #expect(problem.contains("not a manifest"))
        #expect(problem.contains("blocksSHA256"))
    }

    @Test("a missing manifest in an existing folder is damaged")
    func missingManifest() async throws {
        let fixture = try CacheFixture()
        defer { fixture.remove() }
        try FileManager.default.removeItem(atPath: fixture.manifestPath)
        #expect(!fixture.cache.contains(fixture.spec))
        #expect(await fixture.damage().contains("cannot read manifest.json"))
    }

    @Test("a manifest for another specification is damaged")
    func manifestForAnotherSpec() async throws {
        let fixture = try CacheFixture()
        defer { fixture.remove() }
        var other = fixture.spec
        other.seed += 1
        try fixture.writeManifest(fixture.manifest(spec: other))
        let problem = await fixture.damage()
        #expect(problem.contains("describes another chain"))
        #expect(problem.contains(other.cacheKey))
        #expect(problem.contains(fixture.spec.cacheKey))

        // Same parameters under another name, and another generator version, are refused too.
        var renamed = fixture.spec
        renamed.name = "tiny2"
        try fixture.writeManifest(fixture.manifest(spec: renamed))
        #expect(await fixture.damage().contains("describes another chain"))
        var oldGenerator = fixture.manifest()
        oldGenerator.generatorVersion = "0"
        try fixture.writeManifest(oldGenerator)
        #expect(await fixture.damage().contains("describes another chain"))
    }

    @Test("a blocks.dat with one byte flipped fails the SHA-256 check")
    func flippedByte() async throws {
        let fixture = try CacheFixture()
        defer { fixture.remove() }
        var bytes = fixture.blocksFile
        bytes[bytes.count - 40] ^= 0x01
        try fixture.writeBlocks(bytes)
        let problem = await fixture.damage()
        #expect(problem.contains("blocks.dat has SHA-256"))
        #expect(problem.contains(String(Hex.encode(SHA256.hash(bytes)).prefix(16))))
        #expect(problem.contains(String(Hex.encode(SHA256.hash(fixture.blocksFile)).prefix(16))))
    }

    @Test("a truncated blocks.dat fails the size check")
    func truncated() async throws {
        let fixture = try CacheFixture()
        defer { fixture.remove() }
        try fixture.writeBlocks(Array(fixture.blocksFile.dropLast(7)))
        let problem = await fixture.damage()
        #expect(problem.contains("blocks.dat has \(fixture.blocksFile.count - 7) bytes, the manifest says \(fixture.blocksFile.count)"))
    }

    @Test("a missing blocks.dat is damaged")
    func missingBlocks() async throws {
        let fixture = try CacheFixture()
        defer { fixture.remove() }
        try FileManager.default.removeItem(atPath: fixture.blocksPath)
        #expect(await fixture.damage().contains("blocks.dat is missing"))
    }

    @Test("a missing or non-hex genesis.dat is damaged")
    func badGenesisFile() async throws {
        let fixture = try CacheFixture()
        defer { fixture.remove() }
        try FileManager.default.removeItem(atPath: fixture.genesisPath)
        #expect(await fixture.damage().contains("genesis.dat is missing"))
        try fixture.writeGenesis("not hex at all")
        #expect(await fixture.damage().contains("genesis.dat is not a hex block"))
        try fixture.writeGenesis("\n")
        #expect(await fixture.damage().contains("genesis.dat is not a hex block"))
    }

    @Test("a genesis.dat that is not the first block of blocks.dat is damaged")
    func genesisNotFirst() async throws {
        let fixture = try CacheFixture()
        defer { fixture.remove() }
        var other = fixture.genesis
        other[0] ^= 0xFF
        try fixture.writeGenesis(Hex.encode(other))
        #expect(await fixture.damage().contains("genesis.dat is not the first block of blocks.dat"))

        // The right genesis, but blocks.dat starts with another block (its manifest updated to match).
        try fixture.writeGenesis(Hex.encode(fixture.genesis))
        let reordered = Array(fixture.blocksFile.dropFirst(8 + fixture.genesis.count)) + CacheFixture.record(fixture.genesis)
        try fixture.writeBlocks(reordered)
        try fixture.writeManifest(fixture.manifest(sha: Hex.encode(SHA256.hash(reordered)), size: reordered.count))
        #expect(await fixture.damage().contains("genesis.dat is not the first block of blocks.dat"))
    }

    @Test("standard(environment:) prefers TAPYRUS_TRACE_CHAINS, then XDG_CACHE_HOME, then HOME")
    func standardRoot() {
        let all = ["TAPYRUS_TRACE_CHAINS": "/chains", "XDG_CACHE_HOME": "/xdg", "HOME": "/home/me"]
        #expect(BenchChainCache.environmentVariable == "TAPYRUS_TRACE_CHAINS")
        #expect(BenchChainCache.standard(environment: all).root == "/chains")
        #expect(BenchChainCache.standard(environment: all.merging(["TAPYRUS_TRACE_CHAINS": ""]) { $1 }).root
            == "/xdg/tapyrus-trace/chains")
        #expect(BenchChainCache.standard(environment: ["XDG_CACHE_HOME": "/xdg", "HOME": "/home/me"]).root
            == "/xdg/tapyrus-trace/chains")
        #expect(BenchChainCache.standard(environment: ["XDG_CACHE_HOME": "", "HOME": "/home/me"]).root
            == "/home/me/.cache/tapyrus-trace/chains")
        #expect(BenchChainCache.standard(environment: ["HOME": "/home/me"]).root == "/home/me/.cache/tapyrus-trace/chains")
        #expect(BenchChainCache.standard(environment: [:]).root.hasSuffix("/.cache/tapyrus-trace/chains"))
    }
}

// MARK: - 6. BenchChainGenerator.plan

@Suite("Bench chains: the generator's block planner")
struct BenchChainPlanTests {
    typealias Coin = BenchChainGenerator.Coin

    static let scripts = (0..<64).map(p2pkhScript)

    static func generator(maxTransactions: Int = 200, keyCount: Int = 64) -> BenchChainGenerator {
        BenchChainGenerator(
            spec: BenchChainSpec(name: "plan", blocks: 100, maxTransactionsPerBlock: maxTransactions, keyCount: keyCount),
            binaries: TapyrusBinaries(tapyrusd: "/nonexistent/tapyrusd", tapyrusGenesis: "/nonexistent/tapyrus-genesis"))
    }

    /// `count` coins with distinct outpoints and varied values (some smaller than
    /// an output, most a few coins' worth, a few whole coinbases).
    static func pool(_ count: Int, seed: UInt64 = 99, tag: Int = 0) -> [Coin] {
        var random = Xoshiro256StarStar(seed: seed)
        return (0..<count).map { index in
            let value: Int64 = switch random.index(below: 10) {
            case 0: 20_000 + Int64(random.index(below: 60_000))                 // below minimumOutput
            case 1: 5_000_000_000                                                 // a coinbase
            default: 100_000 + Int64(random.index(below: 50_000_000))
            }
            return Coin(txid: txid(tag, index), vout: UInt32(index % 3), value: value,
                        key: random.index(below: 64))
        }
    }

    struct Outpoint: Hashable {
        var txid: String
        var vout: UInt32
    }

    /// Checks every invariant of one planned block; returns its estimated bytes.
    @discardableResult
    static func check(_ planned: [BenchChainGenerator.PlannedTransaction], before: [Coin], after: [Coin],
                      generator: BenchChainGenerator, sourceLocation: SourceLocation = #_sourceLocation) -> Int {
        let coins = Dictionary(before.map { (Outpoint(txid: $0.txid, vout: $0.vout), $0) }) { first, _ in first }
        #expect(coins.count == before.count, "the pool held each coin once before", sourceLocation: sourceLocation)
        var spent: [Outpoint] = []
        var bytes = 0
        for item in planned {
            let transaction = item.transaction
            let inputs = transaction.inputs.map { Outpoint(txid: $0.previousOutput.txid, vout: UInt32($0.previousOutput.vout)) }
            let values = inputs.compactMap { coins[$0]?.value }
            #expect(values.count == inputs.count, "every input spends a coin of the pool", sourceLocation: sourceLocation)
            #expect(item.keys == inputs.compactMap { coins[$0]?.key }, "signing keys are the coins' keys", sourceLocation: sourceLocation)
            #expect(!transaction.outputs.isEmpty, sourceLocation: sourceLocation)
            #expect(transaction.outputs.allSatisfy { $0.value >= BenchChainGenerator.minimumOutput },
                    "outputs of at least minimumOutput: \(transaction.outputs.map(\.value))", sourceLocation: sourceLocation)
            #expect(item.outputKeys.count == transaction.outputs.count, sourceLocation: sourceLocation)
            #expect(zip(item.outputKeys, transaction.outputs).allSatisfy { Self.scripts[$0] == $1.script },
                    "each output pays its key's P2PKH script", sourceLocation: sourceLocation)
            let fee = values.reduce(0, +) - transaction.outputs.reduce(Int64(0)) { $0 + $1.value }
            #expect(fee > 0, sourceLocation: sourceLocation)
            #expect(fee >= Int64(transaction.estimatedSignedSize) * BenchChainGenerator.feePerByte,
                    "fee \(fee) for ~\(transaction.estimatedSignedSize) bytes", sourceLocation: sourceLocation)
            spent += inputs
            bytes += transaction.estimatedSignedSize
        }
        #expect(Set(spent).count == spent.count, "no coin is spent twice", sourceLocation: sourceLocation)
        let remaining = after.map { Outpoint(txid: $0.txid, vout: $0.vout) }
        #expect(Set(remaining).count == remaining.count, "the pool holds each coin once after", sourceLocation: sourceLocation)
        #expect(Set(remaining).isDisjoint(with: spent), "spent coins leave the pool", sourceLocation: sourceLocation)
        #expect(Set(remaining).union(spent) == Set(coins.keys), "unspent coins stay in the pool", sourceLocation: sourceLocation)
        #expect(remaining.count + spent.count == before.count, sourceLocation: sourceLocation)
        #expect(bytes <= BenchChainGenerator.blockBudgetBytes, sourceLocation: sourceLocation)
        #expect(planned.count <= generator.spec.maxTransactionsPerBlock, sourceLocation: sourceLocation)
        return bytes
    }

    /// The coins a planned block makes, as the generator adds them after mining.
    static func outputs(of planned: [BenchChainGenerator.PlannedTransaction], height: Int) -> [Coin] {
        planned.enumerated().flatMap { number, item in
            item.transaction.outputs.enumerated().map { index, output in
                Coin(txid: txid(1, height, number), vout: UInt32(index), value: output.value,
                     key: item.outputKeys[index])
            }
        }
    }

    @Test("the same seed and pool give the same plan; another seed another plan")
    func deterministic() {
        let generator = Self.generator()
        func run(seed: UInt64) -> ([Transaction], [[Int]], [[Int]], [Coin]) {
            var pool = Self.pool(500)
            var random = Xoshiro256StarStar(seed: seed)
            var transactions: [Transaction] = [], keys: [[Int]] = [], outputKeys: [[Int]] = []
            for height in 1...5 {
                let planned = generator.plan(block: height, pool: &pool, random: &random, scripts: Self.scripts)
                transactions += planned.map(\.transaction)
                keys += planned.map(\.keys)
                outputKeys += planned.map(\.outputKeys)
            }
            return (transactions, keys, outputKeys, pool)
        }
        let first = run(seed: 1), second = run(seed: 1), other = run(seed: 2)
        #expect(!first.0.isEmpty)
        #expect(first.0 == second.0)
        #expect(first.1 == second.1)
        #expect(first.2 == second.2)
        #expect(first.3 == second.3)
        #expect(first.0 != other.0)
    }

    @Test("planned transactions pay minimum outputs and a fee of at least the estimated size times the rate, spending each coin once")
    func invariantsOfOneBlock() {
        let generator = Self.generator(maxTransactions: 1500)
        for seed in UInt64(1)...20 {
            var pool = Self.pool(3000, seed: seed)
            let before = pool
            var random = Xoshiro256StarStar(seed: seed)
            let planned = generator.plan(block: 1, pool: &pool, random: &random, scripts: Self.scripts)
            #expect(!planned.isEmpty)
            Self.check(planned, before: before, after: pool, generator: generator)
        }
    }

    @Test("a block's estimated bytes stay within blockBudgetBytes even when its target is larger")
    func blockBudget() {
        let generator = Self.generator(maxTransactions: 5000)
        var largest = 0
        var pool = Self.pool(20_000, seed: 5)
        var random = Xoshiro256StarStar(seed: 5)
        for height in 1...20 {
            let before = pool
            let planned = generator.plan(block: height, pool: &pool, random: &random, scripts: Self.scripts)
            largest = max(largest, Self.check(planned, before: before, after: pool, generator: generator))
            pool += Self.outputs(of: planned, height: height)
        }
        #expect(largest <= BenchChainGenerator.blockBudgetBytes)
        // Some block must have been cut by the budget, or this test proves nothing.
        #expect(largest > BenchChainGenerator.blockBudgetBytes - 10_000, "largest block ~\(largest) bytes")
    }

    @Test("with fewer than 64 coins every transaction is a fan-out of one coin")
    func smallPoolFansOut() {
        let generator = Self.generator(maxTransactions: 40)
        for seed in UInt64(1)...30 {
            var pool = (0..<63).map { Coin(txid: txid($0 + 1), vout: 0, value: 5_000_000_000, key: $0 % 64) }
            let before = pool
            var random = Xoshiro256StarStar(seed: seed)
            let planned = generator.plan(block: 2, pool: &pool, random: &random, scripts: Self.scripts)
            #expect(!planned.isEmpty)
            Self.check(planned, before: before, after: pool, generator: generator)
            for item in planned {
                #expect(item.transaction.inputs.count == 1)
                #expect((10...50).contains(item.transaction.outputs.count), "\(item.transaction.outputs.count) outputs")
            }
        }
    }

    @Test("a fan-out of a coin worth few outputs makes as many as its value allows")
    func fanOutLimitedByValue() {
        let generator = Self.generator()
        // 350,000 units: after the fee, three outputs of 100,000 fit, four do not.
        var pool = [Coin(txid: String(repeating: "ab", count: 32), vout: 3, value: 350_000, key: 1)]
        var random = Xoshiro256StarStar(seed: 11)
        let planned = generator.plan(block: 1, pool: &pool, random: &random, scripts: Self.scripts)
        #expect(planned.count == 1)
        Self.check(planned, before: [Coin(txid: String(repeating: "ab", count: 32), vout: 3, value: 350_000, key: 1)],
                   after: pool, generator: generator)
        #expect(planned.first?.transaction.inputs.count == 1)
        #expect(planned.first?.transaction.outputs.count == 3)
        #expect(pool.isEmpty)
    }

    @Test("coins too small to pay one output are consolidated, or left in the pool when even that is not enough")
    func smallCoins() {
        let generator = Self.generator()
        // Ten 5,000-unit coins cannot pay 100,000 plus fees: nothing is planned, nothing is lost.
        let dust = (0..<10).map { Coin(txid: txid($0 + 1), vout: 0, value: 5_000, key: 0) }
        var pool = dust
        var random = Xoshiro256StarStar(seed: 3)
        #expect(generator.plan(block: 1, pool: &pool, random: &random, scripts: Self.scripts).isEmpty)
        #expect(Set(pool) == Set(dust))
        #expect(pool.count == dust.count)

        // Sixty coins of 5,000 are enough: the first transaction takes about two dozen of them.
        let more = (0..<60).map { Coin(txid: txid($0 + 100), vout: 1, value: 5_000, key: $0 % 64) }
        pool = more
        let planned = generator.plan(block: 1, pool: &pool, random: &random, scripts: Self.scripts)
        #expect(!planned.isEmpty)
        #expect((planned.first?.transaction.inputs.count ?? 0) >= 20)
        Self.check(planned, before: more, after: pool, generator: generator)
    }

    @Test("over many blocks, transactions per block range widely up to the maximum")
    func blockSizesVary() {
        let generator = Self.generator(maxTransactions: 200)
        var pool: [Coin] = []
        var random = Xoshiro256StarStar(seed: generator.spec.seed)
        var counts: [Int] = []
        var shapes: Set<String> = []
        for height in 1...150 {
            let before = pool
            let planned = generator.plan(block: height, pool: &pool, random: &random, scripts: Self.scripts)
            Self.check(planned, before: before, after: pool, generator: generator)
            counts.append(planned.count)
            for item in planned {
                let (inputs, outputs) = (item.transaction.inputs.count, item.transaction.outputs.count)
                shapes.insert(outputs == 1 ? "consolidation" : outputs == 2 && inputs <= 3 ? "payment" : "fan-out")
            }
            // As the generator does after mining: the block's outputs and its coinbase join the pool.
            pool += Self.outputs(of: planned, height: height)
            pool.append(Coin(txid: txid(2, height), vout: 0, value: 5_000_000_000,
                             key: height % generator.spec.keyCount))
        }
        #expect(counts.first == 0, "the first block has no coins to spend")
        let later = Array(counts.dropFirst(30))
        #expect(Set(later).count >= 20, "distinct block sizes: \(Set(later).sorted())")
        #expect(later.min() ?? 0 <= 5)
        #expect(later.max() ?? 0 >= 100)
        #expect(later.max() ?? 0 <= 200)
        #expect(shapes == ["payment", "consolidation", "fan-out"])
    }
}

// MARK: - 7. ReindexSettings

@Suite("Bench chains: ReindexSettings arguments and what they control")
struct BenchChainReindexSettingsTests {
    @Test("arguments(reindex:) fix the cache, threads, signature checks and wallet; -debug=bench only with benchLog")
    func arguments() {
        var settings = ReindexSettings()
        settings.dbcacheMiB = 300
        settings.scriptThreads = 3
        let plain = settings.arguments(reindex: "-reindex")
        #expect(plain.first == "-reindex")
        #expect(plain.contains("-dbcache=300"))
        #expect(plain.contains("-par=3"))
        #expect(plain.contains("-assumevalid=0"))
        #expect(plain.contains("-disablewallet"))
        #expect(!plain.contains("-debug=bench"))
        #expect(!plain.contains { $0.hasPrefix("-debug") })

        settings.benchLog = true
        let logged = settings.arguments(reindex: "-reindex-chainstate")
        #expect(logged.first == "-reindex-chainstate")
        #expect(!logged.contains("-reindex"))
        #expect(logged.contains("-debug=bench"))
        #expect(logged.filter { $0 == "-debug=bench" }.count == 1)
        #expect(Array(logged.dropFirst()).filter { $0 != "-debug=bench" } == Array(plain.dropFirst()))

        let defaults = ReindexSettings().arguments(reindex: "-reindex")
        #expect(defaults.contains("-dbcache=450"))
        #expect(defaults.contains("-par=1"))
    }

    @Test("controlled lists the page cache as not held unless it is dropped")
    func pageCache() {
        var settings = ReindexSettings()
        settings.parentDirectory = "/scratch"
        let kept = settings.controlled
        #expect(kept.notHeld.contains { $0.hasPrefix("the page cache") && $0.contains("--drop-page-cache") })
        #expect(!kept.held.contains { $0.contains("page cache") })
        #expect(kept.held.contains { $0.contains("/scratch") })
        #expect(kept.held.contains { $0.contains("-dbcache=450") })

        settings.dropPageCache = true
        let dropped = settings.controlled
        #expect(!dropped.notHeld.contains { $0.hasPrefix("the page cache") })
        #expect(dropped.held.contains { $0.contains("page cache dropped") })
        #expect(dropped.notHeld.count == kept.notHeld.count - 1)
        #expect(settings.parameters["page_cache_dropped"] == "true")
        #expect(settings.parameters["datadir_parent"] == "/scratch")
    }

    @Test("controlled describes the mode measured")
    func mode() {
        var settings = ReindexSettings()
        #expect(settings.controlled.held.contains { $0.hasPrefix("-reindex of a copy") })
        settings.mode = .reindexChainstate
        #expect(settings.controlled.held.contains { $0.hasPrefix("-reindex-chainstate after an untimed -reindex") })
        #expect(settings.parameters["mode"] == "reindex-chainstate")
    }
}

import BenchStore
@testable import ConnectBlockBench
import Foundation
import NodeControl
import Synchronization
import TapyrusEncoding
import Testing
@testable import TraceHarness

/// The `tiny` chain, made once per test process into a temporary cache.
actor SharedBenchChain {
    static let shared = SharedBenchChain()

    private var made: Task<CachedBenchChain, Error>?
    /// `<tmp>/tapyrus-trace-test-chains-<pid>`; folders of test processes that
    /// are gone are removed when the first test asks for the chain.
    let cache = BenchChainCache(root: FileManager.default.temporaryDirectory
        .appendingPathComponent("\(SharedBenchChain.folderPrefix)\(getpid())").path)

    static let folderPrefix = "tapyrus-trace-test-chains-"

    /// The cached tiny chain.
    func tiny() async throws -> CachedBenchChain {
        if made == nil {
            Fixture.removeLeftovers(prefix: Self.folderPrefix)
            let cache = cache
            made = Task {
                guard let binaries = tapyrusBinaries else { throw FixtureError("no tapyrusd") }
                return try await BenchChainGenerator(spec: try BenchChainSpec.preset(named: "tiny"), binaries: binaries).generate(into: cache)
            }
        }
        return try await made!.value
    }
}

/// A temporary folder removed when the value goes away.
final class TemporaryFolder: Sendable {
    let path: String

    init(_ prefix: String) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The records of a block file: each block's bytes, in order; fails on a bad magic or size.
func blockFileRecords(_ path: String, magic: NetworkMagic = .dev) throws -> [[UInt8]] {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    var records: [[UInt8]] = []
    var offset = 0
    while offset < bytes.count {
        guard offset + 8 <= bytes.count, Array(bytes[offset..<offset + 4]) == magic.bytes else {
            throw FixtureError("bad record header at offset \(offset)")
        }
        let size = bytes[offset + 4..<offset + 8].reversed().reduce(0) { $0 << 8 | Int($1) }
        guard offset + 8 + size <= bytes.count else { throw FixtureError("record at \(offset) runs past the end") }
        records.append(Array(bytes[offset + 8..<offset + 8 + size]))
        offset += 8 + size
    }
    return records
}

/// A baselines database in `folder` holding one stored run of the tiny chain, and its contents.
func databaseWithOneRun(in folder: TemporaryFolder) async throws -> (path: String, contents: Data) {
    let database = "\(folder.path)/baselines.sqlite"
    let stored = try await runTool(["bench", "connectblock", "--chain", "tiny", "--cache", SharedBenchChain.shared.cache.root, "--db", database])
    #expect(stored.status == 0, "\(stored.standardError)")
    return (database, try await SyntheticDatabase.snapshot(of: database))
}

/// A copy of `chain`'s cache folder in `cache`; returns the copy's path.
func copyChain(_ chain: CachedBenchChain, into cache: TemporaryFolder) throws -> String {
    let copy = "\(cache.path)/\(URL(fileURLWithPath: chain.folder).lastPathComponent)"
    try FileManager.default.copyItem(atPath: chain.folder, toPath: copy)
    return copy
}

/// Expects a failed bench command: exit 2, one line on standard error holding `message`.
func expectBenchFailure(_ result: ToolProcess.Result, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status == 2, "exit status; stderr: \(result.standardError)", sourceLocation: sourceLocation)
    let errorLines = result.standardError.split(separator: "\n").filter { $0.hasPrefix("Error: ") }
    #expect(errorLines.count == 1, "one error line: \(result.standardError)", sourceLocation: sourceLocation)
    #expect(errorLines.first?.contains(message) == true, "\(result.standardError)", sourceLocation: sourceLocation)
}

@Suite("Benchmark chains and bench connectblock against tapyrusd", .serialized,
       .enabled(if: toolTestsUnavailableReason == nil, "\(toolTestsUnavailableReason ?? "")"))
struct BenchChainFunctionalTests {
    @Test("the tiny chain is made again bit for bit by bench chain generate, and its block file matches its manifest")
    func regeneratedBitForBit() async throws {
        let chain = try await SharedBenchChain.shared.tiny()
        let manifest = chain.manifest
        let records = try blockFileRecords(chain.blocksPath)
        #expect(records.count == manifest.blocks + 1)
        #expect(records.first == Hex.decode(chain.genesisBlock))
        #expect(records.dropFirst().map(\.count) == manifest.blockList.map(\.bytes))
        #expect(records.reduce(0) { $0 + $1.count } == manifest.blockBytes)
        #expect(manifest.blockList.map(\.height) == Array(1...manifest.blocks))
        #expect(manifest.blockList.reduce(0) { $0 + $1.transactions } == manifest.transactions)
        #expect(manifest.blockList.reduce(0) { $0 + $1.inputs } == manifest.inputs)
        #expect(manifest.blockList.last?.hash == manifest.tipHash)
        #expect(Set(manifest.blockList.map(\.transactions)).count > 3, "a range of block sizes: \(manifest.blockList.map(\.transactions))")
        #expect(manifest.inputs > manifest.transactions, "transactions with many inputs")

        let again = try TemporaryFolder("bench-chain-again")
        let made = try await runTool(["bench", "chain", "generate", "tiny", "--cache", again.path])
        #expect(made.status == 0, "\(made.standardError)")
        let copy = BenchChainCache(root: again.path).folder(for: manifest.spec)
        #expect(FileManager.default.contentsEqual(atPath: "\(copy)/blocks.dat", andPath: chain.blocksPath))
        #expect(made.standardOutput.contains("blocks.dat sha256 \(manifest.blocksSHA256.prefix(16))"))

        let verified = try await runTool(["bench", "chain", "verify", "tiny", "--cache", again.path])
        #expect(verified.status == 0 && verified.standardOutput.contains("matches its manifest"), "\(verified.standardError)")
        let listed = try await runTool(["bench", "chain", "list", "--cache", again.path])
        #expect(listed.standardOutput.split(separator: "\n").contains { $0.hasPrefix("tiny ") && $0.contains("yes: \(manifest.transactions) tx") },
                "\(listed.standardOutput)")
    }

    @Test("bench connectblock stores a complete run per repetition whose blocks match the chain's ground truth")
    func connectBlockRunsMatchTheChain() async throws {
        let chain = try await SharedBenchChain.shared.tiny()
        let folder = try TemporaryFolder("bench-connectblock")
        let database = "\(folder.path)/baselines.sqlite"
        let result = try await runTool(["bench", "connectblock", "--chain", "tiny", "--cache", SharedBenchChain.shared.cache.root,
                                        "--db", database, "--repetitions", "2", "--threshold-ms", "0", "--label", "release"])
        #expect(result.status == 0, "\(result.standardError)")
        let output = result.standardOutput
        #expect(output.contains("Controlled: a fresh datadir"))
        #expect(output.contains("-dbcache=450 MiB") && output.contains("-par=1"))
        #expect(output.contains("Not controlled: "))
        #expect(output.components(separatedBy: "Took ").count - 1 == 2, "one total per run: \(output)")
        #expect(output.contains("@durations: "))
        // Threshold 0: every block is printed, with its hash.
        for block in chain.manifest.blockList {
            #expect(output.contains("Block \(block.height) (\(block.hash))"), "height \(block.height)")
        }

        let store = try BaselineStore(path: database)
        defer { try? store.close() }
        let runs = try await store.runs()
        #expect(runs.count == 2)
        for summary in runs {
            #expect(summary.run.status == .complete)
            #expect(summary.build.label == "release")
            #expect(summary.chain.name == "tiny" && summary.chain.parameters["cache_key"] == chain.manifest.cacheKey)
            #expect(summary.run.parameters["dbcache_mib"] == "450" && summary.run.parameters["mode"] == "reindex")
            let blocks = try await store.blocks(run: summary.id)
            #expect(blocks.map(\.height) == Array(1...chain.manifest.blocks))
            for (measured, truth) in zip(blocks, chain.manifest.blockList) {
                #expect(measured.hash == truth.hash, "height \(truth.height)")
                #expect(measured.transactions == truth.transactions, "height \(truth.height)")
                // ConnectBlock counts the coinbase's input too.
                #expect(measured.inputs == truth.inputs + 1, "height \(truth.height)")
                // Every output is P2PKH: one legacy sigop each, none in the unlocking scripts.
                #expect(measured.sigops == truth.outputs, "height \(truth.height)")
                #expect(measured.durationMicros > 0)
            }
        }
    }

    @Test("--from and --to limit the heights measured and stored; --to beyond the tip is an error")
    func heightRange() async throws {
        let chain = try await SharedBenchChain.shared.tiny()
        let folder = try TemporaryFolder("bench-range")
        let database = "\(folder.path)/baselines.sqlite"
        let cache = SharedBenchChain.shared.cache.root
        let result = try await runTool(["bench", "connectblock", "--chain", "tiny", "--cache", cache, "--db", database,
                                        "--from", "5", "--to", "10", "--threshold-ms", "0"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("Took ") && result.standardOutput.contains("between height 5 and 10"))
        #expect(!result.standardOutput.contains("Block 4 (") && !result.standardOutput.contains("Block 11 ("))
        let store = try BaselineStore(path: database)
        defer { try? store.close() }
        let run = try #require(try await store.runs().first)
        #expect(run.run.status == .complete)
        #expect(try await store.blocks(run: run.id).map(\.hash) == chain.manifest.blockList[4...9].map(\.hash))

        let beyond = try await runTool(["bench", "connectblock", "--chain", "tiny", "--cache", cache, "--db", database, "--to", "17"])
        expectBenchFailure(beyond, "--to 17 is beyond the chain's tip, height 16")
    }

    @Test("--generate makes a missing chain first; the mode, cache size, threads and page-cache drop are stored with the run")
    func settingsAreRecorded() async throws {
        let chain = try await SharedBenchChain.shared.tiny()
        let folder = try TemporaryFolder("bench-settings")
        let database = "\(folder.path)/baselines.sqlite"
        let result = try await runTool(["bench", "connectblock", "--chain", "tiny", "--cache", "\(folder.path)/chains", "--generate",
                                        "--db", database, "--mode", "reindex-chainstate", "--dbcache", "64", "--par", "2",
                                        "--drop-page-cache", "--datadir-parent", folder.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("making chain 'tiny'"))
        #expect(result.standardOutput.contains("-reindex-chainstate after an untimed -reindex import"))
        #expect(result.standardOutput.contains("the page cache dropped before each run"))
        #expect(result.standardOutput.contains("a fresh datadir under \(folder.path)"))
        let made = BenchChainCache(root: "\(folder.path)/chains").folder(for: chain.manifest.spec)
        #expect(FileManager.default.contentsEqual(atPath: "\(made)/blocks.dat", andPath: chain.blocksPath))

        let store = try BaselineStore(path: database)
        defer { try? store.close() }
        let run = try #require(try await store.runs().first)
        #expect(run.run.status == .complete)
        #expect(run.run.parameters["mode"] == "reindex-chainstate")
        #expect(run.run.parameters["dbcache_mib"] == "64" && run.run.parameters["par"] == "2")
        #expect(run.run.parameters["page_cache_dropped"] == "true")
        #expect(try await store.blocks(run: run.id).map(\.hash) == chain.manifest.blockList.map(\.hash))
        // The run's datadir was removed; only the chain cache and the database remain.
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("tapyrus-trace-") }
        #expect(left.isEmpty, "\(left)")
    }

    @Test("bench overhead compares untraced and traced runs: one block_connected hit per block, more with every probe")
    func overhead() async throws {
        let chain = try await SharedBenchChain.shared.tiny()
        let cache = SharedBenchChain.shared.cache.root
        let block = try await runTool(["bench", "overhead", "--chain", "tiny", "--cache", cache, "--repetitions", "1"])
        #expect(block.status == 0, "\(block.standardError)")
        #expect(block.standardOutput.contains("Traced runs attach 1 probe: validation:block_connected"))
        #expect(block.standardOutput.contains("Events from the measured node in the traced runs: \(chain.manifest.blocks) (\(chain.manifest.blocks) per run), 0 lost"),
                "\(block.standardOutput)")
        #expect(block.standardOutput.contains("Per-block overhead: "))
        #expect(block.standardOutput.contains("Verdict: "))
        #expect(block.standardOutput.contains("[\(chain.manifest.blocks) heights paired"), "\(block.standardOutput)")

        let all = try await runTool(["bench", "overhead", "--chain", "tiny", "--cache", cache, "--repetitions", "1", "--probes", "all"])
        #expect(all.status == 0, "\(all.standardError)")
        #expect(all.standardOutput.contains("Traced runs attach 15 probes"), "\(all.standardOutput)")
        // Every coin added and spent fires a UTXO cache probe.
        let prefix = "Events from the measured node in the traced runs: "
        let hits = all.standardOutput.split(separator: "\n").first { $0.hasPrefix(prefix) }
            .flatMap { Int($0.dropFirst(prefix.count).prefix { $0.isNumber }) }
        // Connecting the chain fires exactly one add per output, one spend per input and one block_connected per block.
        #expect(hits == chain.manifest.inputs + chain.manifest.outputs + chain.manifest.blocks, "\(all.standardOutput)")
    }

    @Test("reindex-chainstate measures only the restarted node: every height once, with the chain's hashes")
    func reindexChainstate() async throws {
        let chain = try await SharedBenchChain.shared.tiny()
        var settings = ReindexSettings()
        settings.mode = .reindexChainstate
        settings.benchLog = true
        let seen = Mutex<[BlockConnected]>([])
        let outcome = try await ChainReindex(chain: chain, binaries: try #require(tapyrusBinaries), settings: settings,
                                             probes: [BlockConnected.tracepoint.probe]).run { event in
            if let block = try? event.as(BlockConnected.self) { seen.withLock { $0.append(block) } }
        }
        let blocks = seen.withLock { $0 }
        #expect(blocks.allSatisfy { $0.height >= 1 } || blocks.first?.height == 0)
        let connected = blocks.filter { $0.height >= 1 }
        #expect(connected.map(\.height) == (1...Int32(chain.manifest.blocks)).map { $0 })
        #expect(connected.map(\.hash.hex) == chain.manifest.blockList.map(\.hash))
        #expect(outcome.tipHeight == chain.manifest.blocks)
        // -debug=bench timed the same heights.
        #expect(Set(outcome.benchLogMicroseconds.keys.filter { $0 >= 1 }) == Set(1...chain.manifest.blocks))
    }

    @Test("bad input: an unknown, missing or damaged chain is one line and exit 2, and the database keeps its runs")
    func badChains() async throws {
        let chain = try await SharedBenchChain.shared.tiny()
        let folder = try TemporaryFolder("bench-bad-chain")
        let (database, before) = try await databaseWithOneRun(in: folder)

        let unknown = try await runTool(["bench", "connectblock", "--chain", "nosuch", "--db", database])
        expectBenchFailure(unknown, "no benchmark chain is called 'nosuch'; the chains are tiny, small, standard, large")

        let empty = try TemporaryFolder("bench-empty-cache")
        let missing = try await runTool(["bench", "connectblock", "--chain", "tiny", "--cache", empty.path, "--db", database])
        expectBenchFailure(missing, "benchmark chain 'tiny' is not in the cache")
        expectBenchFailure(missing, "tapyrus-trace bench chain generate tiny")

        let damagedCache = try TemporaryFolder("bench-damaged-cache")
        let copy = try copyChain(chain, into: damagedCache)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: "\(copy)/blocks.dat"))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: "\(copy)/blocks.dat"))
        let damaged = try await runTool(["bench", "connectblock", "--chain", "tiny", "--cache", damagedCache.path, "--db", database])
        expectBenchFailure(damaged, "is damaged (blocks.dat has SHA-256")

        try "{ not json".write(toFile: "\(copy)/manifest.json", atomically: true, encoding: .utf8)
        let badManifest = try await runTool(["bench", "chain", "verify", "tiny", "--cache", damagedCache.path])
        expectBenchFailure(badManifest, "manifest.json is not a manifest")

        #expect(try await SyntheticDatabase.snapshot(of: database) == before)
    }

    @Test("bad input: a tapyrusd whose reindex stalls, or a binary without probes, is one line and exit 2, and nothing is stored")
    func failingReindex() async throws {
        let chain = try await SharedBenchChain.shared.tiny()
        let folder = try TemporaryFolder("bench-failing")
        let (database, before) = try await databaseWithOneRun(in: folder)

        // A consistent cache whose block file lacks block 5: the node connects
        // heights 1-4 and can never connect the orphans after the gap.
        let gapCache = try TemporaryFolder("bench-gap-cache")
        let copy = try copyChain(chain, into: gapCache)
        var records = try blockFileRecords(chain.blocksPath)
        records.remove(at: 5)
        var file = Data()
        for record in records {
            file.append(contentsOf: NetworkMagic.dev.bytes)
            file.append(contentsOf: withUnsafeBytes(of: UInt32(record.count).littleEndian, Array.init))
            file.append(contentsOf: record)
        }
        try file.write(to: URL(fileURLWithPath: "\(copy)/blocks.dat"))
        var manifest = chain.manifest
        manifest.blocksFileBytes = file.count
        manifest.blocksSHA256 = SHA256.hash([UInt8](file)).map { String(format: "%02x", $0) }.joined()
        try BenchChainCache.encoder.encode(manifest).write(to: URL(fileURLWithPath: "\(copy)/manifest.json"))
        // The failed run's datadir is kept for inspection: here, inside a folder the test removes.
        let stalled = try await runTool(["bench", "connectblock", "--chain", "tiny", "--cache", gapCache.path, "--db", database,
                                         "--stall-timeout", "3", "--datadir-parent", gapCache.path])
        expectBenchFailure(stalled, "tapyrusd did not connect the benchmark chain: the tip stayed at height 4 of 16 for 3 s")
        expectBenchFailure(stalled, "datadir kept: \(gapCache.path)/tapyrus-trace-bench-tiny-")

        // A program that is not tapyrusd: no probes to attach.
        let fake = try TemporaryFolder("bench-fake-tapyrusd")
        try "#!/bin/sh\necho 'Tapyrus Core Daemon version v0.0.0'\nexit 1\n".write(toFile: "\(fake.path)/tapyrusd", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(fake.path)/tapyrusd")
        try FileManager.default.createSymbolicLink(atPath: "\(fake.path)/tapyrus-genesis", withDestinationPath: try #require(tapyrusBinaries).tapyrusGenesis)
        let notTapyrus = try await runTool(["bench", "connectblock", "--chain", "tiny", "--cache", SharedBenchChain.shared.cache.root,
                                            "--db", database, "--tapyrusd", "\(fake.path)/tapyrusd"])
        expectBenchFailure(notTapyrus, "\(fake.path)/tapyrusd: not an ELF binary")
        #expect(!notTapyrus.standardOutput.contains("ConnectBlock benchmark between"), "refused before any run")

        let missingBinary = try await runTool(["bench", "connectblock", "--chain", "tiny", "--db", database, "--tapyrusd", "\(fake.path)/nothing"])
        expectBenchFailure(missingBinary, "no executable tapyrusd at \(fake.path)/nothing")

        #expect(try await SyntheticDatabase.snapshot(of: database) == before)
    }
}

/// The Debug build of tapyrusd, if one is installed (`TAPYRUSD_DEBUG`, else /opt/tapyrus-debug/tapyrusd).
let debugTapyrusd: String? = {
    let path = ProcessInfo.processInfo.environment["TAPYRUSD_DEBUG"] ?? "/opt/tapyrus-debug/tapyrusd"
    return FileManager.default.isExecutableFile(atPath: path) ? path : nil
}()

@Suite("A Debug build of tapyrusd against a release build",
       .enabled(if: toolTestsUnavailableReason == nil && debugTapyrusd != nil,
                "\(toolTestsUnavailableReason ?? "no Debug tapyrusd: build one (CMAKE_BUILD_TYPE=Debug) and set TAPYRUSD_DEBUG to it")"))
struct DebugBuildRegressionTests {
    @Test("interleaved runs of release and Debug builds: baseline compare flags the Debug build as a regression and exits 1")
    func debugIsARegression() async throws {
        let release = try #require(tapyrusBinaries).tapyrusd
        let debug = try #require(debugTapyrusd)
        _ = try await SharedBenchChain.shared.tiny()
        let folder = try TemporaryFolder("bench-debug")
        let database = "\(folder.path)/baselines.sqlite"
        let result = try await runTool(["bench", "connectblock", "--chain", "tiny", "--cache", SharedBenchChain.shared.cache.root,
                                        "--db", database, "--tapyrusd", release, "--tapyrusd", debug,
                                        "--label", "release", "--label", "debug", "--repetitions", "2"], timeout: .seconds(300))
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("compare with: tapyrus-trace baseline compare --baseline build:release --candidate build:debug"))
        let compared = try await runTool(["baseline", "compare", "--baseline", "release", "--candidate", "debug", "--db", database])
        #expect(compared.status == 1, "\(compared.standardOutput) \(compared.standardError)")
        #expect(compared.standardOutput.contains("regression"), "\(compared.standardOutput)")
    }
}

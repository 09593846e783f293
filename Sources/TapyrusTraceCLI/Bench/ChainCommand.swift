import ArgumentParser
import ConnectBlockBench
import Foundation
import NodeControl
import TraceHarness

/// `tapyrus-trace bench chain`: the deterministic chains the ConnectBlock benchmark connects.
struct ChainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chain",
        abstract: "Make, list and check the deterministic benchmark chains.",
        discussion: """
            A benchmark chain is made once by a dev tapyrusd from fixed keys, \
            times and a seed, and kept in the cache \
            (\(ChainCacheOptions.defaultDescription)), one folder per chain \
            holding genesis.dat, blocks.dat and manifest.json. The same name \
            always makes the same bytes.
            """,
        subcommands: [ChainGenerateCommand.self, ChainListCommand.self, ChainVerifyCommand.self]
    )
}

/// `--cache DIR`, shared by the commands that use benchmark chains.
struct ChainCacheOptions: ParsableArguments {
    static let defaultDescription =
        "$\(BenchChainCache.environmentVariable) if set, else $XDG_CACHE_HOME/tapyrus-trace/chains, else ~/.cache/tapyrus-trace/chains"

    @Option(name: .customLong("cache"), help: ArgumentHelp(
        "The folder of cached benchmark chains. Default: \(defaultDescription).", valueName: "folder"))
    var folder: String?

    var cache: BenchChainCache {
        folder.map(BenchChainCache.init(root:)) ?? BenchChainCache.standard()
    }
}

/// Human sizes: `812 KB`, `61.2 MB`.
enum ByteCount {
    static func text(_ bytes: Int) -> String {
        if bytes < 1_000_000 { return String(format: "%.0f KB", Double(bytes) / 1_000) }
        return String(format: "%.1f MB", Double(bytes) / 1_000_000)
    }
}

extension BenchChainManifest {
    /// One line: blocks, transactions, inputs, sizes, digest.
    var summary: String {
        "\(blocks) blocks, \(transactions) transactions, \(inputs) inputs, \(outputs) outputs; "
            + "\(ByteCount.text(blockBytes)) of blocks (largest \(ByteCount.text(largestBlockBytes))); "
            + "blocks.dat sha256 \(blocksSHA256.prefix(16))…; made in \(String(format: "%.1f", generationSeconds)) s by \(generatedBy)"
    }
}

/// `tapyrus-trace bench chain generate NAME`.
struct ChainGenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Make a benchmark chain with a dev tapyrusd and keep it in the cache.",
        discussion: "Does nothing if the chain is cached already, unless --force is given."
    )

    @Argument(help: ArgumentHelp("The chain: \(BenchChainSpec.presets.map(\.name).joined(separator: ", ")).", valueName: "name"))
    var name: String

    @Option(help: ArgumentHelp("The tapyrusd that makes it, with tapyrus-genesis beside it (default: $TAPYRUSD, else PATH).", valueName: "path"))
    var tapyrusd: String?

    @Flag(help: "Make it again even if it is cached (replacing the cached copy only once the new one is complete).")
    var force = false

    @Flag(help: "Print one line per block made.")
    var verbose = false

    @OptionGroup var cacheOptions: ChainCacheOptions

    func run() async throws {
        try await Baseline.guarded {
            let spec = try BenchChainSpec.preset(named: name)
            let cache = cacheOptions.cache
            if !force, cache.contains(spec) {
                let chain = try await cache.load(spec)
                _ = Output.line("chain '\(spec.name)' is cached in \(chain.folder): \(chain.manifest.summary)")
                return
            }
            let binaries = try BenchBinaries.locate(tapyrusd)
            Output.note("making chain '\(spec.name)' (\(spec.blocks) blocks, up to \(spec.maxTransactionsPerBlock) transactions each) with \(binaries.tapyrusd)")
            let verbose = verbose
            let chain = try await BenchChainGenerator(spec: spec, binaries: binaries).generate(into: cache) { line in
                if verbose { Output.note(line) }
            }
            _ = Output.line("chain '\(spec.name)' made in \(chain.folder): \(chain.manifest.summary)")
        }
    }
}

/// `tapyrus-trace bench chain list`.
struct ChainListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the benchmark chains, their parameters and whether each is cached."
    )

    @OptionGroup var cacheOptions: ChainCacheOptions

    func run() async throws {
        try await Baseline.guarded {
            let cache = cacheOptions.cache
            _ = Output.line("cache: \(cache.root)")
            var rows = [["NAME", "KEY", "BLOCKS", "MAX TX/BLOCK", "SEED", "CACHED"]]
            let entries = cache.entries()
            for spec in BenchChainSpec.presets {
                let manifest = entries.first { $0.folder == cache.folder(for: spec) }?.manifest
                rows.append([spec.name, spec.cacheKey, "\(spec.blocks)", "\(spec.maxTransactionsPerBlock)", "\(spec.seed)",
                             manifest.map { "yes: \($0.transactions) tx, \($0.inputs) inputs, \(ByteCount.text($0.blocksFileBytes)), made in \(String(format: "%.0f", $0.generationSeconds)) s" } ?? "no"])
            }
            for line in Baseline.table(rows) { _ = Output.line(line) }
        }
    }
}

/// `tapyrus-trace bench chain verify NAME`.
struct ChainVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a cached chain's files against its manifest; with --regenerate, make it again and compare bytes.",
        discussion: "Exits 1 if the regenerated chain differs from the cached one, 2 on any other error."
    )

    @Argument(help: ArgumentHelp("The chain.", valueName: "name"))
    var name: String

    @Flag(help: "Make the chain again in a temporary cache and check that its blocks are the same bytes.")
    var regenerate = false

    @Option(help: ArgumentHelp("With --regenerate: the tapyrusd that makes it (default: $TAPYRUSD, else PATH).", valueName: "path"))
    var tapyrusd: String?

    @OptionGroup var cacheOptions: ChainCacheOptions

    func run() async throws {
        try await Baseline.guarded {
            let spec = try BenchChainSpec.preset(named: name)
            let cached = try await cacheOptions.cache.load(spec)
            _ = Output.line("chain '\(spec.name)' in \(cached.folder) matches its manifest: \(cached.manifest.summary)")
            guard regenerate else { return }
            let binaries = try BenchBinaries.locate(tapyrusd)
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tapyrus-trace-chain-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let again = try await BenchChainGenerator(spec: spec, binaries: binaries).generate(into: BenchChainCache(root: scratch))
            let same = FileManager.default.contentsEqual(atPath: again.blocksPath, andPath: cached.blocksPath)
                && again.genesisBlock == cached.genesisBlock
            if same {
                _ = Output.line("regenerated bit for bit in \(String(format: "%.1f", again.manifest.generationSeconds)) s: blocks.dat sha256 \(again.manifest.blocksSHA256)")
            } else {
                _ = Output.line("regenerated chain differs: blocks.dat sha256 \(again.manifest.blocksSHA256), cached \(cached.manifest.blocksSHA256)")
                throw ExitCode(1)
            }
        }
    }
}

/// Finds the tapyrusd a bench command runs.
enum BenchBinaries {
    /// ``locate(_:)``, then checks that the binary has the probes the benchmark attaches.
    static func locateTraceable(_ path: String?, probes: [ProbeName]) throws -> TapyrusBinaries {
        let binaries = try locate(path)
        if !probes.isEmpty {
            _ = try ToolTarget.resolve(pid: nil, binary: binaries.tapyrusd, required: probes)
        }
        return binaries
    }

    /// `path` with tapyrus-genesis beside it, else `$TAPYRUSD`, else `PATH`.
    static func locate(_ path: String?) throws -> TapyrusBinaries {
        if let path {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw CommandFailure("no executable tapyrusd at \(path)")
            }
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            let binaries = TapyrusBinaries(tapyrusd: path, tapyrusGenesis: "\(directory)/tapyrus-genesis")
            try binaries.validate()
            return binaries
        }
        return try TapyrusBinaries.locate()
    }
}

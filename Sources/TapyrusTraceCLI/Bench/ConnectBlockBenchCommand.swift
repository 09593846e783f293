import ArgumentParser
import BenchStore
import ConnectBlockBench
import Foundation
import NodeControl
import Synchronization
import TraceHarness
import TraceTools

/// The node settings every bench command that connects a chain shares.
struct ReindexOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The benchmark chain: \(BenchChainSpec.presets.map(\.name).joined(separator: ", ")).", valueName: "name"))
    var chain: String = "standard"

    @Flag(help: "Make the chain first if it is not cached (otherwise a missing chain is an error).")
    var generate = false

    @Option(help: ArgumentHelp("How blocks are connected: reindex, or reindex-chainstate (after an untimed -reindex import).", valueName: "mode"))
    var mode: String = ReindexSettings.Mode.reindex.rawValue

    @Option(help: ArgumentHelp("-dbcache of the node, MiB.", valueName: "MiB"))
    var dbcache: Int = 450

    @Option(help: ArgumentHelp("-par of the node: script verification threads.", valueName: "n"))
    var par: Int = 1

    @Option(help: ArgumentHelp("Where each run's fresh datadir is made (default: the system temporary folder).", valueName: "folder"))
    var datadirParent: String?

    @Flag(help: "Drop the kernel's page cache before each run (root only), so the block file is read from the disk.")
    var dropPageCache = false

    @Option(help: ArgumentHelp("Fail a run whose tip does not move for this many seconds.", valueName: "seconds"))
    var stallTimeout: Int = 120

    @OptionGroup var cacheOptions: ChainCacheOptions

    func validate() throws {
        if ReindexSettings.Mode(rawValue: mode) == nil {
            throw ValidationError("--mode must be \(ReindexSettings.Mode.allCases.map(\.rawValue).joined(separator: " or "))")
        }
        if dbcache < 4 { throw ValidationError("--dbcache must be at least 4 MiB") }
        if !(0...16).contains(par) { throw ValidationError("--par must be between 0 and 16") }
        if stallTimeout < 1 { throw ValidationError("--stall-timeout must be at least 1 second") }
        if let datadirParent {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: datadirParent, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--datadir-parent \(datadirParent) is not a folder")
            }
        }
    }

    var settings: ReindexSettings {
        var settings = ReindexSettings()
        settings.mode = ReindexSettings.Mode(rawValue: mode) ?? .reindex
        settings.dbcacheMiB = dbcache
        settings.scriptThreads = par
        settings.parentDirectory = datadirParent
        settings.dropPageCache = dropPageCache
        settings.stallTimeout = .seconds(stallTimeout)
        return settings
    }

    /// The cached chain, made first with `--generate` (by `binaries`) when missing.
    func loadChain(binaries: TapyrusBinaries) async throws -> CachedBenchChain {
        let spec = try BenchChainSpec.preset(named: chain)
        let cache = cacheOptions.cache
        if generate, !cache.contains(spec) {
            Output.note("making chain '\(spec.name)' (\(spec.blocks) blocks) in \(cache.root)")
            return try await BenchChainGenerator(spec: spec, binaries: binaries).generate(into: cache)
        }
        return try await cache.load(spec)
    }

    /// Prints what the settings control and what they do not (one `setup` object with `json`).
    static func printControlled(_ settings: ReindexSettings, chain: CachedBenchChain, json: Bool = false) {
        let (held, notHeld) = settings.controlled
        if json {
            func strings(_ items: [String]) -> String { "[" + items.map(EventFormatter.jsonString).joined(separator: ",") + "]" }
            let pairs = [("event", "setup"), ("chain", chain.name), ("folder", chain.folder), ("cache_key", chain.manifest.cacheKey),
                         ("blocks_sha256", chain.manifest.blocksSHA256)].map { "\(EventFormatter.jsonString($0.0)):\(EventFormatter.jsonString($0.1))" }
            _ = Output.line("{" + (pairs + ["\"controlled\":\(strings(held))", "\"not_controlled\":\(strings(notHeld))"]).joined(separator: ",") + "}")
            Output.flush()
            return
        }
        _ = Output.line("Chain '\(chain.name)' (\(chain.folder)): \(chain.manifest.summary)")
        _ = Output.line("Controlled: " + held.joined(separator: "; "))
        _ = Output.line("Not controlled: " + notHeld.joined(separator: "; "))
        Output.flush()
    }
}

/// `tapyrus-trace bench connectblock`: ConnectBlock per block on a deterministic chain, stored as baselines.
struct ConnectBlockBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connectblock",
        abstract: "Time every block a tapyrusd connects while reindexing a deterministic chain; store the runs.",
        discussion: """
            Each run starts the tapyrusd under test on a fresh datadir holding a \
            copy of the cached chain (see `bench chain`), with -reindex, and \
            times every block through validation:block_connected. Like the \
            seed's connectblock benchmark it prints a progress line each second, \
            every block slower than the threshold and, per run, the total time \
            and a histogram. Every run is stored in the baselines database \
            (\(BaselineDatabaseOptions.defaultDescription)); compare builds with \
            `tapyrus-trace baseline compare`. Give --tapyrusd several times to \
            interleave builds (A B A B ...), which spreads slow drifts of the \
            machine over both. Errors exit with status 2.
            """
    )

    @Option(help: ArgumentHelp("A tapyrusd to benchmark, with tapyrus-genesis beside it; repeat to interleave builds (default: $TAPYRUSD, else PATH).", valueName: "path"))
    var tapyrusd: [String] = []

    @Option(help: ArgumentHelp("A label for each --tapyrusd's build, in the same order (e.g. release, debug).", valueName: "label"))
    var label: [String] = []

    @Option(help: ArgumentHelp("The first height measured.", valueName: "height"))
    var from: Int32 = 1

    @Option(help: ArgumentHelp("The last height measured (default: the chain's tip).", valueName: "height"))
    var to: Int32?

    @Option(name: .customLong("threshold-ms"), help: ArgumentHelp("Print every block that took at least this many milliseconds.", valueName: "ms"))
    var thresholdMilliseconds: Int64 = 50

    @Option(help: ArgumentHelp("Runs per build.", valueName: "n"))
    var repetitions: Int = 1

    @OptionGroup var reindex: ReindexOptions

    @Flag(help: "Do not store the runs in the baselines database.")
    var noStore = false

    @OptionGroup var database: BaselineDatabaseOptions

    @Flag(help: "Print JSON Lines instead of text.")
    var json = false

    func validate() throws {
        if !label.isEmpty && label.count != max(tapyrusd.count, 1) {
            throw ValidationError("give one --label per --tapyrusd (\(max(tapyrusd.count, 1)) expected, \(label.count) given)")
        }
        if from < 0 { throw ValidationError("--from must not be negative") }
        if let to, to < from { throw ValidationError("--to must not be below --from") }
        if thresholdMilliseconds < 0 { throw ValidationError("--threshold-ms must not be negative") }
        if !(1...100).contains(repetitions) { throw ValidationError("--repetitions must be between 1 and 100") }
    }

    func run() async throws {
        Output.ignoreBrokenPipe()
        try await Baseline.guarded {
            let builds = try (tapyrusd.isEmpty ? [nil] : tapyrusd.map(Optional.some)).map {
                try BenchBinaries.locateTraceable($0, probes: [BlockConnected.tracepoint.probe])
            }
            let store = noStore ? nil : try database.open(mustExist: false)
            // Hashing a tapyrusd takes a moment: once per build, not once per run.
            var identities: [BuildIdentity] = []
            if store != nil {
                for binaries in builds { identities.append(try await BuildIdentity.of(binary: binaries.tapyrusd)) }
            }
            let chain = try await reindex.loadChain(binaries: builds[0])
            let tip = Int32(chain.manifest.blocks)
            let end = to ?? tip
            guard end <= tip else { throw CommandFailure("--to \(end) is beyond the chain's tip, height \(tip)") }
            let settings = reindex.settings
            ReindexOptions.printControlled(settings, chain: chain, json: json)
            let chainRecord = Chain.Draft(name: chain.name, generatorVersion: chain.manifest.generatorVersion,
                                    parameters: chain.manifest.spec.parameters.merging(
                                        ["cache_key": chain.manifest.cacheKey, "blocks_sha256": chain.manifest.blocksSHA256]) { $1 },
                                    blockCount: chain.manifest.blocks)
            var stored: [(build: Int, run: Int64)] = []
            let total = repetitions * builds.count
            for repetition in 1...repetitions {
                for (index, binaries) in builds.enumerated() {
                    let number = (repetition - 1) * builds.count + index + 1
                    let buildLabel = label.isEmpty ? nil : label[index]
                    Output.note("run \(number)/\(total): \(buildLabel.map { "\($0) " } ?? "")\(binaries.tapyrusd), repetition \(repetition)/\(repetitions)")
                    let benchmark = try await measure(chain: chain, binaries: binaries, settings: settings, end: end)
                    guard let store else { continue }
                    var parameters = settings.parameters
                    parameters["binary"] = binaries.tapyrusd
                    parameters["repetition"] = "\(repetition)"
                    parameters["probes"] = BlockConnected.tracepoint.probe.description
                    let saved = try await ConnectBlockStore.save(
                        benchmark.tool, build: identities[index], label: buildLabel, chain: chainRecord, into: store,
                        parameters: parameters, wallSeconds: benchmark.wallSeconds, notes: "tapyrus-trace bench connectblock")
                    Output.note("stored as run \(saved.run) in \(store.path)" + (saved.complete ? "" : " (incomplete)"))
                    stored.append((index, saved.run))
                }
            }
            if builds.count > 1, let first = stored.first(where: { $0.build == 0 }), let second = stored.first(where: { $0.build == 1 }) {
                let baseline = label.first.map { "build:\($0)" } ?? "run:\(first.run)"
                let candidate = label.count > 1 ? "build:\(label[1])" : "run:\(second.run)"
                Output.note("compare with: tapyrus-trace baseline compare --baseline \(baseline) --candidate \(candidate)"
                            + (database.db.map { " --db \($0)" } ?? ""))
            }
        }
    }

    /// One run: the node reindexes the chain while the benchmark tool consumes its events.
    private func measure(chain: CachedBenchChain, binaries: TapyrusBinaries, settings: ReindexSettings,
                         end: Int32) async throws -> (tool: ConnectBlockBenchmark, wallSeconds: Double) {
        let printer = ToolPrinter(ConnectBlockBenchmarks(startHeight: from, endHeight: end, thresholdMilliseconds: thresholdMilliseconds, json: json))
        _ = printer.header()
        let reindex = ChainReindex(chain: chain, binaries: binaries, settings: settings, probes: [BlockConnected.tracepoint.probe])
        // The reindex passes on the measured node's events only: one benchmark.
        let outcome = try await reindex.run(onEvent: { event in _ = printer.consume(event) },
                                            tickEvery: .seconds(1), onTick: { _ = printer.tick() })
        let tool = printer.finish().benchmark(of: outcome.pid)
        if !json { _ = Output.line("Reindex wall time \(String(format: "%.2f", outcome.wallSeconds)) s (fresh datadir to tip, block file copy included).") }
        Output.flush()
        if let capture = outcome.capture, capture.probes.contains(where: { $0.lost > 0 }) {
            Output.note("warning: the capture lost events: \(capture.probes.map { "\($0.probe) lost \($0.lost)" }.joined(separator: ", "))")
        }
        return (tool, outcome.wallSeconds)
    }
}

import Foundation
import NodeControl
import Synchronization
import TraceHarness

/// How the node connecting a benchmark chain is set up; the benchmark's
/// report says what these settings control and what they leave alone.
public struct ReindexSettings: Sendable, Hashable {
    /// How the blocks are connected.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// `-reindex` of a fresh datadir holding only the chain's block file:
        /// the node indexes the blocks, then connects them.
        case reindex
        /// The chain is first imported with `-reindex` (untimed); then the node
        /// restarts with `-reindex-chainstate`, rebuilding only the UTXO set
        /// from its block index, and that run is the one measured.
        case reindexChainstate = "reindex-chainstate"
    }

    public var mode: Mode = .reindex
    /// `-dbcache`, MiB: the UTXO cache's size.
    public var dbcacheMiB: Int = 450
    /// `-par`: script verification threads (1: none besides the connecting thread).
    public var scriptThreads: Int = 1
    /// Where each run's fresh datadir is made (`nil`: the system temporary folder).
    public var parentDirectory: String?
    /// The run fails when the tip has not moved for this long.
    public var stallTimeout: Duration = .seconds(120)
    /// Log `-debug=bench` lines (ConnectBlock's own timings) to `debug.log`.
    public var benchLog = false
    /// Drop the kernel's page cache (`/proc/sys/vm/drop_caches`, root only)
    /// before each run, so that the block file is read from the disk.
    public var dropPageCache = false

    public init() {}

    /// The node's command-line arguments for a run in `mode`.
    func arguments(reindex: String) -> [String] {
        var arguments = [reindex, "-dbcache=\(dbcacheMiB)", "-par=\(scriptThreads)", "-disablewallet", "-assumevalid=0",
                         "-listen=0", "-connect=0", "-persistmempool=0"]
        if benchLog { arguments.append("-debug=bench") }
        return arguments
    }

    /// The settings as stored with a run.
    public var parameters: [String: String] {
        [
            "mode": mode.rawValue, "dbcache_mib": "\(dbcacheMiB)", "par": "\(scriptThreads)",
            "datadir_parent": parentDirectory ?? NSTemporaryDirectory(), "bench_log": "\(benchLog)",
            "page_cache_dropped": "\(dropPageCache)",
        ]
    }

    /// What the settings hold fixed between runs, and what they do not.
    public var controlled: (held: [String], notHeld: [String]) {
        let parent = parentDirectory ?? NSTemporaryDirectory()
        var held = [
            "a fresh datadir under \(parent) for every run (no cache, index or chainstate from an earlier run)",
            mode == .reindex ? "-reindex of a copy of the chain's block file"
                : "-reindex-chainstate after an untimed -reindex import of the chain's block file",
            "-dbcache=\(dbcacheMiB) MiB UTXO cache",
            "-par=\(scriptThreads) script verification thread\(scriptThreads == 1 ? "" : "s")",
            "-assumevalid=0 (every signature checked), wallet disabled, no peers, no listening socket",
        ]
        var notHeld = [
            "CPU frequency scaling, other load on the machine and the CPUs the node is scheduled on",
            "the file system and its cache state beyond the page cache",
        ]
        if dropPageCache {
            held.append("the page cache dropped before each run (block file read from the disk)")
        } else {
            notHeld.append("the page cache: the block file was just copied, so it is read from memory (--drop-page-cache to drop it)")
        }
        return (held, notHeld)
    }
}

/// What one run of a node connecting a benchmark chain measured.
public struct ReindexOutcome: Sendable {
    /// The measured node's pid.
    public var pid: Int32
    /// The height it reached (the chain's tip).
    public var tipHeight: Int
    /// Seconds from making the measured node's datadir (the block file copy included) to its tip reaching the chain's tip.
    public var wallSeconds: Double
    /// ConnectBlock's own time per height, microseconds, from `-debug=bench`'s
    /// `Connect total` lines (empty unless ``ReindexSettings/benchLog``).
    public var benchLogMicroseconds: [Int: Double]
    /// The measured node's events captured until its tip was reached (its
    /// shutdown's excluded).
    public var nodeEvents: Int
    /// The capture's counters when the tip was reached, when probes were
    /// attached: of every process running the binary, not only the measured node.
    public var capture: CaptureStatistics?
}

/// Connects a cached benchmark chain with a tapyrusd: a fresh datadir holding
/// the chain's genesis block and block file, `-reindex`, and the chosen
/// probes attached before the node starts, so no block is missed.
///
/// Events reach `onEvent` only from the measured node (other processes of the
/// same binary are filtered out by pid), in the order captured.
public struct ChainReindex: Sendable {
    public var chain: CachedBenchChain
    public var binaries: TapyrusBinaries
    public var settings: ReindexSettings
    /// The probes attached while the node connects the chain (none: untraced).
    public var probes: [ProbeName]

    public init(chain: CachedBenchChain, binaries: TapyrusBinaries, settings: ReindexSettings, probes: [ProbeName]) {
        self.chain = chain
        self.binaries = binaries
        self.settings = settings
        self.probes = probes
    }

    /// Holds events until the measured node's pid is known, then passes on only its events.
    private final class PidGate: Sendable {
        struct State {
            var pid: Int32?
            var held: [TraceEvent] = []
            var passed = 0
        }

        let state = Mutex(State())
        let forward: @Sendable (TraceEvent) -> Void

        init(_ forward: @escaping @Sendable (TraceEvent) -> Void) { self.forward = forward }

        func receive(_ event: TraceEvent) {
            state.withLock { state in
                guard let pid = state.pid else { return state.held.append(event) }
                if event.pid == pid {
                    state.passed += 1
                    forward(event)
                }
            }
        }

        /// Events passed on so far.
        var passed: Int { state.withLock { $0.passed } }

        func open(for pid: Int32) {
            state.withLock { state in
                state.pid = pid
                for event in state.held where event.pid == pid {
                    state.passed += 1
                    forward(event)
                }
                state.held = []
            }
        }
    }

    /// Runs the node until it has connected the whole chain, then stops it and
    /// removes its datadir (kept, and named in the error, when the run fails).
    ///
    /// The capture (when ``probes`` are given) is one ``CaptureSession``: it
    /// starts before the node, calls `onTick` every `tickEvery` while the node
    /// connects, and ends once the tip is reached, before the node's shutdown.
    ///
    /// - Throws: ``BenchChainError/reindexFailed(_:)`` when the node exits,
    ///   stalls or reaches another tip; a ``TracerError`` when the probes
    ///   cannot be attached; a ``NodeError`` when the node cannot start.
    public func run(
        onEvent: @escaping @Sendable (TraceEvent) -> Void = { _ in },
        tickEvery interval: Duration? = nil, onTick: @escaping @Sendable () -> Void = {}
    ) async throws -> ReindexOutcome {
        if settings.dropPageCache { try Self.dropPageCache() }
        let gate = PidGate(onEvent)
        let session = try probes.isEmpty ? nil : CaptureSession(tracer: Tracer(binary: binaries.tapyrusd, probes: probes))
        async let captured = session?.run(tickEvery: interval, onTick: onTick) { event in
            gate.receive(event)
            return .keepGoing
        }
        do {
            let (pid, node, wall) = try await connect(opening: gate)
            session?.stop("tip reached")
            // The counts cover connecting the chain, not the shutdown's flush.
            let capture = await captured?.statistics
            let nodeEvents = gate.passed
            do {
                try await node.stop()
            } catch {
                await node.finish(passed: false)
                throw error
            }
            let benchLog = settings.benchLog ? BenchLog.connectTotals(inLogAt: node.debugLogPath) : [:]
            await node.finish(passed: true)
            return ReindexOutcome(pid: pid, tipHeight: chain.manifest.blocks, wallSeconds: wall, benchLogMicroseconds: benchLog,
                                  nodeEvents: nodeEvents, capture: capture)
        } catch {
            session?.stop("reindex failed")
            _ = await captured
            throw error
        }
    }

    /// Starts the node on a fresh datadir and waits until it has connected the
    /// chain; opens `gate` to the measured node's pid. Returns the pid, the
    /// running node and the measured wall time. A failed node is finished
    /// (its datadir kept) before the error is thrown.
    private func connect(opening gate: PidGate) async throws -> (pid: Int32, node: TapyrusNode, wallSeconds: Double) {
        var options = NodeOptions(name: "bench-\(chain.name)")
        options.genesisBlock = chain.genesisBlock
        options.blockFiles = [chain.blocksPath]
        options.parentDirectory = settings.parentDirectory
        options.startTimeout = .seconds(300)
        options.stopTimeout = .seconds(120)
        let clock = ContinuousClock()
        let tip = chain.manifest.blocks
        let node: TapyrusNode
        var started = clock.now
        switch settings.mode {
        case .reindex:
            options.arguments = settings.arguments(reindex: "-reindex")
            node = try await TapyrusNode.start(options: options, binaries: binaries)
        case .reindexChainstate:
            options.arguments = settings.arguments(reindex: "-reindex")
            node = try await TapyrusNode.start(options: options, binaries: binaries)
            do {
                _ = try await waitForTip(node: node, tip: tip, clock: clock, phase: "the untimed -reindex import")
                try await node.stop()
                if settings.dropPageCache { try Self.dropPageCache() }
                started = clock.now
                try await node.restart(arguments: settings.arguments(reindex: "-reindex-chainstate"))
            } catch {
                await node.finish(passed: false)
                throw error
            }
        }
        do {
            guard let pid = await node.pid else {
                throw BenchChainError.reindexFailed("tapyrusd exited at once: \(node.debugLogTail(lines: 5).joined(separator: " | "))")
            }
            gate.open(for: pid)
            let reached = try await waitForTip(node: node, tip: tip, clock: clock, phase: "the measured \(settings.mode.rawValue)")
            return (pid, node, (reached - started).seconds)
        } catch {
            await node.finish(passed: false)
            throw error
        }
    }

    /// Polls the node's height until it is `tip`; fails if the node exits,
    /// goes past the tip, or does not move for the stall timeout.
    private func waitForTip(node: TapyrusNode, tip: Int, clock: ContinuousClock, phase: String) async throws -> ContinuousClock.Instant {
        var lastHeight = -1
        var lastMove = clock.now
        while true {
            if let status = await node.exitStatus, await !node.isRunning {
                throw BenchChainError.reindexFailed("tapyrusd \(status) during \(phase) at height \(max(lastHeight, 0)) of \(tip); last log lines: "
                    + node.debugLogTail(lines: 4).joined(separator: " | ") + "; datadir kept: \(node.dataDirectory)")
            }
            let height = (try? await node.rpc.getBlockCount()) ?? lastHeight
            let now = clock.now
            if height == tip { return now }
            if height > tip {
                throw BenchChainError.reindexFailed("tapyrusd reached height \(height) beyond the chain's tip \(tip): not the cached chain")
            }
            if height != lastHeight {
                lastHeight = height
                lastMove = now
            } else if now - lastMove > settings.stallTimeout {
                throw BenchChainError.reindexFailed("the tip stayed at height \(max(height, 0)) of \(tip) for \(Int(settings.stallTimeout.seconds)) s during \(phase); last log lines: "
                    + node.debugLogTail(lines: 4).joined(separator: " | ") + "; datadir kept: \(node.dataDirectory)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Writes 3 to `/proc/sys/vm/drop_caches` after syncing.
    static func dropPageCache() throws {
        sync()
        guard let handle = FileHandle(forWritingAtPath: "/proc/sys/vm/drop_caches") else {
            throw BenchChainError.reindexFailed("cannot drop the page cache: /proc/sys/vm/drop_caches is not writable (needs root)")
        }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: Data("3\n".utf8))
        } catch {
            throw BenchChainError.reindexFailed("cannot drop the page cache: \(error.localizedDescription)")
        }
    }
}

/// Reads ConnectBlock's `-debug=bench` timings from a `debug.log`.
public enum BenchLog {
    /// Microseconds of `  - Connect total: X.XXms` per height, the height taken
    /// from the next `UpdateTip: ... height=N` line.
    public static func connectTotals(inLogAt path: String) -> [Int: Double] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        return connectTotals(in: String(decoding: data, as: UTF8.self))
    }

    /// ``connectTotals(inLogAt:)`` of a log's text.
    public static func connectTotals(in log: String) -> [Int: Double] {
        var totals: [Int: Double] = [:]
        var pending: Double?
        for line in log.split(whereSeparator: \.isNewline) {
            if let range = line.range(of: "- Connect total: ") {
                let number = line[range.upperBound...].prefix { $0.isNumber || $0 == "." }
                pending = Double(number).map { $0 * 1000 }
            } else if line.contains("UpdateTip: "), let range = line.range(of: " height=") {
                let digits = line[range.upperBound...].prefix(while: \.isNumber)
                if let height = Int(digits), let value = pending { totals[height] = value }
                pending = nil
            }
        }
        return totals
    }
}

import BenchStore
import ConnectBlockBench
import Foundation
import TraceHarness
import TraceTools

/// Stores ConnectBlock runs in the baselines database (`connectblock --store`
/// and `bench connectblock`).
enum ConnectBlockStore {
    /// The database, opened before tracing so that a bad file fails at once.
    static func open(_ path: String) throws -> BaselineStore {
        try BaselineStore(path: path)
    }

    /// Records a `connectblock` run: the blocks one traced tapyrusd process connected.
    static func save(
        _ benchmark: ConnectBlockBenchmark, target: ToolTarget, into store: BaselineStore,
        chainName: String, label: String?
    ) async throws -> (run: Int64, complete: Bool) {
        let chain = Chain.Draft(
            name: chainName, generatorVersion: "external",
            parameters: ["source": "blocks connected by the traced tapyrusd (e.g. -reindex)"],
            blockCount: Int(benchmark.endHeight - benchmark.startHeight + 1)
        )
        return try await save(
            benchmark, build: try await BuildIdentity.of(binary: target.binary), label: label, chain: chain, into: store,
            parameters: ["binary": target.binary, "pid": benchmark.blocks.isEmpty && target.pid == nil ? "none" : "\(benchmark.pid)",
                         "traced": target.pid == nil ? "every process of the binary" : "process \(benchmark.pid)"],
            wallSeconds: Double(benchmark.tookMilliseconds) / 1000, notes: "tapyrus-trace connectblock"
        )
    }

    /// Records the build, machine and chain, then the run and its blocks; the
    /// run is complete only if the end height was connected and no height in
    /// range is missing. Returns the run's id.
    static func save(
        _ benchmark: ConnectBlockBenchmark, build identity: BuildIdentity, label: String?, chain: Chain.Draft, into store: BaselineStore,
        parameters: [String: String], wallSeconds: Double, notes: String
    ) async throws -> (run: Int64, complete: Bool) {
        let build = try await store.recordBuild(Build.Draft(sha256: identity.sha256, version: identity.version ?? "unknown", label: label))
        let machine = try await store.recordMachine(Machine.current())
        let chain = try await store.recordChain(chain)
        var runParameters = parameters
        runParameters["start_height"] = "\(benchmark.startHeight)"
        runParameters["end_height"] = "\(benchmark.endHeight)"
        runParameters["threshold_ms"] = "\(benchmark.thresholdMilliseconds)"
        let run = try await store.beginRun(build: build.id, machine: machine.id, chain: chain.id, parameters: runParameters, notes: notes)
        let measurements = benchmark.blocks.map { block in
            BlockMeasurement(height: Int(block.height), hash: block.hash.hex, transactions: Int(block.transactions),
                             inputs: Int(block.inputs), sigops: Int(block.sigops), durationMicros: block.durationMicroseconds)
        }
        if !measurements.isEmpty { try await store.appendBlocks(run: run, measurements) }
        let missing = benchmark.missingHeights
        if benchmark.isComplete && !measurements.isEmpty && missing.isEmpty {
            try await store.completeRun(run, wallSeconds: wallSeconds)
            return (run, true)
        }
        let reason = measurements.isEmpty ? "no block in range was connected"
            : missing.isEmpty ? "stopped before height \(benchmark.endHeight)"
            : "heights missing: \(missing.prefix(10).map(String.init).joined(separator: ", "))"
        try await store.failRun(run, reason: reason, wallSeconds: wallSeconds)
        return (run, false)
    }
}

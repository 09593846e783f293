import BenchStore
import Foundation
import TraceHarness

/// Stores a connectblock run in the baselines database (`--store`).
enum ConnectBlockStore {
    /// The database, opened before tracing so that a bad file fails at once.
    static func open(_ path: String) throws -> BaselineStore {
        try BaselineStore(path: path)
    }

    /// Records the build, machine and chain, then the run and its blocks; the
    /// run is complete only if the end height was connected.
    /// Returns the run's id.
    static func save(
        _ benchmark: ConnectBlockBenchmark, target: ToolTarget, into store: BaselineStore,
        chainName: String, label: String?
    ) async throws -> (run: Int64, complete: Bool) {
        let identity = try await BuildIdentity.of(binary: target.binary)
        let build = try await store.recordBuild(Build(sha256: identity.sha256, version: identity.version ?? "unknown", label: label))
        let machine = try await store.recordMachine(Machine.current())
        let chain = try await store.recordChain(Chain(
            name: chainName, generatorVersion: "external",
            parameters: ["source": "blocks connected by the traced tapyrusd (e.g. -reindex)"],
            blockCount: Int(benchmark.endHeight - benchmark.startHeight + 1)
        ))
        guard let buildID = build.id, let machineID = machine.id, let chainID = chain.id else {
            throw CommandFailure("the baselines database returned a record without an id")
        }
        let run = try await store.beginRun(
            build: buildID, machine: machineID, chain: chainID,
            parameters: [
                "start_height": "\(benchmark.startHeight)", "end_height": "\(benchmark.endHeight)",
                "threshold_ms": "\(benchmark.thresholdMilliseconds)", "binary": target.binary,
                "pid": target.pid.map { "\($0)" } ?? "all",
            ],
            notes: "tapyrus-trace connectblock"
        )
        let measurements = benchmark.blocks.map { block in
            BlockMeasurement(height: Int(block.height), hash: block.hash.hex, transactions: Int(block.transactions),
                             inputs: Int(block.inputs), sigops: Int(block.sigops), durationMicros: block.durationMicroseconds)
        }
        let seconds = Double(benchmark.tookMilliseconds) / 1000
        if !measurements.isEmpty { try await store.appendBlocks(run: run, measurements) }
        if benchmark.finishedReason != nil && !measurements.isEmpty {
            try await store.completeRun(run, wallSeconds: seconds)
            return (run, true)
        }
        let reason = measurements.isEmpty ? "no block in range was connected" : "stopped before height \(benchmark.endHeight)"
        try await store.failRun(run, reason: reason, wallSeconds: seconds)
        return (run, false)
    }
}

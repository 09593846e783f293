import ArgumentParser
import BenchStore
import ConnectBlockBench
import Foundation
import TraceHarness

/// Which runs `baseline compare` and `baseline report` put side by side, and
/// how a difference is judged.
struct ComparisonSelection: ParsableArguments {
    @Option(help: ArgumentHelp("The baseline: a run id or a build.", valueName: "run|build"))
    var baseline: String?

    @Option(help: ArgumentHelp("The candidate: a run id or a build.", valueName: "run|build"))
    var candidate: String?

    @Option(help: ArgumentHelp("The smallest change that counts, in percent.", valueName: "pct"))
    var threshold: Double = 5

    @Option(help: ArgumentHelp("The significance level; the interval's level is 1 - alpha.", valueName: "alpha"))
    var alpha: Double = 0.05

    func validate() throws {
        if !(threshold >= 0 && threshold.isFinite) { throw ValidationError("--threshold must be a percentage of 0 or more") }
        if !(alpha > 0 && alpha < 0.5) { throw ValidationError("--alpha must be between 0 and 0.5 (0.05 is usual)") }
    }

    /// One side: its runs (repetitions) and their blocks.
    struct Side {
        var runs: [RunSummary]
        var durations: BlockDurations
        var first: RunSummary { runs[0] }
        var label: String {
            let ids = runs.map { "\($0.id)" }.joined(separator: ", ")
            return (runs.count == 1 ? "run \(ids)" : "runs \(ids)") + " (build \(Baseline.buildName(first.build)), \(first.build.version))"
        }
    }

    /// Resolves both sides in `store`, checks they connected the same chain
    /// (warning when machines differ) and compares them.
    func compare(in store: BaselineStore) async throws -> (baseline: Side, candidate: Side, comparison: RegressionComparison) {
        let candidateSide = try await candidateRuns(store)
        let first = candidateSide[0]
        let baselineSide = try await baselineRuns(store, chain: first.run.chainId, machine: first.run.machineId, chainName: first.chain.name, host: first.machine.host)
        let b = baselineSide[0]
        if b.run.chainId != first.run.chainId {
            throw CommandFailure("runs \(b.id) and \(first.id) connected different chains (\(b.chain.name) vs \(first.chain.name)); compare runs of the same chain")
        }
        if b.run.machineId != first.run.machineId {
            Output.note("warning: runs \(b.id) and \(first.id) ran on different machines (\(b.machine.host), \(b.machine.cpuModel) vs \(first.machine.host), \(first.machine.cpuModel)); the difference may be the machine's, not the build's")
        }
        let overlap = Set(baselineSide.map(\.id)).intersection(candidateSide.map(\.id))
        if !overlap.isEmpty {
            Output.note("warning: run \(overlap.sorted().map(String.init).joined(separator: ", ")) is on both sides")
        }
        let baseSide = Side(runs: baselineSide, durations: try await durations(baselineSide, store))
        let candSide = Side(runs: candidateSide, durations: try await durations(candidateSide, store))
        for summary in baselineSide + candidateSide where summary.run.status != .complete {
            Output.note("warning: run \(summary.id) is \(Baseline.status(summary.run)); its blocks are compared anyway")
        }
        let comparison = try RegressionComparison(
            baseline: baseSide.durations, candidate: candSide.durations,
            options: ComparisonOptions(thresholdPercent: threshold, alpha: alpha))
        return (baseSide, candSide, comparison)
    }

    private func candidateRuns(_ store: BaselineStore) async throws -> [RunSummary] {
        guard let candidate else {
            guard let latest = try await store.runs(status: .complete).max(by: { ($0.run.started, $0.id) < ($1.run.started, $1.id) }) else {
                throw CommandFailure("no complete run in \(store.path) to compare; store one with `tapyrus-trace connectblock --store`")
            }
            return [latest]
        }
        switch try await Baseline.resolve(candidate, in: store) {
        case .run(let id):
            return [try await store.run(id)]
        case .build(let text):
            let build = try await store.build(matching: text)
            let runs = try await store.runs(build: build.id!, status: .complete)
            guard let latest = runs.last else {
                throw CommandFailure("build \(text) has no complete run in \(store.path); benchmark it first")
            }
            return runs.filter { $0.run.chainId == latest.run.chainId && $0.run.machineId == latest.run.machineId }
        }
    }

    private func baselineRuns(_ store: BaselineStore, chain: Int64, machine: Int64, chainName: String, host: String) async throws -> [RunSummary] {
        guard let baseline else {
            guard let stored = try await store.baseline(chain: chain, machine: machine) else {
                throw CommandFailure("no baseline is set for chain \(chainName) on \(host); set one with `tapyrus-trace baseline set-baseline RUN|BUILD` or pass --baseline")
            }
            return [stored]
        }
        switch try await Baseline.resolve(baseline, in: store) {
        case .run(let id):
            return [try await store.run(id)]
        case .build(let text):
            let build = try await store.build(matching: text)
            let runs = try await store.runs(build: build.id!, status: .complete)
            if runs.isEmpty { throw CommandFailure("build \(text) has no complete run in \(store.path); benchmark it first") }
            let same = runs.filter { $0.run.chainId == chain && $0.run.machineId == machine }
            if !same.isEmpty { return same }
            let sameChain = runs.filter { $0.run.chainId == chain }
            if !sameChain.isEmpty { return sameChain }
            // None connected this chain: the check of chains says so.
            return [runs.last!]
        }
    }

    private func durations(_ runs: [RunSummary], _ store: BaselineStore) async throws -> BlockDurations {
        var durations = BlockDurations()
        for summary in runs {
            let blocks = try await store.blocks(run: summary.id)
            if blocks.isEmpty {
                throw CommandFailure("run \(summary.id) has no blocks; there is nothing to compare")
            }
            var repetition: [Int: Double] = [:]
            for block in blocks { repetition[block.height] = Double(block.durationMicros) }
            durations.add(repetition: repetition)
        }
        return durations
    }
}

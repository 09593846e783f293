import ConnectBlockBench
import Foundation

/// Which stored runs make one side of a comparison.
public enum RunSelection: Sendable, Hashable {
    /// The latest complete run (the candidate's default).
    case latestComplete
    /// The baseline set for the other side's chain and machine (the baseline's default).
    case storedBaseline
    /// One run, by id.
    case run(Int64)
    /// The complete runs of a build (its id, label or SHA-256 prefix) on the
    /// chain and machine compared, as repetitions.
    case build(String)
}

/// One side of a comparison: its runs (repetitions, at least one) and the
/// durations of their blocks.
public struct ComparedSide: Sendable {
    public var runs: [RunSummary]
    public var durations: BlockDurations

    /// The side's first run: its build, chain and machine are the side's.
    public var first: RunSummary { runs[0] }

    /// `run 3 (build release, 0.6.0)` or `runs 3, 5 (build …)`.
    public var label: String {
        let ids = runs.map { "\($0.id)" }.joined(separator: ", ")
        return (runs.count == 1 ? "run \(ids)" : "runs \(ids)") + " (build \(first.build.displayName), \(first.build.version))"
    }
}

/// Two sides read from the store and compared height by height by the
/// benchmark's statistics (``RegressionComparison``).
public struct StoredComparison: Sendable {
    public var baseline: ComparedSide
    public var candidate: ComparedSide
    public var comparison: RegressionComparison
    /// What the user should know about the sides, one line each: different
    /// machines, a run on both sides, runs that never completed.
    public var warnings: [String]
}

extension BaselineStore {
    /// Resolves both sides, checks that they connected the same chain and
    /// compares their blocks' durations.
    ///
    /// - Throws: a ``BaselineStoreError`` when a side names nothing, has no
    ///   blocks, or connected another chain; a ``StatisticsError`` when the
    ///   sides cannot be compared (too few heights in common).
    public func compare(baseline: RunSelection, candidate: RunSelection, options: ComparisonOptions) async throws -> StoredComparison {
        let candidateRuns = try await runs(candidate, like: nil)
        let first = candidateRuns[0]
        let baselineRuns = try await runs(baseline, like: first)
        let base = baselineRuns[0]
        if base.run.chainId != first.run.chainId {
            throw BaselineStoreError(.incomparable, "runs \(base.id) and \(first.id) connected different chains (\(base.chain.name) vs \(first.chain.name)); compare runs of the same chain")
        }
        var warnings: [String] = []
        if base.run.machineId != first.run.machineId {
            warnings.append("runs \(base.id) and \(first.id) ran on different machines (\(base.machine.host), \(base.machine.cpuModel) vs \(first.machine.host), \(first.machine.cpuModel)); the difference may be the machine's, not the build's")
        }
        let overlap = Set(baselineRuns.map(\.id)).intersection(candidateRuns.map(\.id))
        if !overlap.isEmpty {
            warnings.append("run \(overlap.sorted().map(String.init).joined(separator: ", ")) is on both sides")
        }
        let baselineSide = ComparedSide(runs: baselineRuns, durations: try await durations(of: baselineRuns))
        let candidateSide = ComparedSide(runs: candidateRuns, durations: try await durations(of: candidateRuns))
        for summary in baselineRuns + candidateRuns where summary.run.status != .complete {
            warnings.append("run \(summary.id) is \(summary.run.status == .running ? "incomplete" : summary.run.status.rawValue); its blocks are compared anyway")
        }
        let comparison = try RegressionComparison(baseline: baselineSide.durations, candidate: candidateSide.durations, options: options)
        return StoredComparison(baseline: baselineSide, candidate: candidateSide, comparison: comparison, warnings: warnings)
    }

    /// The durations of `runs`' blocks, one repetition per run.
    ///
    /// - Throws: ``BaselineStoreError/Kind/noBlocks`` for a run without blocks.
    public func durations(of runs: [RunSummary]) async throws -> BlockDurations {
        var durations = BlockDurations()
        for summary in runs {
            let blocks = try await self.blocks(run: summary.id)
            if blocks.isEmpty {
                throw BaselineStoreError(.noBlocks, "run \(summary.id) has no blocks; there is nothing to compare")
            }
            durations.add(repetition: Dictionary(blocks.map { ($0.height, Double($0.durationMicros)) }) { _, last in last })
        }
        return durations
    }

    /// Each build's median µs/block over its complete runs on `chain` and
    /// `machine`, with a 95% bootstrap interval over heights, oldest first.
    public func buildMedians(chain: Int64, machine: Int64) async throws -> [BaselineReport.BuildPoint] {
        let runs = try await self.runs(machine: machine, chain: chain, status: .complete)
        var points: [BaselineReport.BuildPoint] = []
        for buildRuns in Dictionary(grouping: runs, by: \.run.buildId).values {
            let values = Array(try await durations(of: buildRuns).medians().values)
            guard let latest = buildRuns.map(\.run.started).max() else { continue }
            let median = Descriptive.medianInterval(values)
            points.append(.init(label: buildRuns[0].build.displayName, date: latest,
                                medianMicros: median.ratio, ciLowMicros: median.lower, ciHighMicros: median.upper))
        }
        return points.sorted { $0.date < $1.date }
    }

    /// The runs `selection` names. A build's runs are those of `candidate`'s
    /// chain and machine (for the candidate itself: of its latest run's) where
    /// it has some, else of the chain, else its latest run (the check of
    /// chains then refuses it).
    private func runs(_ selection: RunSelection, like candidate: RunSummary?) async throws -> [RunSummary] {
        switch selection {
        case .latestComplete:
            guard let latest = try await runs(status: .complete).max(by: { ($0.run.started, $0.id) < ($1.run.started, $1.id) }) else {
                throw BaselineStoreError(.runNotComplete, "no complete run in \(path) to compare; store one with `tapyrus-trace connectblock --store`")
            }
            return [latest]
        case .storedBaseline:
            guard let candidate else {
                throw BaselineStoreError(.noBaseline, "a stored baseline is the baseline of a candidate; name the candidate's run or build")
            }
            guard let stored = try await baseline(chain: candidate.run.chainId, machine: candidate.run.machineId) else {
                throw BaselineStoreError(.noBaseline, "no baseline is set for chain \(candidate.chain.name) on \(candidate.machine.host); set one with `tapyrus-trace baseline set-baseline RUN|BUILD` or pass --baseline")
            }
            return [stored]
        case .run(let id):
            return [try await run(id)]
        case .build(let reference):
            let runs = try await completeRuns(ofBuild: reference)
            let like = candidate ?? runs[runs.count - 1]
            let same = runs.filter { $0.run.chainId == like.run.chainId && $0.run.machineId == like.run.machineId }
            if !same.isEmpty { return same }
            let sameChain = runs.filter { $0.run.chainId == like.run.chainId }
            return sameChain.isEmpty ? [runs[runs.count - 1]] : sameChain
        }
    }

    /// The complete runs of the build `reference` names, oldest first; at least one.
    private func completeRuns(ofBuild reference: String) async throws -> [RunSummary] {
        let build = try await self.build(matching: reference)
        let runs = try await self.runs(build: build.id, status: .complete)
        guard !runs.isEmpty else {
            throw BaselineStoreError(.runNotComplete, "build \(reference) has no complete run in \(path); benchmark it first")
        }
        return runs
    }
}

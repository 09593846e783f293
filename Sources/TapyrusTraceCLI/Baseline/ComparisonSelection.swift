import ArgumentParser
import BenchStore
import ConnectBlockBench
import Foundation

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

    /// Reads both sides from `store` and compares them; the warnings (other
    /// machines, a run on both sides, incomplete runs) go to standard error.
    func compare(in store: BaselineStore) async throws -> StoredComparison {
        let compared = try await store.compare(
            baseline: try await selection(baseline, in: store, default: .storedBaseline),
            candidate: try await selection(candidate, in: store, default: .latestComplete),
            options: ComparisonOptions(thresholdPercent: threshold, alpha: alpha))
        for warning in compared.warnings { Output.note("warning: \(warning)") }
        return compared
    }

    private func selection(_ reference: String?, in store: BaselineStore, default fallback: RunSelection) async throws -> RunSelection {
        guard let reference else { return fallback }
        switch try await Baseline.resolve(reference, in: store) {
        case .run(let id): return .run(id)
        case .build(let text): return .build(text)
        }
    }
}

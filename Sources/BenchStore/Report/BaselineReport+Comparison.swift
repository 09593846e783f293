import ConnectBlockBench
import Foundation

extension BaselineReport {
    /// The report of a stored comparison: the builds' medians on the
    /// candidate's chain and machine, both sides' per-height medians, the
    /// candidate's histogram and the verdict.
    public init(_ compared: StoredComparison, builds: [BuildPoint], generated: Date = Date()) {
        let first = compared.candidate.first
        let comparison = compared.comparison
        let candidateMedians = compared.candidate.durations.medians()
        self.init(
            subtitle: "chain \(first.chain.name) · machine \(first.machine.host), \(first.machine.cpuModel), \(first.machine.cores) cores · \(first.machine.kernel)",
            generated: generated,
            builds: builds,
            baselineName: compared.baseline.label, candidateName: compared.candidate.label,
            baselineDurations: Self.heights(compared.baseline.durations.medians()),
            candidateDurations: Self.heights(candidateMedians),
            histogram: Self.histogram(ofMicros: Array(candidateMedians.values)),
            verdicts: [VerdictRow(
                scenario: "\(first.chain.name) / ConnectBlock",
                baseline: "\(compared.baseline.label) · \(DurationText.micros(comparison.baselineMedianMicroseconds))",
                candidate: "\(compared.candidate.label) · \(DurationText.micros(comparison.candidateMedianMicroseconds))",
                effectPercent: comparison.effect.percentChange,
                ciLowPercent: (comparison.effect.lower - 1) * 100, ciHighPercent: (comparison.effect.upper - 1) * 100,
                pValue: comparison.wilcoxon.pValue, verdict: comparison.verdict.rawValue)])
    }

    static func heights(_ medians: [Int: Double]) -> [HeightDuration] {
        medians.sorted { $0.key < $1.key }.map { .init(height: $0.key, micros: $0.value) }
    }
}

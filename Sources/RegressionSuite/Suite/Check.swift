import Foundation
import Synchronization

/// Records a scenario's comparisons: agreement as evidence, disagreement as
/// failure, and known upstream bugs pinned to the exact wrong value they give.
///
/// A known upstream bug is never a loosened assertion. Each record names the
/// documented value *and* the wrong value tapyrusd gives today:
///
/// ```swift
/// check.knownIssue(
///     "utxocache_add passes colour id \"TPC\" for coloured coins",
///     "colour id of the coloured add",
///     arrived: event.colourID, documented: coin.colourID, today: "TPC")
/// ```
///
/// - If the value arrives as `today`, the bug reproduced: it is recorded as a
///   known issue, and the scenario passes.
/// - If it arrives as `documented`, the bug is fixed upstream: the scenario
///   fails so that the record is removed.
/// - If it arrives as anything else, tapyrusd changed its wrong behaviour in
///   another wrong way: the scenario fails.
public final class Check: Sendable {
    private struct State {
        var evidence: [String] = []
        var failures: [String] = []
        var knownIssues: [String] = []
        var kept: [String] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Records `what` as agreed if `actual == expected`, else as a failure.
    @discardableResult
    public func equal<T: Equatable>(_ actual: T, _ expected: T, _ what: @autoclosure () -> String) -> Bool {
        that(actual == expected, what(), detail: "expected \(expected), arrived \(actual)")
    }

    /// Records `what` as agreed if `value` lies in `range`, else as a failure.
    ///
    /// Use it only with a two-sided range derived from ground truth.
    @discardableResult
    public func within<T: Comparable>(_ value: T, _ range: ClosedRange<T>, _ what: @autoclosure () -> String) -> Bool {
        that(range.contains(value), what(), detail: "\(value) not in \(range.lowerBound)...\(range.upperBound)")
    }

    /// Records `what` as agreed if `condition` holds.
    @discardableResult
    public func that(_ condition: Bool, _ what: @autoclosure () -> String, detail: @autoclosure () -> String = "") -> Bool {
        let text = what()
        if condition {
            state.withLock { $0.evidence.append(text) }
        } else {
            let detailText = detail()
            let line = detailText.isEmpty ? text : "\(text): \(detailText)"
            state.withLock { $0.failures.append(line) }
        }
        return condition
    }

    /// Records a failure that is not a comparison (a missing event, an error).
    public func fail(_ what: String) {
        state.withLock { $0.failures.append(what) }
    }

    /// Compares a value that a known upstream bug makes wrong with both the
    /// documented value and the exact wrong value it has today.
    ///
    /// - Parameters:
    ///   - explanation: the bug, as the scenario's reader should understand it.
    ///   - what: the field compared.
    ///   - arrived: what the event carries.
    ///   - documented: what it would carry without the bug.
    ///   - today: what the bug makes it carry; must differ from `documented`.
    public func knownIssue<T: Equatable>(
        _ explanation: String, _ what: @autoclosure () -> String,
        arrived: T, documented: T, today: T
    ) {
        knownIssue(explanation, what(), isDocumented: arrived == documented, isToday: arrived == today,
                   documented: "\(documented)", today: "\(today)", arrived: "\(arrived)")
    }

    /// Compares a value that a known upstream bug makes wrong, where the
    /// documented and today's values are properties rather than single values
    /// (e.g. "an address inside the node's memory").
    ///
    /// - Parameters:
    ///   - isDocumented: whether the arrived value is what the documentation promises.
    ///   - isToday: whether it is exactly the wrong value the bug gives today.
    ///   - documented, today, arrived: descriptions for the record.
    public func knownIssue(
        _ explanation: String, _ what: String,
        isDocumented: Bool, isToday: Bool,
        documented: String, today: String, arrived: String
    ) {
        let line: String
        switch (isDocumented, isToday) {
        case (true, _):
            line = "known issue no longer reproduces (remove its record): \(explanation): \(what) is now the documented \(documented)"
            state.withLock { $0.failures.append(line) }
        case (false, true):
            line = "\(explanation)\n    \(what): documented \(documented), today \(today), arrived \(arrived)"
            state.withLock {
                $0.knownIssues.append(line)
                $0.evidence.append("\(what): the known wrong value \(arrived) (\(explanation))")
            }
        case (false, false):
            line = "\(what): expected \(documented) (documented) or \(today) (the known upstream bug: \(explanation)), arrived \(arrived)"
            state.withLock { $0.failures.append(line) }
        }
    }

    /// Notes a datadir or log kept for a failed run.
    public func keep(_ path: String) {
        state.withLock { $0.kept.append(path) }
    }

    /// Whether any comparison failed so far.
    public var hasFailures: Bool { state.withLock { !$0.failures.isEmpty } }

    /// What was compared and agreed so far.
    public var evidence: [String] { state.withLock { $0.evidence } }

    /// What disagreed so far.
    public var failures: [String] { state.withLock { $0.failures } }

    /// The known upstream bugs that reproduced so far.
    public var knownIssues: [String] { state.withLock { $0.knownIssues } }

    func verdict(for scenario: any Scenario, seconds: Double, error: (any Error)?) -> ScenarioVerdict {
        state.withLock { state in
            var failures = state.failures
            if let error { failures.append("stopped by error: \(error)") }
            return ScenarioVerdict(
                scenario: scenario.name,
                tracepoints: scenario.tracepoints.map(\.description),
                coverage: scenario.coverage,
                outcome: failures.isEmpty ? .passed : .failed,
                evidence: state.evidence, failures: failures, knownIssues: state.knownIssues, kept: state.kept,
                seconds: seconds
            )
        }
    }
}

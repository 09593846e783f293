import Foundation
import NodeControl
import TraceHarness

/// One regression scenario: drives real tapyrusd nodes into the states where
/// some tracepoints fire and compares their events with ground truth from RPC
/// or from what our own raw peer sent.
public protocol Scenario: Sendable {
    /// A short name, unique in the catalogue (`utxocache-add-spent`).
    var name: String { get }
    /// The tracepoints it asserts.
    var tracepoints: [ProbeName] { get }
    /// Runs the scenario, recording every comparison in `check`.
    func run(_ context: ScenarioContext, _ check: Check) async throws
}

/// What a scenario works with: the binaries and the shared tracer.
public struct ScenarioContext: Sendable {
    public var binaries: TapyrusBinaries
    /// Attached once to every probe of `binaries.tapyrusd`, for all processes.
    public var tracer: Tracer
    /// How long to wait for expected events.
    public var eventTimeout: Duration = .seconds(20)

    public init(binaries: TapyrusBinaries, tracer: Tracer) {
        self.binaries = binaries
        self.tracer = tracer
    }

    /// Starts a node for this scenario, named after it.
    public func startNode(_ name: String, configure: (inout NodeOptions) -> Void = { _ in }) async throws -> TapyrusNode {
        var options = NodeOptions(name: name)
        configure(&options)
        return try await TapyrusNode.start(options: options, binaries: binaries)
    }

    /// Starts recording the events of process `pid`.
    public func record(pid: Int32) -> EventRecording {
        EventRecording(tracer: tracer, pid: pid, timeout: eventTimeout)
    }

    /// Starts recording the events of `node`'s process.
    public func record(_ node: TapyrusNode) async throws -> EventRecording {
        guard let pid = await node.pid else { throw ScenarioError("node \(node.name) is not running") }
        return record(pid: pid)
    }
}

/// A scenario could not go on (a setup step failed).
public struct ScenarioError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Unwraps a value a scenario cannot go on without.
func requireScenario<T>(_ value: T?, _ what: String) throws -> T {
    guard let value else { throw ScenarioError("missing \(what)") }
    return value
}

/// The outcome of one scenario, with its evidence.
public struct ScenarioVerdict: Sendable, Codable {
    public enum Outcome: String, Sendable, Codable {
        case passed, failed, skipped
    }

    public var scenario: String
    public var tracepoints: [String]
    public var outcome: Outcome
    /// What was compared and agreed, one line each.
    public var evidence: [String]
    /// What disagreed: expected, arrived.
    public var failures: [String]
    /// Known upstream bugs that reproduced, with their explanations.
    public var knownIssues: [String]
    /// Datadirs and logs kept for a failed run.
    public var kept: [String]
    public var seconds: Double

    public var passed: Bool { outcome != .failed }
}

/// Records comparisons: agreement as evidence, disagreement as failure.
///
/// Known upstream bugs are wrapped in ``knownIssue(_:_:)``: their failures
/// are recorded as known issues, and if the bug no longer reproduces the
/// scenario fails, so that the record is removed.
public final class Check: @unchecked Sendable {
    private let lock = NSLock()
    private var evidence: [String] = []
    private var failures: [String] = []
    private var knownIssues: [String] = []
    private var kept: [String] = []
    private var inKnownIssue: [String] = []

    public init() {}

    /// Records `what` as agreed if `actual == expected`, else as a failure.
    @discardableResult
    public func equal<T: Equatable>(_ actual: T, _ expected: T, _ what: @autoclosure () -> String) -> Bool {
        that(actual == expected, what(), detail: "expected \(expected), arrived \(actual)")
    }

    /// Records `what` as agreed if `condition` holds.
    @discardableResult
    public func that(_ condition: Bool, _ what: @autoclosure () -> String, detail: @autoclosure () -> String = "") -> Bool {
        let text = what()
        lock.withLock {
            if condition {
                evidence.append(text)
            } else {
                let detailText = detail()
                let line = detailText.isEmpty ? text : "\(text): \(detailText)"
                if inKnownIssue.isEmpty { failures.append(line) } else { inKnownIssue[inKnownIssue.count - 1] += "\n" + line }
            }
        }
        return condition
    }

    /// Records a failure that is not a comparison (a missing event, an error).
    public func fail(_ what: String) {
        lock.withLock { failures.append(what) }
    }

    /// Runs comparisons expected to fail because of a known upstream bug.
    public func knownIssue(_ explanation: String, _ body: () throws -> Void) rethrows {
        lock.withLock { inKnownIssue.append("") }
        defer {
            lock.withLock {
                let observed = inKnownIssue.removeLast()
                if observed.isEmpty {
                    failures.append("known issue no longer reproduces (remove its record): \(explanation)")
                } else {
                    knownIssues.append(explanation + observed.replacingOccurrences(of: "\n", with: "\n    "))
                }
            }
        }
        try body()
    }

    /// Notes a datadir or log kept for a failed run.
    public func keep(_ path: String) {
        lock.withLock { kept.append(path) }
    }

    var hasFailures: Bool { lock.withLock { !failures.isEmpty } }

    func verdict(for scenario: any Scenario, seconds: Double, error: (any Error)?) -> ScenarioVerdict {
        lock.withLock {
            var failures = self.failures
            if let error { failures.append("stopped by error: \(error)") }
            return ScenarioVerdict(
                scenario: scenario.name,
                tracepoints: scenario.tracepoints.map(\.description),
                outcome: failures.isEmpty ? .passed : .failed,
                evidence: evidence, failures: failures, knownIssues: knownIssues, kept: kept,
                seconds: seconds
            )
        }
    }
}

extension Scenario {
    /// Runs the scenario and returns its verdict; never throws.
    public func verdict(in context: ScenarioContext) async -> ScenarioVerdict {
        let check = Check()
        let start = ContinuousClock.now
        var failure: (any Error)?
        let before = context.tracer.statistics()
        do {
            try await run(context, check)
        } catch {
            failure = error
        }
        await context.tracer.drain()
        let after = context.tracer.statistics()
        check.equal(after.lost - before.lost, 0, "no event lost while the scenario ran")
        check.equal(after.payloadsCut - before.payloadsCut, 0, "no payload cut while the scenario ran")
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        return check.verdict(for: self, seconds: Double(seconds) + Double(attoseconds) / 1e18, error: failure)
    }
}

/// Runs `body` with a node for the scenario, finishing the node afterwards:
/// its datadir is removed if the scenario has no failures, else kept and
/// noted in the verdict.
public func withScenarioNode<R: Sendable>(
    _ context: ScenarioContext, _ check: Check, name: String,
    configure: (inout NodeOptions) -> Void = { _ in },
    _ body: (TapyrusNode) async throws -> R
) async throws -> R {
    let node = try await context.startNode(name, configure: configure)
    do {
        let result = try await body(node)
        let passed = !check.hasFailures
        if !passed { check.keep("\(node.name): \(node.dataDirectory) (log: \(node.networkDirectory)/debug.log)") }
        await node.finish(passed: passed)
        return result
    } catch {
        check.keep("\(node.name): \(node.dataDirectory) (log: \(node.networkDirectory)/debug.log)")
        await node.finish(passed: false)
        throw error
    }
}

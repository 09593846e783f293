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
    /// The paths and values of its tracepoints it drives the node into, and
    /// those it cannot reach in dev mode (see ``PathCoverage``).
    var coverage: [PathCoverage] { get }
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
    /// The processes this scenario started or recorded, whose every hit its
    /// verdict accounts for (a fresh set for each verdict).
    public var processes = ScenarioProcesses()

    public init(binaries: TapyrusBinaries, tracer: Tracer) {
        self.binaries = binaries
        self.tracer = tracer
    }

    /// Starts a node for this scenario, named after it; its process is the
    /// scenario's from its first event.
    public func startNode(_ name: String, configure: (inout NodeOptions) -> Void = { _ in }) async throws -> TapyrusNode {
        var options = NodeOptions(name: name)
        configure(&options)
        let before = tracer.countsByProcess()
        let node = try await TapyrusNode.start(options: options, binaries: binaries)
        if let pid = await node.pid { processes.register(pid, before: before[pid] ?? .none(pid)) }
        return node
    }

    /// Starts a node for the scenario like ``startNode(_:configure:)``, with
    /// a recording of its events from its very first one: for what a node
    /// does while it starts, before its RPC answers (the connections of
    /// `-connect` and `-seednode`).
    public func startRecordedNode(_ name: String, configure: (inout NodeOptions) -> Void = { _ in }) async throws -> (TapyrusNode, EventRecording) {
        let recording = EventRecording(tracer: tracer, pid: nil, timeout: eventTimeout)
        let node = try await startNode(name, configure: configure)
        guard let pid = await node.pid else { throw ScenarioError("node \(node.name) is not running") }
        await recording.adopt(pid: pid)
        return (node, recording)
    }

    /// Restarts `node` (see ``TapyrusNode/restart(arguments:)``); its new
    /// process is the scenario's from its first event.
    public func restart(_ node: TapyrusNode, arguments: [String] = []) async throws {
        let before = tracer.countsByProcess()
        try await node.restart(arguments: arguments)
        if let pid = await node.pid { processes.register(pid, before: before[pid] ?? .none(pid)) }
    }

    /// Starts recording the events of process `pid`, which becomes the
    /// scenario's if it is not already.
    public func record(pid: Int32) -> EventRecording {
        processes.register(pid, before: nil)
        return EventRecording(tracer: tracer, pid: pid, timeout: eventTimeout)
    }

    /// Starts recording the events of `node`'s process.
    public func record(_ node: TapyrusNode) async throws -> EventRecording {
        guard let pid = await node.pid else { throw ScenarioError("node \(node.name) is not running") }
        return record(pid: pid)
    }
}

/// A scenario could not go on (a setup step failed).
public struct ScenarioError: Error, Sendable, CustomStringConvertible {
    public let description: String
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
    /// The paths and values the scenario declares (``Scenario/coverage``).
    public var coverage: [PathCoverage]
    public var outcome: Outcome
    /// What was compared and agreed, one line each.
    public var evidence: [String]
    /// What disagreed: expected, arrived.
    public var failures: [String]
    /// Known upstream bugs that reproduced, with their explanations.
    public var knownIssues: [String]
    /// Datadirs and logs kept for a failed run.
    public var kept: [String]
    /// The hits of each probe site (by address, `0x…`) by the scenario's own
    /// processes; the sites they never hit left out.
    public var siteHits: [String: UInt64] = [:]
    public var seconds: Double

    public var passed: Bool { outcome != .failed }
}

extension Scenario {
    /// Runs the scenario and returns its verdict; never throws.
    public func verdict(in context: ScenarioContext) async -> ScenarioVerdict {
        let check = Check()
        let start = ContinuousClock.now
        var failure: (any Error)?
        var context = context
        context.processes = ScenarioProcesses(initial: context.tracer.countsByProcess())
        do {
            try await run(context, check)
        } catch {
            failure = error
        }
        // Every hit of the scenario's own processes, and only theirs: a loss
        // in a scenario running beside this one is that scenario's failure.
        await context.tracer.drain()
        for pid in context.processes.pids {
            check.accounted(context.processes.statistics(of: pid, in: context.tracer), process: pid)
        }
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        var verdict = check.verdict(for: self, seconds: Double(seconds) + Double(attoseconds) / 1e18, error: failure)
        verdict.siteHits = context.processes.siteHits(in: context.tracer)
        return verdict
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
    try await finishing(try await context.startNode(name, configure: configure), check, body)
}

/// Runs `body` with a node for the scenario and the recording of its events
/// from its very first one (see ``ScenarioContext/startRecordedNode(_:configure:)``),
/// finishing the node afterwards like ``withScenarioNode(_:_:name:configure:_:)``.
public func withRecordedScenarioNode<R: Sendable>(
    _ context: ScenarioContext, _ check: Check, name: String,
    configure: (inout NodeOptions) -> Void = { _ in },
    _ body: (TapyrusNode, EventRecording) async throws -> R
) async throws -> R {
    let (node, recording) = try await context.startRecordedNode(name, configure: configure)
    return try await finishing(node, check) { try await body($0, recording) }
}

/// Runs `body` with `node`, then finishes it: its datadir removed if the
/// scenario has no failures, else kept and noted in the verdict.
private func finishing<R: Sendable>(_ node: TapyrusNode, _ check: Check, _ body: (TapyrusNode) async throws -> R) async throws -> R {
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

/// Runs `body` with several nodes for the scenario, started together (node
/// `index` configured by `configure(index, &options)`) and finished
/// afterwards like ``withScenarioNode(_:_:name:configure:_:)``: datadirs
/// removed if the scenario has no failures, else kept and noted.
public func withScenarioNodes<R: Sendable>(
    _ context: ScenarioContext, _ check: Check, names: [String],
    configure: @Sendable @escaping (Int, inout NodeOptions) -> Void = { _, _ in },
    _ body: ([TapyrusNode]) async throws -> R
) async throws -> R {
    let started = await withTaskGroup(of: (Int, Result<TapyrusNode, any Error>).self) { group in
        for (index, name) in names.enumerated() {
            group.addTask {
                do {
                    return (index, .success(try await context.startNode(name) { configure(index, &$0) }))
                } catch {
                    return (index, .failure(error))
                }
            }
        }
        var results: [(Int, Result<TapyrusNode, any Error>)] = []
        for await result in group { results.append(result) }
        return results.sorted { $0.0 < $1.0 }.map(\.1)
    }
    let nodes = started.compactMap { try? $0.get() }
    let finish = { (passed: Bool) in
        for node in nodes where !passed {
            check.keep("\(node.name): \(node.dataDirectory) (log: \(node.networkDirectory)/debug.log)")
        }
        await withTaskGroup(of: Void.self) { group in
            for node in nodes { group.addTask { await node.finish(passed: passed) } }
        }
    }
    for result in started {
        if case .failure(let error) = result {
            await finish(true)
            throw error
        }
    }
    do {
        let result = try await body(nodes)
        await finish(!check.hasFailures)
        return result
    } catch {
        await finish(false)
        throw error
    }
}

/// Runs `body` with two nodes for the scenario (see
/// ``withScenarioNodes(_:_:names:configure:_:)``), both configured alike.
public func withScenarioNodePair<R: Sendable>(
    _ context: ScenarioContext, _ check: Check, names: (String, String),
    configure: @Sendable @escaping (inout NodeOptions) -> Void = { _ in },
    _ body: (TapyrusNode, TapyrusNode) async throws -> R
) async throws -> R {
    try await withScenarioNodes(context, check, names: [names.0, names.1], configure: { _, options in configure(&options) }) { nodes in
        try await body(nodes[0], nodes[1])
    }
}

extension Duration {
    /// The duration in whole microseconds, rounded up (a bound from a wall
    /// time must not be shorter than the time it bounds).
    var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + (attoseconds + 999_999_999_999) / 1_000_000_000_000
    }
}

/// Runs `body` and returns its result with the wall time it took: the upper
/// bound for the durations of what it caused.
func timed<R>(_ body: () async throws -> R) async throws -> (R, Duration) {
    let start = ContinuousClock.now
    let result = try await body()
    return (result, ContinuousClock.now - start)
}

import NodeControl
import Synchronization
import Testing
@testable import RegressionSuite

/// The limiter `swift test` and `check` share: never more than its parallelism
/// at once, that many when there is work, and a finished body frees its slot.
///
/// No timing: every body is held at a gate the test opens, and the test looks
/// only when nothing can move any more (each caller either runs its body or
/// waits for a slot), so what it sees is what the limiter decided.
@Suite("ScenarioRunner: scenarios a bounded number at a time")
struct ScenarioRunnerTests {
    /// Bodies held until the test opens their gate, with what they saw.
    final class Bodies: Sendable {
        private struct State {
            var started: [Int] = []
            var finished: [Int] = []
            var running = 0
            var mostAtOnce = 0
            var open: Set<Int> = []
            var held: [Int: CheckedContinuation<Void, Never>] = [:]
            var reported: [String] = []
        }

        private let state = Mutex(State())

        var started: [Int] { state.withLock { $0.started } }
        var finished: [Int] { state.withLock { $0.finished } }
        var mostAtOnce: Int { state.withLock { $0.mostAtOnce } }
        /// The results the runner reported as finished.
        var reported: [String] { state.withLock { $0.reported } }

        func report(_ result: String) { state.withLock { $0.reported.append(result) } }

        /// Body `item`: counts itself in, waits for its gate, counts itself out.
        func body(_ item: Int) async -> String {
            state.withLock { state in
                state.started.append(item)
                state.running += 1
                state.mostAtOnce = max(state.mostAtOnce, state.running)
            }
            await withCheckedContinuation { continuation in
                let isOpen = state.withLock { state in
                    if state.open.contains(item) { return true }
                    state.held[item] = continuation
                    return false
                }
                if isOpen { continuation.resume() }
            }
            state.withLock { state in
                state.running -= 1
                state.finished.append(item)
            }
            return "result \(item)"
        }

        /// Lets body `item` finish (now, or as soon as it gets there).
        func open(_ item: Int) {
            let held = state.withLock { state in
                state.open.insert(item)
                return state.held.removeValue(forKey: item)
            }
            held?.resume()
        }
    }

    /// Waits until `finished` bodies have ended, every slot handed out is in
    /// its body and `quiet(running, waiting)` says no caller can move, and
    /// returns how many bodies run then.
    func settled(_ runner: ScenarioRunner, _ bodies: Bodies, finished: Int,
                 quiet: @Sendable (_ running: Int, _ waiting: Int) -> Bool) async throws -> Int {
        try await waitUntil("\(finished) bodies ended, every caller running or waiting", timeout: .seconds(30), interval: .milliseconds(5)) {
            let ended = bodies.finished.count
            let running = bodies.started.count - ended
            let waiting = await runner.waitingCount
            let slots = await runner.runningCount
            return ended == finished && slots == running && quiet(running, waiting)
                ? nil : "\(ended) ended, \(running) running, \(waiting) waiting, \(slots) slots taken"
        }
        return bodies.started.count - bodies.finished.count
    }

    @Test("results(for:): items start in order, at most `parallelism` at once; each one that ends lets the next start")
    func orderedList() async throws {
        let runner = ScenarioRunner(parallelism: 3)
        let bodies = Bodies()
        let all = Task {
            await runner.results(for: Array(0..<7), { await bodies.body($0) }, finished: { bodies.report($0) })
        }
        // The list's own task, the one caller, waits for a slot for the next item.
        let listWaits: @Sendable (Int, Int) -> Bool = { _, waiting in waiting == 1 }
        #expect(try await settled(runner, bodies, finished: 0, quiet: listWaits) == 3)
        #expect(bodies.started == [0, 1, 2])

        // Any body that ends frees its slot for the next item, not more.
        bodies.open(1)
        #expect(try await settled(runner, bodies, finished: 1, quiet: listWaits) == 3)
        #expect(bodies.started == [0, 1, 2, 3])
        #expect(bodies.finished == [1])

        bodies.open(0)
        bodies.open(3)
        #expect(try await settled(runner, bodies, finished: 3, quiet: listWaits) == 3)
        #expect(bodies.started == [0, 1, 2, 3, 4, 5])

        for item in 0..<7 { bodies.open(item) }
        let results = await all.value
        #expect(results == (0..<7).map { "result \($0)" })
        #expect(bodies.reported.sorted() == results)
        #expect(bodies.mostAtOnce == 3)
        #expect(await runner.runningCount == 0)
    }

    @Test("run(_:) from many tasks at once, as the test cases call it: the rest wait, and each end admits one")
    func concurrentCallers() async throws {
        let runner = ScenarioRunner(parallelism: 2)
        let bodies = Bodies()
        let callers = Task {
            await withTaskGroup(of: String.self) { group in
                for item in 0..<6 { group.addTask { await runner.run { await bodies.body(item) } } }
                return await group.reduce(into: [String]()) { $0.append($1) }
            }
        }
        #expect(try await settled(runner, bodies, finished: 0) { $0 + $1 == 6 } == 2)
        #expect(await runner.waitingCount == 4)

        let first = try #require(bodies.started.first)
        bodies.open(first)
        #expect(try await settled(runner, bodies, finished: 1) { $0 + $1 == 5 } == 2)
        #expect(bodies.finished == [first])
        #expect(bodies.started.count == 3)
        #expect(await runner.waitingCount == 3)

        for item in 0..<6 { bodies.open(item) }
        let results = await callers.value
        #expect(results.sorted() == (0..<6).map { "result \($0)" })
        #expect(bodies.mostAtOnce == 2)
        #expect(await runner.runningCount == 0)
        #expect(await runner.waitingCount == 0)
    }

    @Test("swift test and check share one default: the shared runner's parallelism")
    func sharedDefault() {
        #expect(ScenarioRunner.shared.parallelism == ScenarioRunner.defaultParallelism)
        #expect(ScenarioRunner.defaultParallelism == 3)
    }
}

/// Runs scenarios a bounded number at a time: the one limiter `swift test` and
/// `tapyrus-trace check` share, so both run the suite with the same parallelism.
///
/// Every scenario starts its own node(s) and waits for their events with a
/// timeout; run all at once on a 2-core machine, the last ones would spend
/// their timeouts waiting for a core. A scenario waits for a free slot before
/// it starts, and slots are handed out first come, first served.
///
/// ```swift
/// // One scenario, as a test case does (they all share `shared`):
/// let verdict = await ScenarioRunner.shared.verdict(of: scenario, in: context)
/// // A list, started in order, as `check` does:
/// let verdicts = await ScenarioRunner(parallelism: 2).verdicts(of: scenarios, in: context) { print($0.scenario) }
/// ```
public actor ScenarioRunner {
    /// How many scenarios run at once unless told otherwise (`check --parallel`).
    public static let defaultParallelism = 3

    /// The runner `swift test`'s scenario test cases share, with the default parallelism.
    public static let shared = ScenarioRunner(parallelism: defaultParallelism)

    /// How many scenarios may run at once.
    public nonisolated let parallelism: Int
    private var running = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// A runner that lets `parallelism` scenarios (at least one) run at once.
    public init(parallelism: Int) {
        precondition(parallelism > 0, "a scenario runner needs at least one slot")
        self.parallelism = parallelism
    }

    /// How many slots are taken now.
    public var runningCount: Int { running }

    /// How many callers wait for a slot.
    public var waitingCount: Int { waiters.count }

    /// Waits for a slot, runs `scenario` and returns its verdict.
    public nonisolated func verdict(of scenario: any Scenario, in context: ScenarioContext) async -> ScenarioVerdict {
        await run { await scenario.verdict(in: context) }
    }

    /// Runs `scenarios`, starting them in order as slots become free, and
    /// returns their verdicts in the same order; `finished` sees each verdict
    /// as its scenario ends (on the scenario's task).
    public nonisolated func verdicts(
        of scenarios: [any Scenario], in context: ScenarioContext,
        finished: @escaping @Sendable (ScenarioVerdict) -> Void = { _ in }
    ) async -> [ScenarioVerdict] {
        await results(for: scenarios, { await $0.verdict(in: context) }, finished: finished)
    }

    /// Waits for a slot, runs `body` in it and returns what it returns.
    public nonisolated func run<Result: Sendable>(_ body: @Sendable () async -> Result) async -> Result {
        await acquire()
        let result = await body()
        await release()
        return result
    }

    /// Runs `body` for each item, starting them in order as slots become free,
    /// and returns the results in the order of `items`; `finished` sees each
    /// result as its body returns (on that body's task).
    public nonisolated func results<Item: Sendable, Result: Sendable>(
        for items: [Item], _ body: @escaping @Sendable (Item) async -> Result,
        finished: @escaping @Sendable (Result) -> Void = { _ in }
    ) async -> [Result] {
        var results: [Result?] = Array(repeating: nil, count: items.count)
        await withTaskGroup(of: (Int, Result).self) { group in
            for (index, item) in items.enumerated() {
                // The slot is taken before the task exists, so that the
                // items start in the order given.
                await acquire()
                group.addTask {
                    let result = await body(item)
                    await self.release()
                    finished(result)
                    return (index, result)
                }
            }
            for await (index, result) in group {
                results[index] = result
            }
        }
        return results.compactMap { $0 }
    }

    private func acquire() async {
        if running < parallelism {
            running += 1
            return
        }
        // `release()` hands its slot straight to the first waiter.
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty {
            running -= 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}

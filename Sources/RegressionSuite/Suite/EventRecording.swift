import Foundation
import Synchronization
import TraceHarness

/// Collects the events of one process from the shared tracer that fire from
/// the moment it is made on, and waits for expected events with a bound.
public final class EventRecording: Sendable {
    private final class Store: Sendable {
        let events = Mutex<[TraceEvent]>([])
        /// The process recorded; nil while the node to record is still
        /// starting, when the events of every process are kept.
        let process: Mutex<Int32?>

        init(process: Int32?) {
            self.process = Mutex(process)
        }

        func append(_ event: TraceEvent) {
            // One lock order (process, then events) for the reader thread and ``adopt(pid:)``.
            process.withLock { process in
                guard process == nil || process == event.pid else { return }
                events.withLock { $0.append(event) }
            }
        }
    }

    private let store: Store
    private let subscription: EventHub.Subscription
    private let tracer: Tracer
    private let timeout: Duration

    /// The process recorded (always set by the time a recording is handed
    /// out: see ``ScenarioContext/startRecordedNode(_:configure:)``).
    public var pid: Int32 { store.process.withLock { $0 } ?? -1 }

    /// Records process `pid`, or every process until ``adopt(pid:)`` names
    /// the one to keep when `pid` is nil.
    init(tracer: Tracer, pid: Int32?, timeout: Duration) {
        self.tracer = tracer
        self.timeout = timeout
        let store = Store(process: pid)
        self.store = store
        // Events still in the ring from before this recording fired earlier:
        // keep only what fires from now on (the kernel stamps CLOCK_MONOTONIC).
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let start = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
        subscription = tracer.onEvent(pid: pid) { event in
            guard event.monotonicNanoseconds >= start else { return }
            store.append(event)
        }
    }

    /// Keeps the events of process `pid` only, from now on and of those
    /// recorded so far, once every event that fired before is delivered.
    func adopt(pid: Int32) async {
        await tracer.drain()
        store.process.withLock { process in
            process = pid
            store.events.withLock { $0.removeAll { $0.pid != pid } }
        }
    }

    deinit {
        subscription.cancel()
    }

    /// Stops recording.
    public func stop() {
        subscription.cancel()
    }

    /// Every event recorded so far, after draining what the kernel holds.
    public func all() async -> [TraceEvent] {
        await tracer.drain()
        return store.events.withLock { $0 }
    }

    /// Forgets what was recorded so far.
    public func clear() async {
        await tracer.drain()
        store.events.withLock { $0.removeAll() }
    }

    /// The events of `type` recorded so far, typed.
    public func events<Event: CataloguedEvent>(_ type: Event.Type) async throws -> [Event] {
        try await all().compactMap { event throws(EventDecodingError) in try event.as(type) }
    }

    /// How many events of `type` were recorded so far, after draining what
    /// the kernel holds: once the RPC that caused them has returned, every
    /// event it fired synchronously is counted.
    public func count<Event: CataloguedEvent>(of type: Event.Type) async -> Int {
        let probe = Event.tracepoint.probe
        return await all().filter { $0.probe == probe }.count
    }

    /// Waits until at least `count` events satisfy `predicate`, then returns
    /// all of them; throws a timeout naming what arrived.
    @discardableResult
    public func wait(
        for count: Int, _ description: String,
        where predicate: @Sendable (TraceEvent) -> Bool
    ) async throws -> [TraceEvent] {
        let deadline = ContinuousClock.now + timeout
        while true {
            await tracer.drain()
            let matching = store.events.withLock { $0.filter(predicate) }
            if matching.count >= count { return matching }
            if ContinuousClock.now >= deadline {
                let arrived = store.events.withLock { $0.map(\.probe.description) }
                let summary = Dictionary(grouping: arrived, by: { $0 }).map { "\($0.key)×\($0.value.count)" }.sorted()
                throw ScenarioError("waited \(timeout) for \(count) \(description); \(matching.count) arrived (all events of pid \(pid): \(summary.joined(separator: ", ")))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits for `count` events of `type` (optionally also matching `predicate`).
    @discardableResult
    public func wait<Event: CataloguedEvent>(
        for count: Int, _ type: Event.Type,
        where predicate: @escaping @Sendable (Event) -> Bool = { _ in true }
    ) async throws -> [Event] {
        let probe = Event.tracepoint.probe
        let events = try await wait(for: count, "\(probe) events") { event in
            guard event.probe == probe, let typed = try? Event(event) else { return false }
            return predicate(typed)
        }
        return try events.map { event throws(EventDecodingError) in try Event(event) }
    }
}

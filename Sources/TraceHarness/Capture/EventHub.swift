import Synchronization

/// Hands decoded events to their subscribers.
public final class EventHub: Sendable {
    /// A registration that ends when cancelled.
    public struct Subscription: Sendable {
        fileprivate let id: UInt64
        fileprivate weak let hub: EventHub?

        /// Stops delivering events to this subscriber.
        public func cancel() {
            hub?.unsubscribe(id)
        }
    }

    private enum Sink {
        case stream(AsyncStream<TraceEvent>.Continuation)
        case handler(@Sendable (TraceEvent) -> Void)
    }

    private struct Subscriber {
        var id: UInt64
        var pid: Int32?
        var sink: Sink
    }

    private struct State {
        var nextID: UInt64 = 0
        var subscribers: [Subscriber] = []
        var finished = false
    }

    private let state = Mutex(State())

    init() {}

    func subscribe(pid: Int32?) -> AsyncStream<TraceEvent> {
        let (stream, continuation) = AsyncStream<TraceEvent>.makeStream(bufferingPolicy: .unbounded)
        let id = add(pid: pid, sink: .stream(continuation))
        if let id {
            continuation.onTermination = { [weak self] _ in self?.unsubscribe(id) }
        } else {
            continuation.finish()
        }
        return stream
    }

    func subscribe(pid: Int32?, handler: @escaping @Sendable (TraceEvent) -> Void) -> Subscription {
        Subscription(id: add(pid: pid, sink: .handler(handler)) ?? .max, hub: self)
    }

    private func add(pid: Int32?, sink: Sink) -> UInt64? {
        state.withLock { state in
            guard !state.finished else { return nil }
            state.nextID += 1
            state.subscribers.append(Subscriber(id: state.nextID, pid: pid, sink: sink))
            return state.nextID
        }
    }

    private func unsubscribe(_ id: UInt64) {
        let removed: [Subscriber] = state.withLock { state in
            let removed = state.subscribers.filter { $0.id == id }
            state.subscribers.removeAll { $0.id == id }
            return removed
        }
        for subscriber in removed {
            if case .stream(let continuation) = subscriber.sink { continuation.finish() }
        }
    }

    /// Delivers a batch of events, in order, to every matching subscriber.
    ///
    /// The subscribers are read under the lock and called outside it, so a
    /// handler may subscribe or cancel without deadlocking; a subscription
    /// cancelled while a batch is being delivered may still receive the rest
    /// of that batch. Only the reader thread calls this, so events reach each
    /// subscriber in order.
    func deliver(_ events: [TraceEvent]) {
        guard !events.isEmpty else { return }
        let subscribers = state.withLock { $0.subscribers }
        for subscriber in subscribers {
            switch subscriber.sink {
            case .stream(let continuation):
                for event in events where subscriber.pid == nil || subscriber.pid == event.pid {
                    continuation.yield(event)
                }
            case .handler(let handler):
                for event in events where subscriber.pid == nil || subscriber.pid == event.pid {
                    handler(event)
                }
            }
        }
    }

    /// Ends every subscription; later subscriptions end at once.
    func finishAll() {
        let subscribers: [Subscriber] = state.withLock { state in
            state.finished = true
            defer { state.subscribers.removeAll() }
            return state.subscribers
        }
        for subscriber in subscribers {
            if case .stream(let continuation) = subscriber.sink { continuation.finish() }
        }
    }
}

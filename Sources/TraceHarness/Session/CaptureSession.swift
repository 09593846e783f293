import CBPFShim
import Foundation
import Synchronization

/// One capture from the moment it is made to its summary: the lifecycle every
/// command that traces repeats, in one place.
///
/// A session subscribes to its tracer's events when it is made, so no event
/// after that is missed. ``run(tickEvery:onTick:consume:)`` then hands every
/// event to the consumer in arrival order until the first of the stops:
///
/// - a signal (SIGINT: "interrupted", SIGTERM: "terminated"), when asked for;
/// - a timer (`"4.0 s elapsed"`);
/// - the traced process exiting (`"process 123 exited"`);
/// - the consumer answering ``Delivery/stop(_:)`` or ``Delivery/failed(_:)``, or anyone calling
///   ``stop(_:)``.
///
/// When the capture stops, the session drains what the kernel still holds,
/// takes the capture's statistics, closes the tracer and lets the consumer
/// finish the events already delivered, then returns a ``CaptureSummary``.
///
/// For example, printing every event for ten seconds:
///
/// ```swift
/// let session = CaptureSession(tracer: tracer, stopAfterSeconds: 10)
/// let summary = await session.run { event in
///     print(formatter.line(for: event))
///     return .keepGoing
/// }
/// summary.lines.forEach { print($0) }
/// ```
public final class CaptureSession: Sendable {
    /// What the consumer wants after an event.
    public enum Delivery: Sendable, Hashable {
        /// Hand over the next event.
        case keepGoing
        /// End the capture for this reason (the event was handled).
        case stop(String)
        /// End the capture for this reason; the event could not be handled
        /// (standard output closed) and is not counted as delivered.
        case failed(String)
        /// Hand over the next event; this one was of no interest and is not
        /// counted as delivered.
        case skipped
    }

    private struct State {
        var reason: String?
        var waiters: [CheckedContinuation<String, Never>] = []
        // Kept alive until the session ends; they feed ``stop(_:)``.
        var sources: [HeldSource] = []
    }

    /// The tracer the session drains and closes.
    public let tracer: Tracer
    private let stream: AsyncStream<TraceEvent>
    private let state = Mutex(State())

    /// Subscribes to `tracer`'s events and arms the chosen stops.
    ///
    /// - Parameters:
    ///   - tracer: the attached tracer; the session closes it when the capture ends.
    ///   - pid: deliver only this process's events (nil: every traced process).
    ///   - stopAfterSeconds: stop after this many seconds.
    ///   - processToWatch: stop when this process exits.
    ///   - stopOnSignals: stop on SIGINT and SIGTERM instead of dying of them.
    public init(tracer: Tracer, pid: Int32? = nil, stopAfterSeconds: Double? = nil,
                processToWatch: Int32? = nil, stopOnSignals: Bool = false) {
        self.tracer = tracer
        stream = tracer.events(pid: pid)
        if stopOnSignals { armSignals() }
        if let stopAfterSeconds { armTimer(seconds: stopAfterSeconds) }
        if let processToWatch { armProcessExit(processToWatch) }
    }

    /// Ends the capture for `reason`; the first reason given is the one kept.
    public func stop(_ reason: String) {
        let waiters: [CheckedContinuation<String, Never>] = state.withLock { state in
            guard state.reason == nil else { return [] }
            state.reason = reason
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: reason) }
    }

    /// Why the capture stopped, or nil while it goes on.
    public var stopReason: String? { state.withLock { $0.reason } }

    /// Waits until the capture is stopped and returns why.
    public func stopped() async -> String {
        await withCheckedContinuation { continuation in
            let reason: String? = state.withLock { state in
                if state.reason == nil { state.waiters.append(continuation) }
                return state.reason
            }
            if let reason { continuation.resume(returning: reason) }
        }
    }

    /// Delivers events to `consume` until the capture stops, calling `onTick`
    /// every `tickEvery` meanwhile; then drains, counts, closes and sums up.
    ///
    /// `consume` runs on one task, one event at a time, in arrival order; the
    /// events the kernel held when the capture stopped are still delivered,
    /// unless `consume` itself asked to stop.
    public func run(
        tickEvery interval: Duration? = nil, onTick: @escaping @Sendable () -> Void = {},
        consume: @escaping @Sendable (TraceEvent) -> Delivery
    ) async -> CaptureSummary {
        let stream = self.stream
        let delivery = Task {
            var delivered = 0
            for await event in stream {
                switch consume(event) {
                case .keepGoing:
                    delivered += 1
                case .skipped:
                    break
                case .stop(let reason):
                    delivered += 1
                    self.stop(reason)
                    return delivered
                case .failed(let reason):
                    self.stop(reason)
                    return delivered
                }
            }
            return delivered
        }
        let ticker = interval.map { interval in
            Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    if Task.isCancelled || stopReason != nil { break }
                    onTick()
                }
            }
        }
        let reason = await stopped()
        ticker?.cancel()
        await tracer.drain()
        let statistics = tracer.statistics()
        tracer.close()
        let delivered = await delivery.value
        state.withLock { state in
            for box in state.sources { box.source.cancel() }
            state.sources = []
        }
        return CaptureSummary(reason: reason, statistics: statistics, delivered: delivered)
    }

    private func armSignals() {
        for (number, name) in [(SIGINT, "interrupted"), (SIGTERM, "terminated")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { [weak self] in self?.stop(name) }
            source.resume()
            let box = HeldSource(source)
            state.withLock { $0.sources.append(box) }
        }
    }

    private func armTimer(seconds: Double) {
        Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            self?.stop("\(seconds) s elapsed")
        }
    }

    /// Stops the capture when process `pid` exits: its pidfd becomes
    /// readable then. Kernels before 5.3 have no pidfds; there the process
    /// is looked at every 100 ms.
    private func armProcessExit(_ pid: Int32) {
        let descriptor = tt_pidfd_open(pid)
        guard descriptor >= 0 else {
            if errno == ESRCH { return stop("process \(pid) exited") }
            return pollProcessExit(pid)
        }
        let source = DispatchSource.makeReadSource(fileDescriptor: descriptor)
        // Readable for ever once the process is gone: one event is enough
        // (cancelling also releases this handler and its hold on the source).
        source.setEventHandler { [weak self] in
            source.cancel()
            self?.stop("process \(pid) exited")
        }
        source.setCancelHandler { close(descriptor) }
        source.resume()
        let box = HeldSource(source)
        state.withLock { $0.sources.append(box) }
    }

    private func pollProcessExit(_ pid: Int32) {
        Task { [weak self] in
            while kill(pid, 0) == 0 || errno == EPERM {
                try? await Task.sleep(for: .milliseconds(100))
                guard let self, self.stopReason == nil else { return }
            }
            self?.stop("process \(pid) exited")
        }
    }
}

/// A dispatch source (a signal, a process's exit) held by a session.
///
/// `@unchecked Sendable`: libdispatch sources may be cancelled from any
/// thread (dispatch objects are thread-safe), but the Dispatch overlay does
/// not mark them `Sendable`; the box only holds it and cancels it.
private final class HeldSource: @unchecked Sendable {
    let source: any DispatchSourceProtocol
    init(_ source: any DispatchSourceProtocol) { self.source = source }
}

/// How a capture ended and what it counted.
public struct CaptureSummary: Sendable {
    /// Why it stopped (`interrupted`, `process 123 exited`, ...).
    public var reason: String
    /// The tracer's counters after the final drain.
    public var statistics: CaptureStatistics
    /// Events handed to the consumer.
    public var delivered: Int

    /// The summary as the commands print it on standard error: the reason,
    /// the counts, each probe that fired, and a warning when events were lost.
    public var lines: [String] {
        var lines = [
            "stopped: \(reason)",
            "\(delivered) events printed; \(statistics.hits) probe hits, \(statistics.delivered) delivered, \(statistics.lost) lost, \(statistics.payloadsCut) payloads cut",
        ]
        for probe in statistics.probes where probe.hits > 0 {
            lines.append("  \(probe.probe): \(probe.hits) hits, \(probe.delivered) delivered, \(probe.lost) lost, \(probe.readFaults) unreadable arguments")
        }
        if statistics.lost > 0 || statistics.payloadsCut > 0 {
            lines.append("warning: events were lost; a larger ring buffer or a faster reader would keep them")
        }
        return lines
    }
}

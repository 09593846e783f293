import CBPFShim
import Foundation
import Synchronization

/// Drains the capture program's ring buffer on a thread of its own.
///
/// The thread polls the ring with a short timeout and then consumes whatever
/// is there, because the program wakes it only when much data waits. Events
/// are decoded in batches and handed to the hub after each pass.
final class RingBufferReader: @unchecked Sendable {
    /// State touched only by the reader thread, reached from libbpf's C
    /// callback through its context pointer.
    private final class Context {
        var decoder: RecordDecoder
        var batch: [TraceEvent] = []
        var failures: UInt64 = 0

        init(decoder: RecordDecoder) {
            self.decoder = decoder
        }

        func handle(_ record: UnsafeRawBufferPointer) {
            do {
                if let event = try decoder.decode(record) {
                    batch.append(event)
                }
            } catch {
                failures += 1
            }
        }
    }

    private let ring: OpaquePointer
    private let context: Context
    private let hub: EventHub
    private let pollInterval: Int32
    private let stopRequested = Atomic<Bool>(false)
    private let running = Atomic<Bool>(true)
    private let passes = Atomic<UInt64>(0)
    private let stopped = DispatchSemaphore(value: 0)
    private let published = Mutex<(delivered: [UInt64], failures: UInt64)>(([], 0))
    private let stopOnce = Mutex<Bool>(false)

    init(resources: LibbpfResources, decoder: RecordDecoder, hub: EventHub, pollInterval: Int32) throws(TracerError) {
        let context = Context(decoder: decoder)
        let callback: ring_buffer_sample_fn = { contextPointer, data, size in
            guard let contextPointer, let data else { return 0 }
            let context = Unmanaged<Context>.fromOpaque(contextPointer).takeUnretainedValue()
            context.handle(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        }
        guard let ring = ring_buffer__new(resources.eventsDescriptor, callback, Unmanaged.passUnretained(context).toOpaque(), nil) else {
            let reason = LibbpfResources.reason(errno)
            resources.destroy()
            throw .readerFailed(reason)
        }
        self.ring = ring
        self.context = context
        self.hub = hub
        self.pollInterval = max(pollInterval, 1)
        published.withLock { $0.delivered = decoder.delivered }
        let thread = Thread { [self] in run() }
        thread.name = "tapyrus-trace ring buffer"
        thread.start()
    }

    /// Completed passes over the ring; a pass that starts after a probe hit
    /// has delivered its event when the count has moved on by two.
    var generation: UInt64 { passes.load(ordering: .acquiring) }
    var isRunning: Bool { running.load(ordering: .acquiring) }

    func deliveredCounts() -> [UInt64] { published.withLock { $0.delivered } }
    var decodingFailures: UInt64 { published.withLock { $0.failures } }

    private func run() {
        while !stopRequested.load(ordering: .acquiring) {
            ring_buffer__poll(ring, pollInterval)
            ring_buffer__consume(ring)
            flush()
        }
        // A last pass for what arrived while stopping.
        ring_buffer__consume(ring)
        flush()
        running.store(false, ordering: .releasing)
        stopped.signal()
    }

    private func flush() {
        let batch = context.batch
        context.batch.removeAll(keepingCapacity: true)
        let delivered = context.decoder.delivered
        let failures = context.failures
        // Publish counts before events, so a consumer that saw an event
        // finds it counted.
        published.withLock { $0 = (delivered, failures) }
        hub.deliver(batch)
        passes.add(1, ordering: .releasing)
    }

    /// Stops the thread and frees the ring. Safe to call more than once.
    func stop() {
        let first = stopOnce.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        stopRequested.store(true, ordering: .releasing)
        stopped.wait()
        ring_buffer__free(ring)
    }

    deinit {
        stop()
    }
}

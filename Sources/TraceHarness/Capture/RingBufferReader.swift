import CBPFShim
import Foundation
import Synchronization

/// Drains the capture program's ring buffer on a thread of its own.
///
/// The reader maps the ring itself (instead of through libbpf's
/// `ring_buffer`): the data area once, not twice, which halves the resident
/// memory the ring costs, and it hands the consumed position back to the
/// kernel once per pass instead of once per record, so the producing CPU does
/// not lose the cache line to the reader on every hit. A record that wraps
/// around the end of the data area is copied together first.
///
/// The thread consumes what is there, delivers the decoded batch to the hub,
/// and then sleeps until the program wakes it (the bytes waiting crossed a
/// threshold) or its short poll interval passes; a burst it reads on until
/// drained.
// @unchecked Sendable: `Context` and the mappings are touched only by the
// reader thread; other threads read the published counters under `published`
// and the atomics.
final class RingBufferReader: @unchecked Sendable {
    /// State touched only by the reader thread.
    private final class Context {
        // Unchecked: only the reader thread touches these (and the check
        // would cost a runtime call per record).
        @exclusivity(unchecked) var decoder: RecordDecoder
        @exclusivity(unchecked) var batch: [TraceEvent] = []

        init(decoder: RecordDecoder) {
            self.decoder = decoder
        }
    }

    /// The kernel's ring buffer record header (`struct bpf_ringbuf_hdr`).
    private static let headerBytes = 8
    private static let busyBit: UInt32 = 1 << 31
    private static let discardBit: UInt32 = 1 << 30

    private let descriptor: Int32
    private let consumerPage: UnsafeMutableRawPointer
    private let producerMapping: UnsafeMutableRawPointer
    private let pageSize: Int
    private let dataBytes: Int
    private let scratch: UnsafeMutableRawBufferPointer
    private let context: Context
    private let hub: EventHub
    private let pollInterval: Int32
    private let wakeupBytes: Int
    private let stopRequested = Atomic<Bool>(false)
    private let running = Atomic<Bool>(true)
    private let passes = Atomic<UInt64>(0)
    private let stopped = DispatchSemaphore(value: 0)
    /// Callers of ``wait(forGeneration:)``, resumed by the thread once its
    /// pass count reaches theirs or it stops.
    private let generationWaiters = Mutex<[(target: UInt64, continuation: CheckedContinuation<Void, Never>)]>([])
    private let published: Mutex<RecordDecoder.Counts>
    private let stopOnce = Mutex<Bool>(false)

    init(descriptor: Int32, dataBytes: Int, wakeupBytes: Int, decoder: RecordDecoder, hub: EventHub, pollInterval: Int32) throws(TracerError) {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard let consumer = mmap(nil, pageSize, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0), consumer != MAP_FAILED else {
            throw .readerFailed("cannot map the ring buffer's consumer page: \(String(cString: strerror(errno)))")
        }
        guard let producer = mmap(nil, pageSize + dataBytes, PROT_READ, MAP_SHARED, descriptor, off_t(pageSize)), producer != MAP_FAILED else {
            let reason = String(cString: strerror(errno))
            munmap(consumer, pageSize)
            throw .readerFailed("cannot map the ring buffer's data: \(reason)")
        }
        self.descriptor = descriptor
        self.consumerPage = consumer
        self.producerMapping = producer
        self.pageSize = pageSize
        self.dataBytes = dataBytes
        // The largest record is a 64 KiB payload chunk with its headers.
        self.scratch = .allocate(byteCount: Int(TT_CHUNK_LARGE) + 4096, alignment: 16)
        self.context = Context(decoder: decoder)
        self.hub = hub
        self.pollInterval = max(pollInterval, 1)
        self.wakeupBytes = wakeupBytes
        self.published = Mutex(decoder.publishedCounts)
        let thread = Thread { [self] in run() }
        thread.name = "tapyrus-trace ring buffer"
        thread.start()
    }

    /// Completed passes over the ring; a pass that starts after a probe hit
    /// has delivered its event when the count has moved on by two.
    var generation: UInt64 { passes.load(ordering: .acquiring) }
    var isRunning: Bool { running.load(ordering: .acquiring) }

    /// Returns once ``generation`` reached `target`, or the thread stopped:
    /// the barrier ``Tracer/drain()`` waits on, without polling.
    func wait(forGeneration target: UInt64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            // Checked under the lock the thread takes after each pass, so no
            // pass can end between the check and the enqueueing unseen.
            let ready = generationWaiters.withLock { waiters in
                if generation >= target || !isRunning { return true }
                waiters.append((target, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Resumes the waiters whose generation came, or all once stopped.
    private func resumeWaiters() {
        let ready: [CheckedContinuation<Void, Never>] = generationWaiters.withLock { waiters in
            guard !waiters.isEmpty else { return [] }
            let reached = generation, stopped = !isRunning
            let due = waiters.filter { stopped || $0.target <= reached }
            waiters.removeAll { stopped || $0.target <= reached }
            return due.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    /// The decoder's counts as of the last completed pass.
    var counts: RecordDecoder.Counts { published.withLock { $0 } }

    private var consumerPosition: UnsafeMutablePointer<UInt64> { consumerPage.assumingMemoryBound(to: UInt64.self) }
    private var producerPosition: UnsafePointer<UInt64> { UnsafePointer(producerMapping.assumingMemoryBound(to: UInt64.self)) }
    private var data: UnsafeRawPointer { UnsafeRawPointer(producerMapping + pageSize) }

    private func run() {
        // Edge-triggered: a wait ends on the program's wakeup (the bytes
        // waiting crossed the threshold) or the poll interval, not merely
        // because some records wait; so the reader takes them in batches
        // and does not contend with the producing CPU record by record.
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        var interest = epoll_event(events: EPOLLIN.rawValue | EPOLLET.rawValue, data: epoll_data_t(fd: descriptor))
        let edgeTriggered = epoll >= 0 && epoll_ctl(epoll, EPOLL_CTL_ADD, descriptor, &interest) == 0
        var pollDescriptor = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        var ready = epoll_event()
        while !stopRequested.load(ordering: .acquiring) {
            let (outcome, bytes) = consume()
            flush()
            switch outcome {
            case .consumed where bytes >= wakeupBytes / 2:
                // A burst: read on until it is drained.
                continue
            case .busy:
                // A record is being written (a payload chunk): it completes
                // within microseconds.
                usleep(20)
            case .consumed, .empty:
                if edgeTriggered {
                    _ = epoll_wait(epoll, &ready, 1, pollInterval)
                } else if outcome == .empty {
                    _ = poll(&pollDescriptor, 1, pollInterval)
                }
            }
        }
        if epoll >= 0 { close(epoll) }
        // A last pass for what arrived while stopping.
        _ = consume()
        flush()
        running.store(false, ordering: .releasing)
        resumeWaiters()
        stopped.signal()
    }

    private enum Outcome { case consumed, busy, empty }

    /// Decodes the complete records that waited when the pass began (at
    /// most a ring's worth, so a pass ends and its batch is delivered even
    /// while records keep coming), then tells the kernel how far it read.
    private func consume() -> (Outcome, bytes: Int) {
        let mask = UInt64(dataBytes - 1)
        let start = tt_load_acquire(consumerPosition)
        let producer = tt_load_acquire(producerPosition)
        var consumer = start
        var stored = start
        var outcome = Outcome.empty
        while consumer < producer {
            let offset = Int(consumer & mask)
            let header = (data + offset).assumingMemoryBound(to: UInt32.self)
            let word = tt_load_acquire_32(header)
            if word & Self.busyBit != 0 {
                if consumer == start { outcome = .busy }
                break
            }
            let length = Int(word & ~(Self.busyBit | Self.discardBit))
            if word & Self.discardBit == 0 {
                deliverRecord(at: offset + Self.headerBytes, length: length)
            }
            consumer += UInt64((length + Self.headerBytes + 7) & ~7)
            outcome = .consumed
            // Hand events over in batches small enough that the memory
            // they free is reused by the next batch (a large batch's is given
            // back to the system and faulted in again, a page at a time).
            if context.batch.count >= Self.deliveryBatch { deliver() }
            // Give space back now and then within a long pass.
            if consumer - stored >= UInt64(dataBytes / 4) {
                tt_store_release(consumerPosition, consumer)
                stored = consumer
            }
        }
        if consumer != stored { tt_store_release(consumerPosition, consumer) }
        return (outcome, Int(consumer - start))
    }

    /// Decodes the record of `length` bytes at `offset` in the data area.
    private func deliverRecord(at offset: Int, length: Int) {
        let start = offset % dataBytes
        let record: UnsafeRawBufferPointer
        if start + length <= dataBytes {
            record = UnsafeRawBufferPointer(start: data + start, count: length)
        } else if length <= scratch.count {
            let first = dataBytes - start
            scratch.baseAddress!.copyMemory(from: data + start, byteCount: first)
            (scratch.baseAddress! + first).copyMemory(from: data, byteCount: length - first)
            record = UnsafeRawBufferPointer(start: scratch.baseAddress, count: length)
        } else {
            context.decoder.countFailure(.truncatedRecord(size: length), record: nil)
            return
        }
        if let event = context.decoder.decodeCounting(record) {
            context.batch.append(event)
        }
    }

    /// Events handed to the hub at a time.
    private static let deliveryBatch = 128

    /// Publishes the counts, then hands the decoded events to the hub.
    private func deliver() {
        // Counts before events, so a consumer that saw an event finds it
        // counted.
        let counts = context.decoder.publishedCounts
        published.withLock { $0 = counts }
        if !context.batch.isEmpty {
            hub.deliver(context.batch)
            // The hub keeps no reference: the storage is reused.
            context.batch.removeAll(keepingCapacity: true)
        }
    }

    /// Ends a pass: everything decoded is delivered and the pass counted.
    private func flush() {
        deliver()
        passes.add(1, ordering: .releasing)
        resumeWaiters()
    }

    /// Stops the thread and unmaps the ring. Safe to call more than once.
    func stop() {
        let first = stopOnce.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        stopRequested.store(true, ordering: .releasing)
        stopped.wait()
        munmap(consumerPage, pageSize)
        munmap(producerMapping, pageSize + dataBytes)
        scratch.deallocate()
    }

    deinit {
        stop()
    }
}

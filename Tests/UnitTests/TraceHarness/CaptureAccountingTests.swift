import CBPFShim
import Synchronization
import Testing
@testable import TraceHarness

@Suite("Counting per process, sizing the ring buffer, delivering to subscribers")
struct CaptureAccountingTests {
    typealias Argument = RecordBuilder.Argument

    static func fee(pid: UInt32, site: UInt32 = 0, sequence: UInt64) -> [UInt8] {
        RecordBuilder.event(cookie: site, sequence: sequence, small: true, pid: pid, tid: pid, arguments: [Argument(value: 1), Argument(value: 2)])
    }

    @Test("the decoder counts delivered events per site and per process, and each failure for the process and site its header names")
    func perProcessCounts() throws {
        let probes = try [FeeInfo.tracepoint].map { RecordDecoder.Probe(name: $0.probe, tracepoint: $0, layout: try CaptureLayout(tracepoint: $0)) }
        // Two sites of one probe.
        var decoder = RecordDecoder(probes: probes, siteProbes: [0, 0], monotonicToEpochOffset: 0)
        _ = try decoder.feed(Self.fee(pid: 10, site: 0, sequence: 1))
        _ = try decoder.feed(Self.fee(pid: 20, site: 1, sequence: 1))
        _ = try decoder.feed(Self.fee(pid: 10, site: 1, sequence: 2))
        _ = try decoder.feed(Self.fee(pid: 10, site: 1, sequence: 3))

        var badType = Self.fee(pid: 20, site: 1, sequence: 4)
        badType[0] = 9
        #expect(badType.withUnsafeBytes { decoder.decodeCounting($0) } == nil)
        let unknownSite = Self.fee(pid: 30, site: 7, sequence: 1)
        #expect(unknownSite.withUnsafeBytes { decoder.decodeCounting($0) } == nil)
        let short = [UInt8](repeating: 0, count: 8)
        #expect(short.withUnsafeBytes { decoder.decodeCounting($0) } == nil)

        let counts = decoder.publishedCounts
        #expect(counts.total.delivered == [1, 3])
        #expect(counts.total.failures == [0, 1])
        #expect(counts.total.unattributedFailures == 2, "the unknown site and the record too short to name one")
        #expect(counts.processes[10]?.delivered == [1, 2])
        #expect(counts.processes[10]?.failures == [0, 0])
        #expect(counts.processes[20]?.delivered == [0, 1])
        #expect(counts.processes[20]?.failures == [0, 1])
        #expect(counts.processes[30]?.unattributedFailures == 1)
        #expect(counts.processes[30]?.delivered == [0, 0])
        #expect(decoder.delivered == [4])
    }

    @Test("the ring buffer is sized from the probes: 4 MiB for events alone, 64 MiB with a 32 MiB payload, 1 MiB at least")
    func ringSizes() throws {
        let small = try CaptureLayout(tracepoint: BlockConnected.tracepoint)
        let large = try CaptureLayout(tracepoint: InboundMessage.tracepoint)
        #expect(small.usesSmallRecord && !large.usesSmallRecord)
        #expect(small.payloadBound == 0)
        #expect(large.payloadBound == 32 << 20)
        #expect(large.withoutPayloads.payloadBound == 0)
        #expect(large.withoutPayloads.abi.flags & TT_LAYOUT_HAS_PAYLOAD == 0)
        #expect(large.abi.flags & TT_LAYOUT_HAS_PAYLOAD != 0)
        #expect(Tracer.ringBufferBytes(for: [small]) == 4 << 20)
        #expect(Tracer.ringBufferBytes(for: [small, large.withoutPayloads]) == 4 << 20)
        #expect(Tracer.ringBufferBytes(for: [large.withoutPayloads]) == 4 << 20, "capped: about 6,000 large records")
        #expect(Tracer.ringBufferBytes(for: [small, large]) == 64 << 20)
        #expect(Tracer.ringBufferBytes(for: []) == 1 << 20)
    }

    @Test("an event whose payload was not captured carries its declared length and no bytes")
    func payloadNotCaptured() throws {
        let layout = try CaptureLayout(tracepoint: InboundMessage.tracepoint).withoutPayloads
        var decoder = RecordDecoder(probes: [.init(name: InboundMessage.tracepoint.probe, tracepoint: InboundMessage.tracepoint, layout: layout)],
                                    monotonicToEpochOffset: 0)
        let event = try #require(try decoder.feed(RecordDecoderTests.inboundEvent(sequence: 1, size: 5352, delivered: 0)))
        let payload = try event.payload("message")
        #expect(payload.bytes.isEmpty)
        #expect(payload.declaredLength == 5352)
        #expect(!payload.isComplete)
    }

    @Test("one process's statistics fail when failures could not be attributed to processes; the whole tracer's do not")
    func unattributed() throws {
        let probe = CaptureStatistics.Probe(probe: FeeInfo.tracepoint.probe, hits: 3, delivered: 3, lost: 0, payloadsCut: 0, readFaults: 0)
        try CaptureStatistics(probes: [probe], decodingFailures: 0, unattributedFailures: 2).requireNoLoss()
        let process = CaptureStatistics(pid: 77, probes: [probe], decodingFailures: 0, unattributedFailures: 2)
        let error = #expect(throws: EventsLostError.self) { try process.requireNoLoss() }
        #expect(error?.description.hasPrefix("events of process 77 lost: 0 lost") == true)
        #expect(error?.description.contains("2 failures not attributable to a process") == true)
        #expect(process[FeeInfo.tracepoint.probe]?.hits == 3)
        #expect(process[BlockConnected.tracepoint.probe] == nil)
    }

    @Test("a handler may cancel itself and subscribe another while a batch is delivered (no lock held)")
    func handlersOutsideTheLock() throws {
        let hub = EventHub()
        let seen = Mutex<[String]>([])
        let second = Mutex<EventHub.Subscription?>(nil)
        let first = Mutex<EventHub.Subscription?>(nil)
        let subscription = hub.subscribe(pid: nil) { event in
            seen.withLock { $0.append("first \(event.pid)") }
            first.withLock { $0?.cancel() }
            second.withLock { slot in
                if slot == nil {
                    slot = hub.subscribe(pid: nil) { event in seen.withLock { $0.append("second \(event.pid)") } }
                }
            }
        }
        first.withLock { $0 = subscription }
        let decoder = try RecordDecoder.forTracepoints([FeeInfo.tracepoint])
        var feeder = decoder
        let events = try [1, 2].map { pid in try #require(try feeder.feed(Self.fee(pid: UInt32(pid), sequence: UInt64(pid)))) }
        hub.deliver(events)
        #expect(seen.withLock { $0 } == ["first 1", "first 2"], "the rest of the batch still reaches a handler that cancelled")
        hub.deliver(events)
        #expect(seen.withLock { $0 } == ["first 1", "first 2", "second 1", "second 2"])
        hub.finishAll()
    }
}

import Testing
@testable import TraceHarness

@Suite("Capture statistics and loss")
struct CaptureStatisticsTests {
    static let inbound = ProbeName(provider: "net", name: "inbound_message")
    static let added = ProbeName(provider: "mempool", name: "added")

    static func probe(_ name: ProbeName, hits: UInt64, delivered: UInt64, lost: UInt64 = 0, cut: UInt64 = 0, faults: UInt64 = 0) -> CaptureStatistics.Probe {
        CaptureStatistics.Probe(probe: name, hits: hits, delivered: delivered, lost: lost, payloadsCut: cut, readFaults: faults)
    }

    @Test("every hit delivered whole passes, read faults included")
    func clean() throws {
        let statistics = CaptureStatistics(probes: [
            Self.probe(Self.inbound, hits: 10, delivered: 10, faults: 3),
            Self.probe(Self.added, hits: 0, delivered: 0),
        ], decodingFailures: 0)
        try statistics.requireNoLoss()
        #expect(statistics.hits == 10)
        #expect(statistics.delivered == 10)
        #expect(statistics.lost == 0)
        #expect(statistics.payloadsCut == 0)
        #expect(statistics.unaccounted == 0)
    }

    @Test("an empty capture passes")
    func empty() throws {
        try CaptureStatistics(probes: [], decodingFailures: 0).requireNoLoss()
    }

    @Test("lost events fail, and the error names the probe that lost them")
    func lost() {
        let statistics = CaptureStatistics(probes: [
            Self.probe(Self.inbound, hits: 10, delivered: 7, lost: 3),
            Self.probe(Self.added, hits: 5, delivered: 5),
        ], decodingFailures: 0)
        #expect(statistics.lost == 3)
        #expect(statistics.unaccounted == 0)
        let error = #expect(throws: EventsLostError.self) { try statistics.requireNoLoss() }
        #expect(error?.description.contains("net:inbound_message: 10 hits, 7 delivered, 3 lost, 0 payloads cut") == true)
        #expect(error?.description.contains("mempool:added") == false, "a probe without loss is not listed")
        #expect(error?.description.hasPrefix("events lost: 3 lost, 0 payloads cut, 0 unaccounted, 0 undecodable") == true)
        #expect(error?.statistics.lost == 3)
    }

    @Test("cut payloads fail even when every event arrived")
    func payloadsCut() {
        let statistics = CaptureStatistics(probes: [Self.probe(Self.inbound, hits: 4, delivered: 4, cut: 1)], decodingFailures: 0)
        let error = #expect(throws: EventsLostError.self) { try statistics.requireNoLoss() }
        #expect(error?.description.contains("net:inbound_message") == true)
        #expect(error?.description.contains("1 payloads cut") == true)
    }

    @Test("hits neither delivered nor lost are unaccounted and fail")
    func unaccounted() {
        let statistics = CaptureStatistics(probes: [Self.probe(Self.added, hits: 12, delivered: 10)], decodingFailures: 0)
        #expect(statistics.unaccounted == 2)
        let error = #expect(throws: EventsLostError.self) { try statistics.requireNoLoss() }
        #expect(error?.description.contains("mempool:added: 12 hits, 10 delivered") == true)
        #expect(error?.description.contains("2 unaccounted") == true)
    }

    @Test("more events delivered than hits counted is a negative unaccounted and fails")
    func overDelivered() {
        let statistics = CaptureStatistics(probes: [Self.probe(Self.added, hits: 3, delivered: 5)], decodingFailures: 0)
        #expect(statistics.unaccounted == -2)
        #expect(throws: EventsLostError.self) { try statistics.requireNoLoss() }
    }

    @Test("undecodable records fail")
    func decodingFailures() {
        let statistics = CaptureStatistics(probes: [Self.probe(Self.added, hits: 3, delivered: 3)], decodingFailures: 1)
        let error = #expect(throws: EventsLostError.self) { try statistics.requireNoLoss() }
        #expect(error?.description.contains("1 undecodable") == true)
    }
}

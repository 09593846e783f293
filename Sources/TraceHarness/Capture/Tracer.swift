import CBPFShim
import Foundation
import Synchronization

/// Attaches the capture program to the USDT probes of a binary and streams
/// their events.
///
/// One tracer attaches each chosen probe once, at every site, for one process
/// or for every process running the binary, and keeps the attachment until
/// ``close()``: detaching costs the kernel about 0.13 s per site, so a test
/// suite should share a tracer rather than attach per assertion. Consumers
/// subscribe with ``events(pid:)``; each subscription sees the events that
/// arrive after it was made.
public final class Tracer: Sendable {
    /// Tunables of a capture session.
    public struct Options: Sendable {
        /// Size of the ring buffer in bytes (a power of two, at least a page).
        /// It must hold the largest payload expected (4 MB messages) with room
        /// to spare.
        public var ringBufferBytes: Int = 64 << 20
        /// The reader is woken once this many bytes wait; smaller bursts are
        /// collected every ``pollInterval`` instead, which keeps the cost of
        /// a probe hit low.
        public var wakeupBytes: Int = 256 << 10
        /// How long the reader sleeps when nothing wakes it, in milliseconds.
        public var pollInterval: Int32 = 5
        /// For probes not in the catalogue: bytes to read at each 8-byte
        /// unsigned argument (0: numbers only).
        public var rawPointeeBytes: Int = 0
        /// Print libbpf's debug messages to stderr.
        public var verboseLibbpf = false
        /// Attach a program that records nothing, to measure the cost of the
        /// uprobe alone (benchmarks only: no events arrive, hits are not
        /// counted).
        public var attachEmptyProgram = false
        /// Attach what can be attached and list the rest in ``Tracer/skipped``
        /// (e.g. a probe with an operand libbpf cannot read), instead of failing
        /// as a whole. It still fails when no probe could be attached.
        public var skipUnattachableProbes = false

        public init() {}
    }

    /// A probe the tracer attached to.
    public struct AttachedProbe: Sendable {
        public var probe: ProbeName
        /// The declaration used to decode it; nil when decoded raw.
        public var tracepoint: Tracepoint?
        public var sites: [ProbeSite]
        /// The BPF cookie selecting its layout.
        public var cookie: UInt32
    }

    public let binary: String
    /// The process traced, or nil for every process running the binary.
    public let pid: Int32?
    public let probes: [AttachedProbe]
    /// Probes that could not be attached, with
    /// ``Options/skipUnattachableProbes``; empty otherwise.
    public let skipped: [SkippedProbe]

    private let resources: LibbpfResources
    private let hub: EventHub
    private let reader: RingBufferReader

    /// Loads the capture program and attaches it to `binary`'s probes.
    ///
    /// - Parameters:
    ///   - binary: path of the ELF binary whose probes to attach.
    ///   - pid: trace only this process (nil: every process of the binary).
    ///   - probes: the probes to attach; nil for every probe in the binary.
    ///   - catalogue: declarations used to decode known probes; others are
    ///     decoded raw.
    public init(
        binary: String,
        pid: Int32? = nil,
        probes selection: [ProbeName]? = nil,
        catalogue: TracepointCatalogue = .tapyrusd,
        options: Options = Options()
    ) throws(TracerError) {
        let sites: [ProbeSite]
        do {
            sites = try ProbeDiscovery.sites(inBinaryAt: binary)
        } catch {
            throw .discovery(error)
        }
        var byProbe: [ProbeName: [ProbeSite]] = [:]
        var order: [ProbeName] = []
        for site in sites {
            if byProbe[site.probe] == nil { order.append(site.probe) }
            byProbe[site.probe, default: []].append(site)
        }
        if let selection {
            if let unknown = selection.first(where: { byProbe[$0] == nil }) {
                throw .noSuchProbe(unknown, binary: binary, available: order.sorted())
            }
            order = order.filter(selection.contains)
        }
        guard order.count <= Int(TT_MAX_LAYOUTS) else { throw .tooManyProbes(order.count) }
        if let pid, kill(pid, 0) != 0, errno == ESRCH {
            throw .noSuchProcess(pid)
        }
        if let missing = Privileges.missingForTracing() {
            throw .notPermitted(missing)
        }

        var attached: [AttachedProbe] = []
        var decoderProbes: [RecordDecoder.Probe] = []
        for (index, probe) in order.enumerated() {
            let probeSites = byProbe[probe] ?? []
            var tracepoint = catalogue[probe]
            // A site whose argument count differs from the declaration is
            // decoded raw: the declaration cannot describe it.
            if let declared = tracepoint, probeSites.contains(where: { $0.arguments.count != declared.fields.count }) {
                tracepoint = nil
            }
            let layout: CaptureLayout
            do throws(CaptureLayoutError) {
                if let tracepoint {
                    layout = try CaptureLayout(tracepoint: tracepoint)
                } else {
                    layout = try CaptureLayout(rawArguments: probeSites[0].arguments, probe: probe, pointeeBytes: options.rawPointeeBytes)
                }
            } catch {
                throw .layout(error)
            }
            attached.append(AttachedProbe(probe: probe, tracepoint: tracepoint, sites: probeSites, cookie: UInt32(index)))
            decoderProbes.append(RecordDecoder.Probe(name: probe, tracepoint: tracepoint, layout: layout))
        }

        let resources = try LibbpfResources(options: options)
        for (probe, decoded) in zip(attached, decoderProbes) {
            try resources.setLayout(decoded.layout.abi, cookie: probe.cookie)
        }
        var kept: [AttachedProbe] = []
        var skipped: [SkippedProbe] = []
        for probe in attached {
            do throws(TracerError) {
                try resources.attach(binary: binary, pid: pid, probe: probe.probe, cookie: probe.cookie)
                kept.append(probe)
            } catch {
                if options.skipUnattachableProbes, case let .attachFailed(name, reason) = error {
                    skipped.append(SkippedProbe(probe: name, reason: reason))
                    continue
                }
                resources.destroy()
                throw error
            }
        }
        if kept.isEmpty, !skipped.isEmpty {
            resources.destroy()
            throw .nothingAttached(skipped)
        }

        self.binary = binary
        self.pid = pid
        self.probes = kept
        self.skipped = skipped
        self.resources = resources
        self.hub = EventHub()
        let decoder = RecordDecoder(probes: decoderProbes, monotonicToEpochOffset: Self.monotonicToEpochOffset())
        self.reader = try RingBufferReader(resources: resources, decoder: decoder, hub: hub, pollInterval: options.pollInterval)
    }

    deinit {
        close()
    }

    /// A stream of the events that arrive from now on, from process `pid`
    /// or from every traced process. It ends when the tracer is closed.
    public func events(pid: Int32? = nil) -> AsyncStream<TraceEvent> {
        hub.subscribe(pid: pid)
    }

    /// Calls `handler` on the reader thread for every event from now on,
    /// until the returned subscription is cancelled or the tracer closes.
    /// For consumers that must keep up with millions of events a second.
    public func onEvent(pid: Int32? = nil, _ handler: @escaping @Sendable (TraceEvent) -> Void) -> EventHub.Subscription {
        hub.subscribe(pid: pid, handler: handler)
    }

    /// Waits until every event of probe hits that happened before this call
    /// has been decoded and handed to subscribers.
    public func drain() async {
        let target = reader.generation + 2
        while reader.generation < target && reader.isRunning {
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Counters of the capture so far, per probe.
    public func statistics() -> CaptureStatistics {
        let delivered = reader.deliveredCounts()
        let probeStatistics = probes.map { probe in
            let kernel = resources.statistics(cookie: probe.cookie)
            return CaptureStatistics.Probe(
                probe: probe.probe,
                hits: kernel.hits,
                delivered: delivered[Int(probe.cookie)],
                lost: kernel.events_lost,
                payloadsCut: kernel.chunks_lost,
                readFaults: kernel.read_faults
            )
        }
        return CaptureStatistics(probes: probeStatistics, decodingFailures: reader.decodingFailures)
    }

    /// Stops reading, ends every subscription and detaches every probe.
    /// Safe to call more than once.
    public func close() {
        reader.stop()
        hub.finishAll()
        resources.destroy()
    }

    private static func monotonicToEpochOffset() -> Double {
        var monotonic = timespec()
        var realtime = timespec()
        clock_gettime(CLOCK_MONOTONIC, &monotonic)
        clock_gettime(CLOCK_REALTIME, &realtime)
        return (Double(realtime.tv_sec) + Double(realtime.tv_nsec) / 1e9) - (Double(monotonic.tv_sec) + Double(monotonic.tv_nsec) / 1e9)
    }
}

/// A probe a ``Tracer`` could not attach, and why.
public struct SkippedProbe: Sendable, Hashable, CustomStringConvertible {
    public var probe: ProbeName
    public var reason: String

    public init(probe: ProbeName, reason: String) {
        self.probe = probe
        self.reason = reason
    }

    public var description: String { "\(probe): \(reason)" }
}

/// What went wrong while setting up a capture.
public enum TracerError: Error, Sendable, CustomStringConvertible {
    case discovery(ProbeDiscoveryError)
    case noSuchProbe(ProbeName, binary: String, available: [ProbeName])
    case noSuchProcess(Int32)
    case notPermitted(String)
    case tooManyProbes(Int)
    case layout(CaptureLayoutError)
    case loadFailed(String)
    case attachFailed(ProbeName, String)
    /// With ``Tracer/Options/skipUnattachableProbes``, every probe failed.
    case nothingAttached([SkippedProbe])
    case readerFailed(String)

    public var description: String {
        switch self {
        case .discovery(let error):
            error.description
        case .noSuchProbe(let probe, let binary, let available):
            "\(binary) has no probe \(probe); it has: \(available.map(\.description).joined(separator: ", "))"
        case .noSuchProcess(let pid):
            "no process with pid \(pid)"
        case .notPermitted(let missing):
            "not permitted to load eBPF programs: \(missing)"
        case .tooManyProbes(let count):
            "\(count) probes requested; at most \(TT_MAX_LAYOUTS) can be attached at once"
        case .layout(let error):
            error.description
        case .loadFailed(let reason):
            "cannot load the eBPF capture program: \(reason)"
        case .attachFailed(let probe, let reason):
            "cannot attach to \(probe): \(reason)"
        case .nothingAttached(let skipped):
            "no probe could be attached: " + skipped.map(\.description).joined(separator: "; ")
        case .readerFailed(let reason):
            "cannot read the ring buffer: \(reason)"
        }
    }
}

/// Counters of one capture, per probe.
public struct CaptureStatistics: Sendable, Codable {
    public struct Probe: Sendable, Codable {
        public var probe: ProbeName
        /// Times the capture program ran for this probe (kernel count).
        public var hits: UInt64
        /// Events decoded in user space.
        public var delivered: UInt64
        /// Hits whose record found the ring buffer full: lost.
        public var lost: UInt64
        /// Payloads cut short because the ring buffer was full (their events
        /// arrive, marked incomplete).
        public var payloadsCut: UInt64
        /// Argument reads that failed (their values arrive as unreadable).
        public var readFaults: UInt64
    }

    public var probes: [Probe]
    /// Records user space could not decode (a bug if ever non-zero).
    public var decodingFailures: UInt64

    public var hits: UInt64 { probes.reduce(0) { $0 + $1.hits } }
    public var delivered: UInt64 { probes.reduce(0) { $0 + $1.delivered } }
    public var lost: UInt64 { probes.reduce(0) { $0 + $1.lost } }
    public var payloadsCut: UInt64 { probes.reduce(0) { $0 + $1.payloadsCut } }

    /// Hits neither delivered nor counted lost: records still in flight
    /// (call ``Tracer/drain()`` first) or a bug.
    public var unaccounted: Int64 { Int64(bitPattern: hits &- delivered &- lost) }

    /// Throws unless every hit was delivered whole.
    public func requireNoLoss() throws(EventsLostError) {
        guard lost == 0, payloadsCut == 0, decodingFailures == 0, unaccounted == 0 else {
            throw EventsLostError(statistics: self)
        }
    }
}

/// Events were lost, cut or left unaccounted during a capture.
public struct EventsLostError: Error, Sendable, CustomStringConvertible {
    public var statistics: CaptureStatistics
    public var description: String {
        let details = statistics.probes
            .filter { $0.lost > 0 || $0.payloadsCut > 0 || $0.hits != $0.delivered + $0.lost }
            .map { "\($0.probe): \($0.hits) hits, \($0.delivered) delivered, \($0.lost) lost, \($0.payloadsCut) payloads cut" }
        return "events lost: \(statistics.lost) lost, \(statistics.payloadsCut) payloads cut, \(statistics.unaccounted) unaccounted, \(statistics.decodingFailures) undecodable (\(details.joined(separator: "; ")))"
    }
}

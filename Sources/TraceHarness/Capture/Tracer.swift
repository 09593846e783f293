import CBPFShim
import Foundation
import Synchronization

/// Attaches the capture program to the USDT probes of a binary and streams
/// their events.
///
/// One tracer attaches each chosen probe once, at every site, for one process
/// or for every process running the binary, and keeps the attachment until
/// ``close()``. Where the kernel has multi-uprobe links, all sites share one
/// link, attached and detached in a few milliseconds; elsewhere each site is
/// its own uprobe, and detaching costs the kernel about 0.1 s per site, so a
/// test suite should share a tracer rather than attach per assertion.
/// Consumers subscribe with ``events(pid:)``; each subscription sees the
/// events that arrive after it was made.
///
/// For example:
///
/// ```swift
/// let tracer = try Tracer(binary: "/usr/local/bin/tapyrusd", pid: node.pid)
/// defer { tracer.close() }
/// for await event in tracer.events() { print(event.probe) }
/// ```
///
/// ## Topics
///
/// ### Counting
/// - ``statistics()``
/// - ``statistics(pid:)``
/// - ``siteStatistics(pid:)``
/// - ``siteHits(pid:)``
/// - ``tracedProcesses()``
public final class Tracer: Sendable {
    /// Tunables of a capture session.
    public struct Options: Sendable {
        /// How to attach: one multi-uprobe link where the kernel has them
        /// (the default), or one uprobe per site.
        public var attachMode: AttachMode = .automatic
        /// Size of the ring buffer in bytes (a power of two, at least a
        /// page); nil sizes it from what the chosen probes can emit (see
        /// ``Tracer/ringBufferBytes(for:)``).
        public var ringBufferBytes: Int?
        /// The reader is woken when this many bytes wait; smaller bursts are
        /// collected every ``pollInterval`` instead, which keeps the cost of
        /// a probe hit low. nil: a sixteenth of the ring buffer.
        public var wakeupBytes: Int?
        /// How long the reader sleeps when nothing wakes it, in milliseconds.
        public var pollInterval: Int32 = 5
        /// Read the payloads (P2P messages) of the probes that have them.
        /// Without, a payload arrives with its declared length and no bytes
        /// (``Payload/isComplete`` is then false), and the ring buffer is
        /// sized for events alone.
        public var capturesPayloads = true
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
        /// (e.g. a probe with an operand the program cannot read), instead of
        /// failing as a whole. It still fails when no probe could be attached.
        public var skipUnattachableProbes = false

        public init() {}
    }

    /// How long a tracer took to start.
    public struct SetupTimes: Sendable {
        /// Loading the program into the kernel, which verifies it.
        public var load: Duration
        /// Attaching it to every site (the uprobes' registration).
        public var attach: Duration
    }

    /// A probe the tracer attached to.
    public struct AttachedProbe: Sendable {
        public var probe: ProbeName
        /// The declaration used to decode it; nil when decoded raw.
        public var tracepoint: Tracepoint?
        public var sites: [ProbeSite]
    }

    public let binary: String
    /// The process traced, or nil for every process running the binary.
    public let pid: Int32?
    public let probes: [AttachedProbe]
    /// Probes that could not be attached, with
    /// ``Options/skipUnattachableProbes``; empty otherwise.
    public let skipped: [SkippedProbe]
    /// How the probes were attached: ``AttachMode/multiUprobe`` or
    /// ``AttachMode/perSite``.
    public let attachMode: AttachMode
    /// The ring buffer's size in bytes.
    public let ringBufferBytes: Int
    /// How long setting up took: loading the program (the kernel verifies
    /// it) and attaching it to the sites.
    public let setupTimes: SetupTimes
    /// The most payload bytes one hit of the attached probes can send (0
    /// when no payload is read): with a ring buffer at least this large
    /// plus a burst of events, such a payload arrives whole even while the
    /// reader is behind.
    public let largestPayload: Int

    /// Every site written into the program's table, by site index (the BPF
    /// cookie); sites of skipped probes never fire.
    private let sites: [CaptureSite]
    /// The probe names, by probe index.
    private let probeNames: [ProbeName]
    /// The probe indices of ``probes``.
    private let attachedIndices: [Int]
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
        let file: ELFFile
        let allSites: [ProbeSite]
        do {
            file = try ELFFile(contentsOf: binary)
            allSites = try ProbeDiscovery.sites(in: file)
        } catch {
            throw .discovery(error)
        }
        var byProbe: [ProbeName: [ProbeSite]] = [:]
        var order: [ProbeName] = []
        for site in allSites {
            if byProbe[site.probe] == nil { order.append(site.probe) }
            byProbe[site.probe, default: []].append(site)
        }
        if let selection {
            if let unknown = selection.first(where: { byProbe[$0] == nil }) {
                throw .noSuchProbe(unknown, binary: binary, available: order.sorted())
            }
            order = order.filter(selection.contains)
        }
        guard order.count <= Int(TT_MAX_PROBES) else { throw .tooManyProbes(order.count) }
        let siteCount = order.reduce(0) { $0 + (byProbe[$1]?.count ?? 0) }
        guard siteCount <= Int(TT_MAX_SITES) else { throw .tooManySites(siteCount) }
        if let pid, kill(pid, 0) != 0, errno == ESRCH {
            throw .noSuchProcess(pid)
        }
        if let missing = Privileges.missingForTracing() {
            throw .notPermitted(missing)
        }
        let mode = options.attachMode.resolved
        if options.attachMode == .multiUprobe, !AttachMode.kernelHasMultiUprobe {
            throw .attachModeUnavailable(.multiUprobe, "this kernel has no multi-uprobe links that filter by process (Linux 6.6 and later)")
        }

        // Layouts per probe, sites per probe; a probe whose sites cannot be
        // read is refused (or skipped) before anything is loaded.
        var candidates: [(probe: AttachedProbe, layout: CaptureLayout, sites: [CaptureSite])] = []
        var skipped: [SkippedProbe] = []
        let stapsdtBase = file.section(named: ".stapsdt.base")?.address
        for probe in order {
            let probeSites = byProbe[probe] ?? []
            var tracepoint = catalogue[probe]
            // A site whose argument count differs from the declaration is
            // decoded raw: the declaration cannot describe it.
            if let declared = tracepoint, probeSites.contains(where: { $0.arguments.count != declared.fields.count }) {
                tracepoint = nil
            }
            var layout: CaptureLayout
            do throws(CaptureLayoutError) {
                if let tracepoint {
                    layout = try CaptureLayout(tracepoint: tracepoint)
                } else {
                    layout = try CaptureLayout(rawArguments: probeSites[0].arguments, probe: probe, pointeeBytes: options.rawPointeeBytes)
                }
            } catch {
                throw .layout(error)
            }
            if !options.capturesPayloads { layout = layout.withoutPayloads }
            do throws(CaptureSiteError) {
                let located = try probeSites.map { site throws(CaptureSiteError) in
                    try CaptureSite(site: site, probeIndex: candidates.count, segments: file.segments, stapsdtBase: stapsdtBase)
                }
                candidates.append((AttachedProbe(probe: probe, tracepoint: tracepoint, sites: probeSites), layout, located))
            } catch {
                guard options.skipUnattachableProbes else { throw .attachFailed(probe, error.reason) }
                skipped.append(SkippedProbe(probe: probe, reason: error.reason))
            }
        }
        guard !candidates.isEmpty else { throw .nothingAttached(skipped) }

        let ringBufferBytes = options.ringBufferBytes ?? Self.ringBufferBytes(for: candidates.map(\.layout))
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard ringBufferBytes >= pageSize, ringBufferBytes & (ringBufferBytes - 1) == 0, ringBufferBytes <= 1 << 30 else {
            throw .invalidRingBufferSize(ringBufferBytes, pageSize: pageSize)
        }
        let loadStart = ContinuousClock.now
        let wakeupBytes = options.wakeupBytes ?? ringBufferBytes / 16
        let resources = try LibbpfResources(.init(
            mode: mode, ringBufferBytes: ringBufferBytes,
            wakeupBytes: wakeupBytes,
            emptyProgram: options.attachEmptyProgram, verbose: options.verboseLibbpf))

        let sites = candidates.flatMap(\.sites)
        for (index, site) in sites.enumerated() {
            try resources.setSite(site.abi(layout: candidates[site.probeIndex].layout), index: UInt32(index))
        }
        var siteIndices: [[Int]] = Array(repeating: [], count: candidates.count)
        for (index, site) in sites.enumerated() { siteIndices[site.probeIndex].append(index) }
        func attachments(_ probeIndex: Int) -> [LibbpfResources.Attachment] {
            siteIndices[probeIndex].map { index in
                LibbpfResources.Attachment(offset: sites[index].offset, semaphoreOffset: sites[index].semaphoreOffset, cookie: UInt64(index))
            }
        }
        /// The error for a failed attachment: the pid gone, or the kernel's reason.
        func failure(_ probe: ProbeName, _ error: LibbpfResources.AttachError) -> TracerError {
            if let pid, kill(pid, 0) != 0, errno == ESRCH { return .noSuchProcess(pid) }
            return .attachFailed(probe, error.reason)
        }

        let attachStart = ContinuousClock.now
        var kept: [Int] = []
        do throws(TracerError) {
            switch mode {
            case .multiUprobe:
                let all = candidates.indices.flatMap(attachments)
                do throws(LibbpfResources.AttachError) {
                    try resources.attachMulti(binary: binary, pid: pid, all)
                    kept = Array(candidates.indices)
                } catch {
                    // The kernel refuses the link as a whole: find the probes
                    // it refuses, one link each, then link the others.
                    var accepted: [Int] = []
                    for index in candidates.indices {
                        do throws(LibbpfResources.AttachError) {
                            try resources.attachMulti(binary: binary, pid: pid, attachments(index))
                            accepted.append(index)
                        } catch {
                            let failed = failure(candidates[index].probe.probe, error)
                            guard options.skipUnattachableProbes, case .attachFailed(let name, let reason) = failed else { throw failed }
                            skipped.append(SkippedProbe(probe: name, reason: reason))
                        }
                    }
                    kept = accepted
                }
            case .perSite, .automatic:
                for index in candidates.indices {
                    do throws(LibbpfResources.AttachError) {
                        for attachment in attachments(index) {
                            try resources.attachUprobe(binary: binary, pid: pid, attachment)
                        }
                        kept.append(index)
                    } catch {
                        let failed = failure(candidates[index].probe.probe, error)
                        guard options.skipUnattachableProbes, case .attachFailed(let name, let reason) = failed else { throw failed }
                        skipped.append(SkippedProbe(probe: name, reason: reason))
                    }
                }
            }
        } catch {
            resources.destroy()
            throw error
        }
        if kept.isEmpty {
            resources.destroy()
            throw .nothingAttached(skipped)
        }
        let attached = ContinuousClock.now

        self.binary = binary
        self.pid = pid
        self.probes = kept.map { candidates[$0].probe }
        self.skipped = skipped
        self.attachMode = mode
        self.ringBufferBytes = ringBufferBytes
        self.setupTimes = SetupTimes(load: attachStart - loadStart, attach: attached - attachStart)
        self.largestPayload = kept.map { candidates[$0].layout.payloadBound }.max() ?? 0
        self.sites = sites
        self.probeNames = candidates.map(\.probe.probe)
        self.attachedIndices = kept
        self.resources = resources
        self.hub = EventHub()
        let decoder = RecordDecoder(
            probes: candidates.map { RecordDecoder.Probe(name: $0.probe.probe, tracepoint: $0.probe.tracepoint, layout: $0.layout) },
            siteProbes: sites.map(\.probeIndex),
            monotonicToEpochOffset: Self.monotonicToEpochOffset())
        do {
            self.reader = try RingBufferReader(descriptor: resources.eventsDescriptor, dataBytes: ringBufferBytes, wakeupBytes: wakeupBytes,
                                               decoder: decoder, hub: hub, pollInterval: options.pollInterval)
        } catch {
            resources.destroy()
            throw error
        }
    }

    deinit {
        close()
    }

    /// The ring buffer size for probes of these layouts: room for a burst of
    /// 16,384 of their largest event records (at most 4 MiB: the ring is
    /// resident memory for the whole capture), plus the largest payload one
    /// hit can send, rounded up to a power of two, at least 1 MiB. Without
    /// payloads that is 4 MiB (16,384 small records, about 6,000 with long
    /// strings); with tapyrusd's 32 MiB P2P messages, 64 MiB.
    static func ringBufferBytes(for layouts: [CaptureLayout]) -> Int {
        let record = layouts.map(\.eventRecordBytes).max() ?? 0
        let events = min(record * 16_384, 4 << 20)
        let payload = layouts.map(\.payloadBound).max() ?? 0
        let needed = max(events + payload, 1 << 20)
        return 1 << (Int.bitWidth - (needed - 1).leadingZeroBitCount)
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
        await reader.wait(forGeneration: reader.generation + 2)
    }

    /// Counters of the capture so far, per probe, for every traced process.
    public func statistics() -> CaptureStatistics {
        let counts = reader.counts.total
        let kernel = kernelCounters()
        return summary(of: siteStatistics(counts: counts, kernel: kernel), pid: nil, counts: counts, kernel: kernel)
    }

    /// Counters of the capture so far, per probe, for process `pid` alone.
    ///
    /// Hits are delivered + lost (the kernel counts hits per site, not per
    /// process); losses, cut payloads and read faults are the kernel's
    /// counts for this process, and delivered events and undecodable records
    /// user space's. A process never traced has all counts zero.
    public func statistics(pid: Int32) -> CaptureStatistics {
        let counts = processCounts(pid)
        return summary(of: siteStatistics(pid: pid, counts: counts), pid: pid, counts: counts, kernel: kernelCounters())
    }

    /// Counters per site, for every traced process or for process `pid`
    /// alone (hits are then delivered + lost), in site index order.
    public func siteStatistics(pid: Int32? = nil) -> [SiteStatistics] {
        guard let pid else { return siteStatistics(counts: reader.counts.total, kernel: kernelCounters()) }
        return siteStatistics(pid: pid, counts: processCounts(pid))
    }

    /// How often each site fired, for every traced process or for process
    /// `pid` alone: which of a binary's sites a run covered.
    public func siteHits(pid: Int32? = nil) -> [ProbeSite: UInt64] {
        Dictionary(siteStatistics(pid: pid).map { ($0.site, $0.hits) }, uniquingKeysWith: +)
    }

    /// The processes that delivered an event or had one lost so far.
    public func tracedProcesses() -> [Int32] {
        Set(reader.counts.processes.keys).union(resources.processesWithLosses()).sorted()
    }

    /// The kernel's counters of every site, by site index.
    private func kernelCounters() -> [tt_site_stats] {
        sites.indices.map { resources.siteStatistics(UInt32($0)) }
    }

    private func processCounts(_ pid: Int32) -> RecordDecoder.SiteCounts {
        reader.counts.processes[pid] ?? RecordDecoder.SiteCounts(sites: sites.count)
    }

    private func siteStatistics(counts: RecordDecoder.SiteCounts, kernel: [tt_site_stats]) -> [SiteStatistics] {
        sites.indices.map { index in
            SiteStatistics(
                site: sites[index].site, hits: kernel[index].hits, delivered: counts.delivered[index], lost: kernel[index].events_lost,
                payloadsCut: kernel[index].chunks_lost, readFaults: kernel[index].read_faults, decodingFailures: counts.failures[index])
        }
    }

    private func siteStatistics(pid: Int32, counts: RecordDecoder.SiteCounts) -> [SiteStatistics] {
        sites.indices.map { index in
            let kernel = resources.processLosses(pid: pid, site: UInt32(index))
            return SiteStatistics(
                site: sites[index].site, hits: counts.delivered[index] + kernel.events_lost, delivered: counts.delivered[index],
                lost: kernel.events_lost, payloadsCut: kernel.chunks_lost, readFaults: kernel.read_faults,
                decodingFailures: counts.failures[index])
        }
    }

    /// Sums site counters into probe counters for the attached probes.
    private func summary(of siteCounters: [SiteStatistics], pid: Int32?, counts: RecordDecoder.SiteCounts,
                         kernel: [tt_site_stats]) -> CaptureStatistics {
        var perProbe = probeNames.map { CaptureStatistics.Probe(probe: $0, hits: 0, delivered: 0, lost: 0, payloadsCut: 0, readFaults: 0) }
        for (index, site) in siteCounters.enumerated() {
            let probe = sites[index].probeIndex
            perProbe[probe].hits += site.hits
            perProbe[probe].delivered += site.delivered
            perProbe[probe].lost += site.lost
            perProbe[probe].payloadsCut += site.payloadsCut
            perProbe[probe].readFaults += site.readFaults
            perProbe[probe].decodingFailures += site.decodingFailures
        }
        return CaptureStatistics(
            pid: pid, probes: attachedIndices.map { perProbe[$0] },
            decodingFailures: counts.failures.reduce(0, +) + counts.unattributedFailures,
            unattributedFailures: kernel.reduce(0) { $0 + $1.unattributed })
    }

    /// Passes the reader has made over the ring buffer so far; events per
    /// pass tell how rarely the reader wakes (benchmarks).
    public var readerPasses: UInt64 { reader.generation }

    /// The kernel's count of runs of the capture program and the time spent
    /// in them, while a ``ProgramRunTimeStatistics`` is alive (else zero).
    public func programRunTime() -> ProgramRunTime {
        ProgramRunTime(descriptor: resources.programDescriptor)
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
    case tooManySites(Int)
    case layout(CaptureLayoutError)
    case invalidRingBufferSize(Int, pageSize: Int)
    /// The attach mode asked for cannot be used on this kernel.
    case attachModeUnavailable(AttachMode, String)
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
            "\(count) probes requested; at most \(TT_MAX_PROBES) can be attached at once"
        case .tooManySites(let count):
            "\(count) probe sites requested; at most \(TT_MAX_SITES) can be attached at once"
        case .layout(let error):
            error.description
        case .invalidRingBufferSize(let bytes, let pageSize):
            "ring buffer size \(bytes) must be a power of two from \(pageSize) bytes (a page) to 1 GiB"
        case .attachModeUnavailable(let mode, let reason):
            "cannot attach with \(mode): \(reason)"
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

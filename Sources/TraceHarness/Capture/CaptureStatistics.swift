/// Counters of one capture, per probe: for every process the tracer traced,
/// or for one of them.
///
/// For the whole tracer, ``Probe/hits`` is the kernel's count of times the
/// capture program ran, so `hits = delivered + lost` proves that nothing
/// went missing between the kernel and the subscribers (``unaccounted``).
/// The kernel counts hits per site, not per process: for one process
/// (``Tracer/statistics(pid:)``) a probe's hits are defined as its delivered
/// plus its lost events. Every loss is counted for the process it happened
/// in, so a loss in one process never shows in another's.
///
/// For example, a test that drives one node among several:
///
/// ```swift
/// await tracer.drain()
/// try tracer.statistics(pid: node.pid).requireNoLoss()
/// ```
public struct CaptureStatistics: Sendable, Codable {
    /// The counts of one probe.
    public struct Probe: Sendable, Codable {
        public var probe: ProbeName
        /// Times the capture program ran for this probe (kernel count); for
        /// one process, delivered + lost.
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
        /// Records of this probe that could not be decoded (a bug if ever
        /// non-zero).
        public var decodingFailures: UInt64

        public init(probe: ProbeName, hits: UInt64, delivered: UInt64, lost: UInt64, payloadsCut: UInt64,
                    readFaults: UInt64, decodingFailures: UInt64 = 0) {
            self.probe = probe
            self.hits = hits
            self.delivered = delivered
            self.lost = lost
            self.payloadsCut = payloadsCut
            self.readFaults = readFaults
            self.decodingFailures = decodingFailures
        }
    }

    /// The process these counts are for; nil for every traced process.
    public var pid: Int32?
    public var probes: [Probe]
    /// Records that could not be decoded, the probes' and those that named
    /// no known probe (a bug if ever non-zero).
    public var decodingFailures: UInt64
    /// Failures the kernel could not count per process because its table
    /// of processes was full. For one process, a loss may hide among them;
    /// ``requireNoLoss()`` then fails. The whole tracer's counts include
    /// them.
    public var unattributedFailures: UInt64

    public init(pid: Int32? = nil, probes: [Probe], decodingFailures: UInt64, unattributedFailures: UInt64 = 0) {
        self.pid = pid
        self.probes = probes
        self.decodingFailures = decodingFailures
        self.unattributedFailures = unattributedFailures
    }

    public var hits: UInt64 { probes.reduce(0) { $0 + $1.hits } }
    public var delivered: UInt64 { probes.reduce(0) { $0 + $1.delivered } }
    public var lost: UInt64 { probes.reduce(0) { $0 + $1.lost } }
    public var payloadsCut: UInt64 { probes.reduce(0) { $0 + $1.payloadsCut } }
    public var readFaults: UInt64 { probes.reduce(0) { $0 + $1.readFaults } }

    /// The counts of `probe`, if it is attached.
    public subscript(probe: ProbeName) -> Probe? {
        probes.first { $0.probe == probe }
    }

    /// Hits neither delivered nor counted lost: records still in flight
    /// (call ``Tracer/drain()`` first) or a bug.
    public var unaccounted: Int64 { Int64(bitPattern: hits &- delivered &- lost) }

    /// Throws unless every hit was delivered whole.
    public func requireNoLoss() throws(EventsLostError) {
        guard lost == 0, payloadsCut == 0, decodingFailures == 0, unaccounted == 0,
              pid == nil || unattributedFailures == 0
        else {
            throw EventsLostError(statistics: self)
        }
    }
}

/// Events were lost, cut or left unaccounted during a capture.
public struct EventsLostError: Error, Sendable, CustomStringConvertible {
    public var statistics: CaptureStatistics
    public var description: String {
        let details = statistics.probes
            .filter { $0.lost > 0 || $0.payloadsCut > 0 || $0.decodingFailures > 0 || $0.hits != $0.delivered + $0.lost }
            .map { "\($0.probe): \($0.hits) hits, \($0.delivered) delivered, \($0.lost) lost, \($0.payloadsCut) payloads cut" }
        let scope = statistics.pid.map { "events of process \($0) lost" } ?? "events lost"
        var text = "\(scope): \(statistics.lost) lost, \(statistics.payloadsCut) payloads cut, \(statistics.unaccounted) unaccounted, \(statistics.decodingFailures) undecodable"
        if statistics.pid != nil, statistics.unattributedFailures > 0 {
            text += ", \(statistics.unattributedFailures) failures not attributable to a process"
        }
        return text + " (\(details.joined(separator: "; ")))"
    }
}

/// Counters of one probe site: which sites fired, for a coverage report.
///
/// For the whole tracer ``hits`` is the kernel's count; for one process it
/// is delivered + lost, as in ``CaptureStatistics``.
public struct SiteStatistics: Sendable, Hashable {
    public var site: ProbeSite
    public var hits: UInt64
    public var delivered: UInt64
    public var lost: UInt64
    public var payloadsCut: UInt64
    public var readFaults: UInt64
    public var decodingFailures: UInt64

    public init(site: ProbeSite, hits: UInt64, delivered: UInt64, lost: UInt64, payloadsCut: UInt64, readFaults: UInt64, decodingFailures: UInt64) {
        self.site = site
        self.hits = hits
        self.delivered = delivered
        self.lost = lost
        self.payloadsCut = payloadsCut
        self.readFaults = readFaults
        self.decodingFailures = decodingFailures
    }
}

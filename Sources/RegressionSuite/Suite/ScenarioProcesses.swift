import Synchronization
import TraceHarness

/// The processes one scenario traced, each with the counts the shared tracer
/// already held for its pid before the process was this scenario's.
///
/// The shared tracer counts deliveries and losses per pid for every process
/// of the binary, across every scenario that runs beside this one. A
/// scenario's verdict accounts only for its own processes, and only for what
/// they did: pids are reused (this machine's `pid_max` is 32,768 and every
/// node thread takes one), so the counts of an earlier process with the
/// same pid are subtracted.
public final class ScenarioProcesses: Sendable {
    /// The tracer's counts for one pid at one moment: per probe and per site.
    public struct Counts: Sendable {
        public var statistics: CaptureStatistics
        public var siteHits: [ProbeSite: UInt64]

        public init(statistics: CaptureStatistics, siteHits: [ProbeSite: UInt64]) {
            self.statistics = statistics
            self.siteHits = siteHits
        }

        static func none(_ pid: Int32) -> Counts {
            Counts(statistics: CaptureStatistics(pid: pid, probes: [], decodingFailures: 0), siteHits: [:])
        }
    }

    private let baselines = Mutex<[Int32: Counts]>([:])
    /// The counts of every pid when the scenario began.
    private let initial: [Int32: Counts]

    /// An empty set; `initial` holds the tracer's counts per pid when the
    /// scenario began, the baseline of a pid recorded without being started.
    public init(initial: [Int32: Counts] = [:]) {
        self.initial = initial
    }

    /// Adds `pid` with the counts its pid had before the process was ours
    /// (`before`, else those it had when the scenario began), unless it is
    /// registered already.
    func register(_ pid: Int32, before: Counts?) {
        baselines.withLock { baselines in
            if baselines[pid] == nil {
                baselines[pid] = before ?? initial[pid] ?? .none(pid)
            }
        }
    }

    /// The registered pids, in order.
    public var pids: [Int32] { baselines.withLock { $0.keys.sorted() } }

    /// What process `pid` did since it was registered: the tracer's counts
    /// for the pid less the earlier process's.
    public func statistics(of pid: Int32, in tracer: Tracer) -> CaptureStatistics {
        let baseline = baselines.withLock { $0[pid] }
        return tracer.statistics(pid: pid).since(baseline?.statistics)
    }

    /// The hits of each site by the registered processes since they were
    /// registered, by site address (`0x…`), the sites none hit left out.
    public func siteHits(in tracer: Tracer) -> [String: UInt64] {
        var hits: [String: UInt64] = [:]
        for (pid, baseline) in baselines.withLock({ $0 }) {
            for (site, count) in tracer.siteHits(pid: pid) {
                let own = count &- (baseline.siteHits[site] ?? 0)
                if own > 0 { hits[SiteCoverage.addressText(site.address), default: 0] += own }
            }
        }
        return hits
    }
}

extension CaptureStatistics {
    /// These counts less `earlier`'s, probe by probe (a probe `earlier` does
    /// not have counts in full).
    public func since(_ earlier: CaptureStatistics?) -> CaptureStatistics {
        guard let earlier else { return self }
        let before = Dictionary(earlier.probes.map { ($0.probe, $0) }, uniquingKeysWith: { first, _ in first })
        let probes = probes.map { probe -> Probe in
            guard let old = before[probe.probe] else { return probe }
            return Probe(probe: probe.probe, hits: probe.hits &- old.hits, delivered: probe.delivered &- old.delivered,
                         lost: probe.lost &- old.lost, payloadsCut: probe.payloadsCut &- old.payloadsCut,
                         readFaults: probe.readFaults &- old.readFaults,
                         decodingFailures: probe.decodingFailures &- old.decodingFailures)
        }
        return CaptureStatistics(pid: pid, probes: probes, decodingFailures: decodingFailures &- earlier.decodingFailures,
                                 unattributedFailures: unattributedFailures &- earlier.unattributedFailures)
    }
}

extension Tracer {
    /// The counts of every process the tracer has seen, by pid.
    func countsByProcess() -> [Int32: ScenarioProcesses.Counts] {
        Dictionary(uniqueKeysWithValues: tracedProcesses().map {
            ($0, ScenarioProcesses.Counts(statistics: statistics(pid: $0), siteHits: siteHits(pid: $0)))
        })
    }
}

extension Check {
    /// Records that process `pid` of the scenario delivered every hit whole:
    /// none lost, no payload cut, no argument unreadable, no record
    /// undecodable, no loss hidden among failures the kernel could not
    /// attribute to a process.
    func accounted(_ statistics: CaptureStatistics, process pid: Int32) {
        let name = "process \(pid)"
        equal(statistics.lost, 0, "\(name): no event lost")
        equal(statistics.payloadsCut, 0, "\(name): no payload cut")
        equal(statistics.readFaults, 0, "\(name): no argument unreadable")
        equal(statistics.decodingFailures, 0, "\(name): no record undecodable")
        equal(statistics.unaccounted, 0, "\(name): every hit delivered or counted lost")
        equal(statistics.unattributedFailures, 0, "\(name): no failure the kernel could not attribute to a process")
    }
}

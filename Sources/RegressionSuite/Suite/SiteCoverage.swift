import TraceHarness

/// Which probe sites of a binary fired while scenarios ran: a site that no
/// scenario reaches is a call site whose regressions the suite cannot see.
///
/// Made from the per-site counts of each scenario's own processes
/// (``ScenarioVerdict/siteHits``), with each
/// site's source line from the binary's line table, or from the call of its
/// probe in a source tree.
///
/// ```swift
/// let coverage = try SiteCoverage.measure(tracer: context.tracer, verdicts: verdicts, binary: binaries.tapyrusd)
/// print(coverage.uncovered.map(\.description))
/// ```
public struct SiteCoverage: Sendable, Codable, Equatable {
    /// One probe site and how often it fired.
    public struct Site: Sendable, Codable, Equatable, CustomStringConvertible {
        /// `provider:name`.
        public var probe: String
        /// The site's address in the binary, `0x…`.
        public var address: String
        /// `file:line` of its call, when debug info or a source tree gives it.
        public var location: String?
        public var hits: UInt64

        public init(probe: String, address: String, location: String?, hits: UInt64) {
            (self.probe, self.address, self.location, self.hits) = (probe, address, location, hits)
        }

        public var covered: Bool { hits > 0 }

        public var description: String { "\(probe) at \(location ?? address)" }
    }

    /// The binary whose sites these are.
    public var binary: String
    /// Every site of the binary's traced probes, by probe then address.
    public var sites: [Site]

    public init(binary: String, sites: [Site]) {
        self.binary = binary
        self.sites = sites
    }

    /// The sites that fired at least once.
    public var covered: [Site] { sites.filter(\.covered) }
    /// The sites that never fired.
    public var uncovered: [Site] { sites.filter { !$0.covered } }

    /// `covered/total sites`, e.g. `17/17 sites`.
    public var summary: String { "\(covered.count)/\(sites.count) sites" }

    /// An address as the sites' rows and ``ScenarioVerdict/siteHits`` write it.
    public static func addressText(_ address: UInt64) -> String { "0x" + String(address, radix: 16) }

    /// The sites `tracer` attached and the hits the scenarios of `verdicts`
    /// counted for their own processes (so nodes that other programs run
    /// from the same binary meanwhile count for nothing); locations from the
    /// binary's line table, paired with the macro calls under `source` when
    /// given (`SiteLocator`).
    public static func measure(tracer: Tracer, verdicts: [ScenarioVerdict], binary: String, source: String? = nil) throws(ConformanceInputError) -> SiteCoverage {
        let sites = tracer.siteStatistics().map(\.site)
        var hits: [String: UInt64] = [:]
        for verdict in verdicts { hits.merge(verdict.siteHits, uniquingKeysWith: +) }
        let lines = try? DebugLineTable.locations(of: sites.map(\.address), inBinaryAt: binary)
        var calls: [SourceCallSite] = []
        if let source { calls = try SourceScanner.callSites(inTreeAt: source) }
        var locations: [UInt64: SiteLocation] = [:]
        if source != nil || lines != nil {
            for (probe, probeSites) in Dictionary(grouping: sites, by: \.probe) {
                let pairings = SiteLocator.pair(sites: probeSites, calls: calls.filter { $0.probe == probe }, lines: lines)
                for pairing in pairings {
                    if let location = pairing.location { locations[pairing.address] = location }
                }
            }
        }
        let rows = sites.map { site in
            Site(probe: site.probe.description, address: addressText(site.address),
                 location: locations[site.address]?.description, hits: hits[addressText(site.address)] ?? 0)
        }
        return SiteCoverage(binary: binary, sites: rows.sorted { ($0.probe, $0.address.count, $0.address) < ($1.probe, $1.address.count, $1.address) })
    }

    /// The table `check --coverage` prints: probe, site, hits, and the
    /// uncovered sites named.
    public var lines: [String] {
        let probeWidth = max(34, (sites.map(\.probe.count).max() ?? 0) + 2)
        let siteWidth = max(12, (sites.map { ($0.location ?? $0.address).count }.max() ?? 0) + 2)
        func row(_ a: String, _ b: String, _ c: String) -> String {
            a.padding(toLength: probeWidth, withPad: " ", startingAt: 0) + b.padding(toLength: siteWidth, withPad: " ", startingAt: 0) + c
        }
        var lines = [row("PROBE", "SITE", "HITS")]
        for site in sites {
            lines.append(row(site.probe, site.location ?? site.address, site.covered ? "\(site.hits)" : "0 (uncovered)"))
        }
        lines.append("coverage: \(summary) fired" + (uncovered.isEmpty ? "" : "; uncovered: \(uncovered.map(\.description).joined(separator: ", "))"))
        return lines
    }
}

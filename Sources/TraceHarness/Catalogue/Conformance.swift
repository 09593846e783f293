/// How a binary's USDT probes differ from a catalogue.
public struct ConformanceReport: Sendable, Codable {
    /// One way a probe site differs from its declaration.
    public struct Mismatch: Sendable, Codable, Hashable, CustomStringConvertible {
        public var probe: ProbeName
        /// The site's index among the probe's sites, in note order.
        public var site: Int
        public var address: UInt64
        /// The argument's index, or nil when the argument count differs.
        public var argument: Int?
        public var field: String?
        public var expected: String
        public var found: String

        public var description: String {
            let place = "\(probe) site \(site) (0x\(String(address, radix: 16)))"
            if let argument {
                return "\(place): argument \(argument) (\(field ?? "?")) is \(found), the catalogue declares \(expected)"
            }
            return "\(place): has \(found) arguments, the catalogue declares \(expected)"
        }
    }

    /// Sites of one probe whose arguments disagree with each other.
    public struct SiteDisagreement: Sendable, Codable, Hashable, CustomStringConvertible {
        public var probe: ProbeName
        public var argument: Int
        /// The argument's size and sign at each site, as `[-]N`.
        public var sites: [String]
        public var description: String {
            "\(probe): argument \(argument) differs between sites: \(sites.joined(separator: " vs "))"
        }
    }

    public var binary: String
    /// Catalogued tracepoints the binary lacks.
    public var missing: [ProbeName]
    /// Probes in the binary the catalogue does not declare.
    public var extra: [ProbeName]
    public var mismatches: [Mismatch]
    public var siteDisagreements: [SiteDisagreement]
    /// Probes found (`provider:name`), with their number of sites.
    public var found: [String: Int]

    /// True when the binary has exactly the catalogue's tracepoints, each
    /// site with the declared argument sizes and signs.
    public var conforms: Bool {
        missing.isEmpty && extra.isEmpty && mismatches.isEmpty && siteDisagreements.isEmpty
    }

    /// Every difference, one line each.
    public var differences: [String] {
        missing.map { "\($0): declared in the catalogue, missing from the binary" }
            + extra.map { "\($0): in the binary, not in the catalogue" }
            + mismatches.map(\.description)
            + siteDisagreements.map(\.description)
    }
}

extension TracepointCatalogue {
    /// Compares probe sites read from `binary` with this catalogue.
    public func conformance(of sites: [ProbeSite], binary: String) -> ConformanceReport {
        let grouped = Dictionary(grouping: sites, by: \.probe)
        var report = ConformanceReport(
            binary: binary,
            missing: tracepoints.map(\.probe).filter { grouped[$0] == nil }.sorted(),
            extra: grouped.keys.filter { self[$0] == nil }.sorted(),
            mismatches: [],
            siteDisagreements: [],
            found: Dictionary(uniqueKeysWithValues: grouped.map { ($0.key.description, $0.value.count) })
        )
        for probe in grouped.keys.sorted() {
            let probeSites = grouped[probe] ?? []
            if let tracepoint = self[probe] {
                for (siteIndex, site) in probeSites.enumerated() {
                    report.mismatches += Self.mismatches(of: site, index: siteIndex, against: tracepoint)
                }
            }
            report.siteDisagreements += Self.disagreements(among: probeSites)
        }
        return report
    }

    private static func describe(size: Int, signed: Bool) -> String { signed ? "-\(size)" : "\(size)" }

    private static func mismatches(of site: ProbeSite, index: Int, against tracepoint: Tracepoint) -> [ConformanceReport.Mismatch] {
        guard site.arguments.count == tracepoint.fields.count else {
            return [.init(probe: site.probe, site: index, address: site.address, argument: nil, field: nil,
                          expected: "\(tracepoint.fields.count)", found: "\(site.arguments.count)")]
        }
        return zip(tracepoint.fields, site.arguments).enumerated().compactMap { position, pair in
            let (field, spec) = pair
            let expected = field.expectedSpec
            guard expected.size != spec.size || expected.isSigned != spec.isSigned else { return nil }
            return .init(probe: site.probe, site: index, address: site.address, argument: position, field: field.name,
                         expected: describe(size: expected.size, signed: expected.isSigned),
                         found: describe(size: spec.size, signed: spec.isSigned))
        }
    }

    private static func disagreements(among sites: [ProbeSite]) -> [ConformanceReport.SiteDisagreement] {
        guard sites.count > 1, let width = sites.map(\.arguments.count).max() else { return [] }
        return (0..<width).compactMap { argument in
            let described = sites.map { site in
                argument < site.arguments.count
                    ? describe(size: site.arguments[argument].size, signed: site.arguments[argument].isSigned)
                    : "absent"
            }
            return Set(described).count > 1 ? .init(probe: sites[0].probe, argument: argument, sites: described) : nil
        }
    }
}

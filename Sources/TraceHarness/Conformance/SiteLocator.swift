/// Where a probe site of a binary comes from in the source, and how that
/// is known.
public struct SiteLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// How a site's source line was found.
    public enum Basis: String, Sendable, Hashable, Codable {
        /// The binary's line table maps the site's address to this line.
        case debugInfo = "debug info"
        /// No line table: the site was paired with a call of its probe by
        /// argument sizes and signs, and by order.
        case inferred
    }

    public var location: SourceLine
    public var basis: Basis

    public init(location: SourceLine, basis: Basis) {
        self.location = location
        self.basis = basis
    }

    public var description: String { basis == .debugInfo ? location.description : "\(location) (inferred)" }
}

/// Pairs the probe sites of a binary with the macro calls of its source.
///
/// With the binary's line table, a site belongs to the call of its probe
/// whose lines hold the site's line (the compiler gives the `nop` the line
/// of the macro call, inlined or not; several sites can share a call that
/// was inlined in several places). Without one, a probe's sites and calls
/// are paired only when there are as many of each: the pairing whose
/// argument sizes and signs agree best, and among equals address order
/// with line order.
public enum SiteLocator {
    /// The pairing of one probe site.
    public struct Pairing: Sendable, Hashable {
        /// The site's address.
        public var address: UInt64
        /// The index of its call in the `calls` given, nil if none.
        public var call: Int?
        /// Its source line: the call's (relative to the scanned folder) when
        /// paired, else the line table's.
        public var location: SiteLocation?
    }

    /// Pairs `sites` with `calls` (all of one probe), using `lines` (address
    /// to line, from ``DebugLineTable``) when the binary has a line table.
    public static func pair(sites: [ProbeSite], calls: [SourceCallSite], lines: [UInt64: SourceLine]?) -> [Pairing] {
        if let lines {
            return sites.map { site in
                guard let line = lines[site.address] else { return Pairing(address: site.address, call: nil, location: nil) }
                let sameFile = calls.indices.filter { calls[$0].location.isSameFile(as: line) }
                let call = sameFile.first { calls[$0].contains(line: line.line) }
                    // Optimised code can give the nop a neighbouring line.
                    ?? sameFile.filter { calls[$0].location.line - 2 <= line.line && line.line <= calls[$0].endLine + 2 }
                        .min { abs(calls[$0].location.line - line.line) < abs(calls[$1].location.line - line.line) }
                let location = call.map { SiteLocation(location: calls[$0].location, basis: .debugInfo) }
                    ?? SiteLocation(location: line, basis: .debugInfo)
                return Pairing(address: site.address, call: call, location: location)
            }
        }
        guard !sites.isEmpty, sites.count == calls.count, sites.count <= 7 else {
            return sites.map { Pairing(address: $0.address, call: nil, location: nil) }
        }
        let byAddress = sites.indices.sorted { sites[$0].address < sites[$1].address }
        let byLine = calls.indices.sorted { calls[$0].location < calls[$1].location }
        var best: (score: Int, order: [Int])?
        for permutation in permutations(Array(0..<calls.count)) {
            // permutation[k]: the rank (in line order) of the call paired with the k-th site in address order.
            var score = 0
            var compatible = true
            for (rank, siteIndex) in byAddress.enumerated() {
                let value = agreement(sites[siteIndex], calls[byLine[permutation[rank]]])
                guard let value else { compatible = false; break }
                score += value
            }
            guard compatible else { continue }
            if best == nil || score > best!.score { best = (score, permutation) }
        }
        guard let best else { return sites.map { Pairing(address: $0.address, call: nil, location: nil) } }
        var pairings = sites.map { Pairing(address: $0.address, call: nil, location: nil) }
        for (rank, siteIndex) in byAddress.enumerated() {
            let call = byLine[best.order[rank]]
            pairings[siteIndex] = Pairing(address: sites[siteIndex].address, call: call,
                                          location: SiteLocation(location: calls[call].location, basis: .inferred))
        }
        return pairings
    }

    /// How well a site's note agrees with a call's argument types: +1 per
    /// argument whose known type has the note's size and sign, nil if one
    /// contradicts it or the counts differ.
    static func agreement(_ site: ProbeSite, _ call: SourceCallSite) -> Int? {
        guard site.arguments.count == call.arguments.count else { return nil }
        var score = 0
        for (spec, argument) in zip(site.arguments, call.arguments) {
            guard let type = argument.type else { continue }
            guard type.layout == spec.layout else { return nil }
            score += 1
        }
        return score
    }

    /// Every ordering of `items`, the identity first.
    static func permutations(_ items: [Int]) -> [[Int]] {
        guard items.count > 1 else { return [items] }
        var result: [[Int]] = []
        for (index, item) in items.enumerated() {
            var rest = items
            rest.remove(at: index)
            for tail in permutations(rest) { result.append([item] + tail) }
        }
        return result
    }
}

/// How the USDT probes of two builds of a binary differ: probes added or
/// removed, argument counts, sizes and signs changed, sites added or
/// removed, semaphores gained or lost.
///
/// Sites have no identity across builds (their addresses move), so the
/// sites of a probe are paired first by source line when both builds have
/// line tables (the same file and line; then, in a file with as many sites
/// in both, in line order), then by identical arguments, then in address
/// order; what stays unpaired was added or removed. The same
/// change at several sites is one change.
public struct ProbeDiff: Sendable, Hashable, Codable {
    /// One difference.
    public struct Change: Sendable, Hashable, Codable, CustomStringConvertible {
        public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
            case probeAdded, probeRemoved
            case argumentCount, argumentLayout
            case sitesAdded, sitesRemoved
            case semaphoreAdded, semaphoreRemoved
        }

        public var kind: Kind
        public var probe: ProbeName
        /// The argument (`arg0` is 0) for a size or sign change.
        public var position: Int?
        public var old: String?
        public var new: String?
        /// The sites it concerns (new build's addresses, or the old build's
        /// for removed sites), with their source lines where known.
        public var sites: [String]
        public var message: String

        public var description: String { "\(probe): \(message)" }
    }

    public var old: String
    public var new: String
    public var changes: [Change]
    /// Probes in both builds with no change.
    public var unchanged: [ProbeName]

    public var isEmpty: Bool { changes.isEmpty }

    /// Compares `new` with `old`; `oldLines` and `newLines` are the line
    /// tables' locations of the sites, when the builds have them.
    public init(old: (path: String, sites: [ProbeSite]), new: (path: String, sites: [ProbeSite]),
                oldLines: [UInt64: SourceLine]? = nil, newLines: [UInt64: SourceLine]? = nil) {
        self.old = old.path
        self.new = new.path
        let oldByProbe = Dictionary(grouping: old.sites, by: \.probe)
        let newByProbe = Dictionary(grouping: new.sites, by: \.probe)
        var changes: [Change] = []
        var unchanged: [ProbeName] = []
        for probe in Set(oldByProbe.keys).union(newByProbe.keys).sorted() {
            let before = (oldByProbe[probe] ?? []).sorted { $0.address < $1.address }
            let after = (newByProbe[probe] ?? []).sorted { $0.address < $1.address }
            let probeChanges = Self.changes(of: probe, before: before, after: after, oldLines: oldLines, newLines: newLines)
            if probeChanges.isEmpty { unchanged.append(probe) }
            changes += probeChanges
        }
        self.changes = changes
        self.unchanged = unchanged
    }

    private static func signature(_ site: ProbeSite) -> String {
        site.arguments.map(\.layout.description).joined(separator: " ")
    }

    private static func label(_ site: ProbeSite, _ lines: [UInt64: SourceLine]?) -> String {
        "0x\(String(site.address, radix: 16))" + (lines?[site.address].map { " (\($0))" } ?? "")
    }

    private static func changes(of probe: ProbeName, before: [ProbeSite], after: [ProbeSite],
                                oldLines: [UInt64: SourceLine]?, newLines: [UInt64: SourceLine]?) -> [Change] {
        func change(_ kind: Change.Kind, position: Int? = nil, old: String? = nil, new: String? = nil, sites: [String], _ message: String) -> Change {
            Change(kind: kind, probe: probe, position: position, old: old, new: new, sites: sites, message: message)
        }
        if before.isEmpty {
            let signatures = Set(after.map(signature)).sorted()
            return [change(.probeAdded, new: signatures.joined(separator: " | "), sites: after.map { label($0, newLines) },
                           "added: \(after.count) \(after.count == 1 ? "site" : "sites"), arguments \(signatures.map { "[\($0)]" }.joined(separator: " or "))")]
        }
        if after.isEmpty {
            let signatures = Set(before.map(signature)).sorted()
            return [change(.probeRemoved, old: signatures.joined(separator: " | "), sites: before.map { label($0, oldLines) },
                           "removed: it had \(before.count) \(before.count == 1 ? "site" : "sites"), arguments \(signatures.map { "[\($0)]" }.joined(separator: " or "))")]
        }
        var result: [Change] = []
        let hadSemaphore = before.contains(where: \.hasSemaphore), hasSemaphore = after.contains(where: \.hasSemaphore)
        if hadSemaphore != hasSemaphore {
            result.append(change(hasSemaphore ? .semaphoreAdded : .semaphoreRemoved, sites: after.map { label($0, newLines) },
                                 hasSemaphore ? "semaphore added (tracers must enable it)" : "semaphore removed"))
        }

        // Pair sites: by unchanged source line, then identical arguments, then address order.
        var freeOld = Array(before.indices), freeNew = Array(after.indices)
        var pairs: [(Int, Int)] = []
        func take(where matches: (ProbeSite, ProbeSite) -> Bool) {
            for newIndex in freeNew {
                if let position = freeOld.firstIndex(where: { matches(before[$0], after[newIndex]) }) {
                    pairs.append((freeOld[position], newIndex))
                    freeOld.remove(at: position)
                    freeNew.removeAll { $0 == newIndex }
                }
            }
        }
        if let oldLines, let newLines {
            // Builds made in different folders record different paths for
            // one file: compare the ends (`wallet/wallet.cpp`).
            take { old, new in
                guard let a = oldLines[old.address], let b = newLines[new.address] else { return false }
                return a.line == b.line && a.pathEnd == b.pathEnd
            }
            // Lines that moved: within one file with as many unpaired sites
            // in both builds, pair in line order.
            let oldByFile = Dictionary(grouping: freeOld.filter { oldLines[before[$0].address] != nil }) { oldLines[before[$0].address]!.pathEnd }
            let newByFile = Dictionary(grouping: freeNew.filter { newLines[after[$0].address] != nil }) { newLines[after[$0].address]!.pathEnd }
            for (file, oldIndices) in oldByFile.sorted(by: { $0.key < $1.key }) {
                guard let newIndices = newByFile[file], newIndices.count == oldIndices.count else { continue }
                let oldInOrder = oldIndices.sorted { oldLines[before[$0].address]!.line < oldLines[before[$1].address]!.line }
                let newInOrder = newIndices.sorted { newLines[after[$0].address]!.line < newLines[after[$1].address]!.line }
                for (oldIndex, newIndex) in zip(oldInOrder, newInOrder) {
                    pairs.append((oldIndex, newIndex))
                    freeOld.removeAll { $0 == oldIndex }
                    freeNew.removeAll { $0 == newIndex }
                }
            }
        }
        take { signature($0) == signature($1) }
        while !freeOld.isEmpty, !freeNew.isEmpty {
            pairs.append((freeOld.removeFirst(), freeNew.removeFirst()))
        }

        // Changes of paired sites, the same change at several sites once.
        var grouped: [(key: String, change: Change)] = []
        func record(_ item: Change) {
            let key = "\(item.kind)|\(item.position ?? -1)|\(item.old ?? "")|\(item.new ?? "")"
            if let index = grouped.firstIndex(where: { $0.key == key }) {
                grouped[index].change.sites += item.sites
            } else {
                grouped.append((key, item))
            }
        }
        for (oldIndex, newIndex) in pairs.sorted(by: { $0.1 < $1.1 }) {
            let old = before[oldIndex], new = after[newIndex]
            let site = [label(new, newLines)]
            if old.arguments.count != new.arguments.count {
                record(change(.argumentCount, old: "\(old.arguments.count)", new: "\(new.arguments.count)", sites: site,
                              "arguments \(old.arguments.count) → \(new.arguments.count) ([\(signature(old))] → [\(signature(new))])"))
            }
            for position in 0..<min(old.arguments.count, new.arguments.count)
            where old.arguments[position].layout != new.arguments[position].layout {
                let was = old.arguments[position].layout, now = new.arguments[position].layout
                record(change(.argumentLayout, position: position, old: was.description, new: now.description, sites: site,
                              "arg\(position) \(was) → \(now) (\(was.spelledOut) → \(now.spelledOut))"))
            }
        }
        result += grouped.map { item in
            var change = item.change
            if before.count > 1 || after.count > 1 {
                change.message += change.sites.count == after.count ? " at every site" : " at \(change.sites.joined(separator: ", "))"
            }
            return change
        }
        if !freeNew.isEmpty {
            let sites = freeNew.map { label(after[$0], newLines) }
            result.append(change(.sitesAdded, old: "\(before.count)", new: "\(after.count)", sites: sites,
                                 "sites \(before.count) → \(after.count): added \(sites.joined(separator: ", "))"))
        }
        if !freeOld.isEmpty {
            let sites = freeOld.map { label(before[$0], oldLines) }
            result.append(change(.sitesRemoved, old: "\(before.count)", new: "\(after.count)", sites: sites,
                                 "sites \(before.count) → \(after.count): removed \(sites.joined(separator: ", ")) (old build's addresses)"))
        }
        return result
    }
}

/// Three-way conformance of tracepoints: what a document says, what a
/// binary's USDT notes say and what the source's macro calls pass, side by
/// side, with every disagreement named.
///
/// Any two of the three can be compared; each is optional. For example:
///
/// ```swift
/// let audit = ConformanceAudit(
///     document: try TracingDocument(contentsOf: "doc/tracing.md"),
///     binary: ("tapyrusd", try ProbeDiscovery.sites(inBinaryAt: "tapyrusd")),
///     lines: try? DebugLineTable.locations(of: addresses, inBinaryAt: "tapyrusd"),
///     source: ("src", try SourceScanner.callSites(inTreeAt: "src")))
/// for disagreement in audit.disagreements { print(disagreement) }
/// ```
public struct ConformanceAudit: Sendable, Hashable, Codable {
    /// What was compared.
    public struct Inputs: Sendable, Hashable, Codable {
        public var document: String?
        public var binary: String?
        public var source: String?
        /// Why the binary's sites have no source lines, when they have none
        /// (no line table); nil when the line table was read.
        public var lineTableProblem: String?
    }

    /// One way the inputs disagree.
    public struct Disagreement: Sendable, Hashable, Codable, CustomStringConvertible {
        public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
            /// Documented, but neither the binary nor the source has it.
            case notInCode
            /// In the binary or the source, not in the document.
            case undocumented
            /// In the source (a probe or one call), not in the binary.
            case notInBinary
            /// In the binary (a probe or one site), not in the source.
            case notInSource
            /// Argument counts differ: document and code, a macro's name and
            /// its arguments, a site and its call.
            case argumentCount
            /// A documented argument the code does not pass.
            case notPassed
            /// An argument the code passes that the document does not list.
            case notDocumented
            /// Documented arguments passed in another order.
            case order
            /// A documented type whose size, sign or kind the note or the
            /// call's cast contradicts.
            case type
            /// A call passes an address (`&x`) where the document says a value.
            case address
            /// Sites or calls of one probe pass different types or counts.
            case sitesDisagree
            /// A documented argument without a type the reader knows.
            case untyped
        }

        public var kind: Kind
        public var probe: ProbeName
        /// The position in the code (`arg0` is 0) the disagreement is about, if one.
        public var position: Int?
        public var message: String

        public var description: String { "\(probe): \(message)" }
    }

    /// One probe site of the binary with its source line and call.
    public struct Site: Sendable, Hashable, Codable {
        public var address: UInt64
        public var semaphore: UInt64
        /// The note's argument specs, as written (`-8@%rax`).
        public var arguments: [String]
        public var layouts: [ValueLayout]
        public var location: SiteLocation?
        /// The index of its call in the tracepoint's `calls`, if paired.
        public var call: Int?
    }

    /// One argument position, side by side: the document's entry, each
    /// site's size and sign, each call's expression.
    public struct ArgumentRow: Sendable, Hashable, Codable {
        /// The position in the code (`arg0` is 0); nil for a documented
        /// argument the code does not pass.
        public var position: Int?
        /// The document's number for it (1-based, as written).
        public var documented: Int?
        public var documentedName: String?
        public var documentedType: String?
        /// Per site (in `sites` order); nil where the site has no such argument.
        public var layouts: [ValueLayout?]
        /// Per call (in `calls` order).
        public var expressions: [SourceArgument?]
    }

    /// Everything known of one tracepoint.
    public struct TracepointReport: Sendable, Hashable, Codable {
        public var probe: ProbeName
        public var documentation: DocumentedTracepoint?
        public var sites: [Site]
        public var calls: [SourceCallSite]
        public var arguments: [ArgumentRow]
        public var disagreements: [Disagreement]
    }

    public var inputs: Inputs
    /// Every tracepoint any input names, sorted by probe.
    public var tracepoints: [TracepointReport]

    /// Every disagreement, tracepoint by tracepoint.
    public var disagreements: [Disagreement] { tracepoints.flatMap(\.disagreements) }

    /// True when the inputs agree everywhere.
    public var conforms: Bool { tracepoints.allSatisfy(\.disagreements.isEmpty) }

    private enum CodingKeys: String, CodingKey {
        case inputs, conforms, disagreements, tracepoints
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        inputs = try container.decode(Inputs.self, forKey: .inputs)
        tracepoints = try container.decode([TracepointReport].self, forKey: .tracepoints)
    }

    /// Encodes the inputs, whether they conform, every disagreement and the
    /// tracepoints' side-by-side reports.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(inputs, forKey: .inputs)
        try container.encode(conforms, forKey: .conforms)
        try container.encode(disagreements, forKey: .disagreements)
        try container.encode(tracepoints, forKey: .tracepoints)
    }

    /// Compares what is given: a document, a binary's sites (with the line
    /// table's locations of their addresses, if it has one) and a source
    /// tree's calls.
    public init(document: TracingDocument?,
                binary: (path: String, sites: [ProbeSite])?,
                lines: Result<[UInt64: SourceLine], DebugInfoError>? = nil,
                source: (path: String, calls: [SourceCallSite])?) {
        let lineTable: [UInt64: SourceLine]?
        switch lines {
        case .success(let table): lineTable = table
        default: lineTable = nil
        }
        var problem: String?
        if case .failure(let error) = lines { problem = error.description }
        inputs = Inputs(document: document?.path, binary: binary?.path, source: source?.path, lineTableProblem: problem)

        let sitesByProbe = Dictionary(grouping: binary?.sites ?? [], by: \.probe)
        let callsByProbe = Dictionary(grouping: source?.calls ?? [], by: \.probe)
        var probes = Set(sitesByProbe.keys).union(callsByProbe.keys)
        for tracepoint in document?.tracepoints ?? [] { probes.insert(tracepoint.probe) }
        tracepoints = probes.sorted().map { probe in
            TracepointAuditor(
                probe: probe,
                documentation: document?[probe],
                hasDocument: document != nil,
                sites: binary == nil ? nil : sitesByProbe[probe] ?? [],
                calls: source == nil ? nil : (callsByProbe[probe] ?? []).sorted { $0.location < $1.location },
                lines: lineTable
            ).report()
        }
    }
}

/// Builds one tracepoint's report.
private struct TracepointAuditor {
    typealias Disagreement = ConformanceAudit.Disagreement

    let probe: ProbeName
    let documentation: DocumentedTracepoint?
    let hasDocument: Bool
    /// Nil when no binary was given.
    let sites: [ProbeSite]?
    /// Nil when no source was given.
    let calls: [SourceCallSite]?
    let lines: [UInt64: SourceLine]?

    private var allSites: [ProbeSite] { sites ?? [] }
    private var allCalls: [SourceCallSite] { calls ?? [] }

    func report() -> ConformanceAudit.TracepointReport {
        var disagreements: [Disagreement] = []
        func add(_ kind: Disagreement.Kind, _ position: Int? = nil, _ message: String) {
            disagreements.append(Disagreement(kind: kind, probe: probe, position: position, message: message))
        }

        let pairings: [SiteLocator.Pairing]
        if calls != nil {
            pairings = SiteLocator.pair(sites: allSites, calls: allCalls, lines: lines)
        } else {
            pairings = allSites.map { site in
                SiteLocator.Pairing(address: site.address, call: nil,
                                    location: lines?[site.address].map { SiteLocation(location: $0, basis: .debugInfo) })
            }
        }
        let reportSites = zip(allSites, pairings).map { site, pairing in
            ConformanceAudit.Site(address: site.address, semaphore: site.semaphore, arguments: site.arguments.map(\.text),
                                  layouts: site.arguments.map(\.layout), location: pairing.location, call: pairing.call)
        }

        presence(pairings: pairings, add: add)
        let count = codeCount(pairings: pairings, add: add)

        for argument in documentation?.arguments ?? [] where argument.type == nil {
            add(.untyped, nil, "\(Self.name(argument)) has no type the reader knows: \"\(argument.text)\"")
        }

        // The side-by-side rows and the document's disagreements.
        var evidence = Array(repeating: ArgumentAlignment.Evidence(), count: count)
        for call in allCalls { for (position, argument) in call.arguments.enumerated() where position < count { evidence[position].expressions.append(argument) } }
        for site in allSites { for (position, spec) in site.arguments.enumerated() where position < count { evidence[position].layouts.append(spec.layout) } }
        var documentedAt = [Int?](repeating: nil, count: count)
        var rows: [ConformanceAudit.ArgumentRow] = []
        if let documentation, !allSites.isEmpty || !allCalls.isEmpty {
            let documented = documentation.arguments
            if documented.count != count {
                add(.argumentCount, nil, "the document lists \(documented.count) \(Self.arguments(documented.count)), the code passes \(count)")
            }
            let alignment = ArgumentAlignment(documented: documented, evidence: evidence)
            for (index, position) in alignment.positions.enumerated() {
                if let position { documentedAt[position] = index }
            }
            for (index, argument) in documented.enumerated() {
                guard let position = alignment.positions[index] else {
                    add(.notPassed, nil, "\(Self.name(argument)) is documented, the code does not pass it")
                    continue
                }
                if alignment.isReordered, position != index {
                    add(.order, position, "\(Self.name(argument)) is documented in place \(index + 1), the code passes it as arg\(position)\(describe(position: position))")
                }
                checkType(of: argument, at: position, sites: reportSites, add: add)
            }
            for position in alignment.undocumented {
                add(.notDocumented, position, "arg\(position)\(describe(position: position)) is passed, the document does not list it")
            }
        }
        for position in 0..<count {
            rows.append(row(position: position, documented: documentedAt[position].map { documentation!.arguments[$0] }))
        }
        if let documentation {
            let paired = Set(documentedAt.compactMap { $0 })
            for (index, argument) in documentation.arguments.enumerated() where !paired.contains(index) {
                rows.append(row(position: nil, documented: argument))
            }
        }
        siteAgreement(count: count, pairings: pairings, add: add)
        return ConformanceAudit.TracepointReport(probe: probe, documentation: documentation, sites: reportSites, calls: allCalls,
                                                 arguments: rows, disagreements: disagreements)
    }

    // MARK: - Presence

    private func presence(pairings: [SiteLocator.Pairing], add: (Disagreement.Kind, Int?, String) -> Void) {
        let inBinary = !allSites.isEmpty, inSource = !allCalls.isEmpty
        if hasDocument, documentation == nil {
            var places: [String] = []
            if inBinary { places.append("the binary has \(allSites.count) \(Self.sites(allSites.count))") }
            if inSource { places.append("the source calls it at \(allCalls.map(\.location.description).joined(separator: ", "))") }
            add(.undocumented, nil, "not documented; " + places.joined(separator: " and "))
        }
        if let documentation, !inBinary, !inSource {
            let absent = [sites != nil ? "the binary" : nil, calls != nil ? "the source" : nil].compactMap { $0 }
            if !absent.isEmpty {
                add(.notInCode, nil, "documented (line \(documentation.line)), but \(absent.joined(separator: " and ")) \(absent.count == 1 ? "does" : "do") not have it")
            }
            return
        }
        guard sites != nil, calls != nil else { return }
        if inSource, !inBinary {
            add(.notInBinary, nil, "called at \(allCalls.map(\.location.description).joined(separator: ", ")), the binary has no such probe")
        } else if inBinary, !inSource {
            add(.notInSource, nil, "the binary has \(allSites.count) \(Self.sites(allSites.count)), the source has no call of it")
        } else if lines != nil {
            for pairing in pairings where pairing.call == nil {
                if let location = pairing.location {
                    add(.notInSource, nil, "the site at 0x\(String(pairing.address, radix: 16)) comes from \(location.location), where the source has no call of it")
                }
            }
            let paired = Set(pairings.compactMap(\.call))
            for (index, call) in allCalls.enumerated() where !paired.contains(index) {
                add(.notInBinary, nil, "the call at \(call.location) has no site in the binary")
            }
        }
    }

    // MARK: - Counts

    /// The number of arguments the code passes, after naming every count that disagrees.
    private func codeCount(pairings: [SiteLocator.Pairing], add: (Disagreement.Kind, Int?, String) -> Void) -> Int {
        for call in allCalls {
            if let declared = call.declaredCount, declared != call.arguments.count {
                add(.argumentCount, nil, "\(call.macro) at \(call.location) passes \(call.arguments.count) \(Self.arguments(call.arguments.count))")
            }
        }
        for (site, pairing) in zip(allSites, pairings) {
            guard let index = pairing.call else { continue }
            let call = allCalls[index]
            if site.arguments.count != call.arguments.count {
                add(.argumentCount, nil, "the site at 0x\(String(site.address, radix: 16)) has \(site.arguments.count) \(Self.arguments(site.arguments.count)), its call at \(call.location) passes \(call.arguments.count)")
            }
        }
        let siteCounts = Set(allSites.map(\.arguments.count))
        if siteCounts.count > 1 {
            let list = allSites.map { "\($0.arguments.count) at 0x\(String($0.address, radix: 16))" }.joined(separator: ", ")
            add(.sitesDisagree, nil, "the sites have different numbers of arguments: \(list)")
        }
        let callCounts = Set(allCalls.map(\.arguments.count))
        if callCounts.count > 1 {
            let list = allCalls.map { "\($0.arguments.count) at \($0.location)" }.joined(separator: ", ")
            add(.sitesDisagree, nil, "the calls pass different numbers of arguments: \(list)")
        }
        return (callCounts.isEmpty ? siteCounts : callCounts).max() ?? 0
    }

    // MARK: - Types

    private func checkType(of argument: DocumentedArgument, at position: Int, sites: [ConformanceAudit.Site],
                           add: (Disagreement.Kind, Int?, String) -> Void) {
        guard let type = argument.type else { return }
        let documented = "\(Self.name(argument)) is documented as \(argument.typeText ?? type.description)"
        // The notes' sizes and signs.
        let wrong = allSites.filter { position < $0.arguments.count && $0.arguments[position].layout != type.layout }
        if !wrong.isEmpty {
            let layouts = Set(wrong.map { $0.arguments[position].layout })
            let place: String
            if wrong.count == allSites.count {
                place = allSites.count == 1 ? "" : " at every site"
            } else {
                let lines = Dictionary(sites.map { ($0.address, $0.location) }, uniquingKeysWith: { first, _ in first })
                place = " at " + wrong.map { site in
                    "0x\(String(site.address, radix: 16))" + ((lines[site.address] ?? nil).map { " (\($0))" } ?? "")
                }.joined(separator: ", ")
            }
            let found = layouts.sorted { $0.description < $1.description }.map { Self.explain($0) }.joined(separator: " or ")
            add(.type, position, "\(documented) (\(Self.explain(type.layout))), the note has \(found)\(place) for arg\(position)")
        }
        // What the calls' text says.
        for call in allCalls where position < call.arguments.count {
            let passed = call.arguments[position]
            if passed.passesAddress {
                if !type.isPointer {
                    add(.address, position, "\(documented), a value; \(call.location) passes an address: \(passed.expression)")
                }
                continue
            }
            guard let passedType = passed.type else { continue }
            let contradicts: Bool
            switch (type, passedType) {
            case (.pointer, _) where passedType.isPointer: contradicts = false
            case (_, .pointer) where type.isPointer: contradicts = false
            default: contradicts = type.isPointer != passedType.isPointer || type.layout != passedType.layout
                || (type.isPointer && type != passedType)
            }
            if contradicts {
                let how = passed.cast.map { "casts it to (\($0))" } ?? "passes \(Self.article(passedType)) (\(passed.expression))"
                add(.type, position, "\(documented), \(call.location) \(how)")
            }
        }
    }

    // MARK: - Sites among themselves

    private func siteAgreement(count: Int, pairings: [SiteLocator.Pairing], add: (Disagreement.Kind, Int?, String) -> Void) {
        for position in 0..<count {
            let present = zip(allSites, pairings).filter { position < $0.0.arguments.count }
            if Set(present.map { $0.0.arguments[position].layout }).count > 1 {
                let list = present.map { site, pairing in
                    "\(site.arguments[position].layout) at 0x\(String(site.address, radix: 16))" + (pairing.location.map { " (\($0))" } ?? "")
                }
                add(.sitesDisagree, position, "arg\(position) differs between sites: \(list.joined(separator: " vs "))")
            }
            let passed = allCalls.filter { position < $0.arguments.count }
            let signatures = passed.map { call -> String? in
                let argument = call.arguments[position]
                return argument.passesAddress ? "address" : argument.type?.description
            }
            let known = Set(signatures.compactMap { $0 })
            let addressMixed = signatures.contains("address") && signatures.contains { $0 != "address" }
            if known.count > 1 || addressMixed {
                let list = passed.map { "\($0.arguments[position].expression) at \($0.location)" }
                add(.sitesDisagree, position, "arg\(position) differs between calls: \(list.joined(separator: " vs "))")
            }
        }
    }

    // MARK: - Rows and words

    private func row(position: Int?, documented argument: DocumentedArgument?) -> ConformanceAudit.ArgumentRow {
        ConformanceAudit.ArgumentRow(
            position: position,
            documented: argument?.number,
            documentedName: argument?.name,
            documentedType: argument?.typeText,
            layouts: allSites.map { site in position.flatMap { $0 < site.arguments.count ? site.arguments[$0].layout : nil } },
            expressions: allCalls.map { call in position.flatMap { $0 < call.arguments.count ? call.arguments[$0] : nil } })
    }

    /// ` (expr)` for the first call's expression at `position`, if any.
    private func describe(position: Int) -> String {
        guard let call = allCalls.first(where: { position < $0.arguments.count }) else {
            guard let site = allSites.first(where: { position < $0.arguments.count }) else { return "" }
            return " (\(Self.explain(site.arguments[position].layout)))"
        }
        return " (\(call.arguments[position].expression))"
    }

    static func name(_ argument: DocumentedArgument) -> String { "#\(argument.number) \"\(argument.name)\"" }

    static func explain(_ layout: ValueLayout) -> String {
        "\(layout): \(layout.spelledOut)"
    }

    static func article(_ type: ArgumentType) -> String {
        switch type {
        case .string: "a string"
        case .bytes: "bytes"
        case .pointer: "a pointer"
        case .bool: "a bool"
        case .integer: "an \(type)"
        }
    }

    static func arguments(_ count: Int) -> String { count == 1 ? "argument" : "arguments" }
    static func sites(_ count: Int) -> String { count == 1 ? "site" : "sites" }
}

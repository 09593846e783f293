import Testing
@testable import TraceHarness

@Suite("Conformance of a binary's probes to the catalogue")
struct ConformanceTests {
    static let catalogue = TracepointCatalogue.tapyrusd

    /// A site whose arguments are written as `[-]N` sizes, in registers.
    static func site(_ probe: String, _ sizes: [String], address: UInt64 = 0x1000) throws -> ProbeSite {
        ProbeSite(
            probe: try #require(ProbeName(probe)),
            address: address,
            base: 0x4000,
            semaphore: 0,
            arguments: try sizes.map { try ArgumentSpec(parsing: "\($0)@%rax") })
    }

    /// One site per catalogued tracepoint, each exactly as declared.
    static func perfectSites() throws -> [ProbeSite] {
        try catalogue.tracepoints.enumerated().map { index, tracepoint in
            let sizes = tracepoint.fields.map { field in
                (field.expectedSpec.isSigned ? "-" : "") + "\(field.expectedSpec.size)"
            }
            return try site(tracepoint.probe.description, sizes, address: 0x1000 + UInt64(index) * 0x10)
        }
    }

    /// Replaces the sites of `probe` with `replacement`.
    static func replacing(_ probe: String, in sites: [ProbeSite], with replacement: [ProbeSite]) throws -> [ProbeSite] {
        let name = try #require(ProbeName(probe))
        return sites.filter { $0.probe != name } + replacement
    }

    @Test("a binary with every tracepoint as declared conforms")
    func perfect() throws {
        let report = Self.catalogue.conformance(of: try Self.perfectSites(), binary: "tapyrusd")
        #expect(report.conforms)
        #expect(report.missing.isEmpty)
        #expect(report.extra.isEmpty)
        #expect(report.mismatches.isEmpty)
        #expect(report.siteDisagreements.isEmpty)
        #expect(report.differences.isEmpty)
        #expect(report.binary == "tapyrusd")
        #expect(report.found.count == 15)
        #expect(report.found.values.allSatisfy { $0 == 1 })
        #expect(report.found["net:inbound_message"] == 1)
    }

    @Test("two agreeing sites of one probe still conform and are counted")
    func twoAgreeingSites() throws {
        var sites = try Self.perfectSites()
        sites.append(try Self.site("mempool:added", ["8", "-4", "-8"], address: 0x9000))
        let report = Self.catalogue.conformance(of: sites, binary: "tapyrusd")
        #expect(report.conforms)
        #expect(report.found["mempool:added"] == 2)
    }

    @Test("a catalogued tracepoint the binary lacks is missing")
    func missing() throws {
        let sites = try Self.replacing("coin_selection:fee_info", in: try Self.perfectSites(), with: [])
        let report = Self.catalogue.conformance(of: sites, binary: "tapyrusd")
        #expect(!report.conforms)
        #expect(report.missing == [ProbeName(provider: "coin_selection", name: "fee_info")])
        #expect(report.extra.isEmpty)
        #expect(report.mismatches.isEmpty)
        #expect(report.differences == ["coin_selection:fee_info: declared in the catalogue, missing from the binary"])
    }

    @Test("missing tracepoints are listed sorted, and an empty binary misses all 15")
    func missingSorted() {
        let report = Self.catalogue.conformance(of: [], binary: "empty")
        #expect(report.missing.count == 15)
        #expect(report.missing == report.missing.sorted())
        #expect(report.found.isEmpty)
        #expect(!report.conforms)
    }

    @Test("a probe the catalogue does not declare is extra")
    func extra() throws {
        var sites = try Self.perfectSites()
        sites.append(try Self.site("net:closed_connection", ["-8", "8"]))
        sites.append(try Self.site("mempool:evicted", ["8"]))
        let report = Self.catalogue.conformance(of: sites, binary: "tapyrusd")
        #expect(!report.conforms)
        #expect(report.extra.map(\.description) == ["mempool:evicted", "net:closed_connection"])
        #expect(report.missing.isEmpty)
        #expect(report.mismatches.isEmpty)
        #expect(report.found["net:closed_connection"] == 1)
        #expect(report.differences.contains("net:closed_connection: in the binary, not in the catalogue"))
    }

    @Test("a site with a different number of arguments is a count mismatch, not per-argument mismatches")
    func argumentCount() throws {
        let sites = try Self.replacing("validation:block_connected", in: try Self.perfectSites(),
                                       with: [Self.site("validation:block_connected", ["8", "-4", "8", "-4", "-8"], address: 0xabc0)])
        let report = Self.catalogue.conformance(of: sites, binary: "tapyrusd")
        #expect(!report.conforms)
        try #require(report.mismatches.count == 1)
        let mismatch = report.mismatches[0]
        #expect(mismatch.probe == ProbeName(provider: "validation", name: "block_connected"))
        #expect(mismatch.site == 0)
        #expect(mismatch.address == 0xabc0)
        #expect(mismatch.argument == nil)
        #expect(mismatch.field == nil)
        #expect(mismatch.expected == "6")
        #expect(mismatch.found == "5")
        #expect(mismatch.description == "validation:block_connected site 0 (0xabc0): has 5 arguments, the catalogue declares 6")
    }

    @Test("an argument of the wrong size is a mismatch naming the field")
    func sizeMismatch() throws {
        // inbound message_size declared 4 unsigned; the binary passes 8 bytes.
        let sites = try Self.replacing("net:inbound_message", in: try Self.perfectSites(),
                                       with: [Self.site("net:inbound_message", ["-8", "8", "8", "8", "8", "8"], address: 0x10)])
        let report = Self.catalogue.conformance(of: sites, binary: "tapyrusd")
        #expect(!report.conforms)
        try #require(report.mismatches.count == 1)
        let mismatch = report.mismatches[0]
        #expect(mismatch.argument == 4)
        #expect(mismatch.field == "message_size")
        #expect(mismatch.expected == "4")
        #expect(mismatch.found == "8")
        #expect(mismatch.description == "net:inbound_message site 0 (0x10): argument 4 (message_size) is 8, the catalogue declares 4")
    }

    @Test("an argument of the wrong sign is a mismatch")
    func signMismatch() throws {
        // block_connected height declared 4 signed; the binary passes it unsigned.
        let sites = try Self.replacing("validation:block_connected", in: try Self.perfectSites(),
                                       with: [Self.site("validation:block_connected", ["8", "4", "8", "-4", "-8", "-8"])])
        let report = Self.catalogue.conformance(of: sites, binary: "tapyrusd")
        try #require(report.mismatches.count == 1)
        #expect(report.mismatches[0].argument == 1)
        #expect(report.mismatches[0].field == "height")
        #expect(report.mismatches[0].expected == "-4")
        #expect(report.mismatches[0].found == "4")
        #expect(report.siteDisagreements.isEmpty)
    }

    @Test("two sites of one probe that disagree are reported, along with the wrong site's mismatch")
    func siteDisagreement() throws {
        let sites = try Self.replacing("mempool:added", in: try Self.perfectSites(), with: [
            Self.site("mempool:added", ["8", "-4", "-8"], address: 0x100),
            Self.site("mempool:added", ["8", "-8", "-8"], address: 0x200),
        ])
        let report = Self.catalogue.conformance(of: sites, binary: "tapyrusd")
        #expect(!report.conforms)
        #expect(report.found["mempool:added"] == 2)
        try #require(report.siteDisagreements.count == 1)
        let disagreement = report.siteDisagreements[0]
        #expect(disagreement.probe == ProbeName(provider: "mempool", name: "added"))
        #expect(disagreement.argument == 1)
        #expect(disagreement.sites == ["-4", "-8"])
        #expect(disagreement.description == "mempool:added: argument 1 differs between sites: -4 vs -8")
        try #require(report.mismatches.count == 1)
        #expect(report.mismatches[0].site == 1)
        #expect(report.mismatches[0].address == 0x200)
        #expect(report.mismatches[0].field == "size")
    }

    @Test("sites with different argument counts disagree with 'absent' for the missing argument")
    func disagreementInCount() throws {
        let sites = [
            try Self.site("test:uncatalogued", ["8", "4"]),
            try Self.site("test:uncatalogued", ["8"]),
        ]
        let report = Self.catalogue.conformance(of: sites, binary: "fixture")
        #expect(report.extra == [ProbeName(provider: "test", name: "uncatalogued")])
        #expect(report.siteDisagreements.map(\.argument) == [1])
        #expect(report.siteDisagreements.first?.sites == ["4", "absent"])
        #expect(report.mismatches.isEmpty, "uncatalogued probes have nothing to mismatch")
    }

    @Test("sites read from an ELF note are checked against a custom catalogue")
    func fromELF() throws {
        let catalogue = TracepointCatalogue(tracepoints: [
            Tracepoint("fixture", "pair", "two numbers", fields: [.int64("a"), .uint32("b")]),
            Tracepoint("fixture", "flag", "a bool", fields: [.bool("on")]),
        ])
        let notes = ELFImageBuilder.stapsdtNote(provider: "fixture", name: "pair", address: 0x10, base: 0, arguments: "-8@%rdi 4@%esi")
            + ELFImageBuilder.stapsdtNote(provider: "fixture", name: "pair", address: 0x20, base: 0, arguments: "-8@-16(%rbp) -4@$3")
            + ELFImageBuilder.stapsdtNote(provider: "fixture", name: "flag", address: 0x30, base: 0, arguments: "1@%al")
        let sites = try ProbeDiscovery.sites(inELF: ELFImageBuilder.image(notes: notes))
        let report = catalogue.conformance(of: sites, binary: "fixture")
        #expect(report.missing.isEmpty)
        #expect(report.extra.isEmpty)
        #expect(report.mismatches.map(\.description) == ["fixture:pair site 1 (0x20): argument 1 (b) is -4, the catalogue declares 4"])
        #expect(report.siteDisagreements.map(\.description) == ["fixture:pair: argument 1 differs between sites: 4 vs -4"])
        #expect(report.differences.count == 2)
    }
}

import Testing
@testable import TraceHarness

@Suite("Source lines of probe sites: the DWARF line table and the pairing with calls")
struct SiteLocationTests {
    /// A DWARF 4 line program: door.cpp lines 10 and 15, then bell.h line
    /// 16, in one sequence at 0x1000–0x101c; and a sequence at address 0
    /// (a function the linker discarded) covering 0–0x2000.
    static func lineProgram() -> [UInt8] {
        var header: [UInt8] = [1, 1, 1, 0xfb, 14, 13] // min inst, max ops, is_stmt, line base -5, line range, opcode base
        header += [0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1] // standard opcode lengths
        header += Array("/src".utf8) + [0, 0] // include directories
        header += Array("door.cpp".utf8) + [0, 1, 0, 0] + Array("bell.h".utf8) + [0, 0, 0, 0] + [0]
        var program: [UInt8] = []
        program += [0, 9, 2] + ELFImageBuilder.littleEndian(UInt64(0x1000)) // set_address
        program += [3, 9, 1] // advance_line +9 (10), copy
        program += [2, 0x10, 3, 5, 1] // advance_pc 0x10, advance_line +5 (15), copy
        program += [4, 2, 75] // set_file 2; special: address +4, line +1
        program += [2, 8, 0, 1, 1] // advance_pc 8, end_sequence at 0x101c
        program += [0, 9, 2] + ELFImageBuilder.littleEndian(UInt64(0)) + [3, 40, 1] // discarded function at 0
        program += [2, 0x80, 0x40, 0, 1, 1] // advance_pc 0x2000, end_sequence
        let afterLength = ELFImageBuilder.littleEndian(UInt16(4)) + ELFImageBuilder.littleEndian(UInt32(header.count)) + header + program
        return ELFImageBuilder.littleEndian(UInt32(afterLength.count)) + afterLength
    }

    static func image(lineFlags: UInt64 = 0, withLines: Bool = true) -> [UInt8] {
        var builder = ELFImageBuilder()
        builder.add(".text", address: 0x1000, bytes: [0x90, 0x90, 0x90, 0xc3])
        if withLines { builder.add(".debug_line", bytes: lineProgram(), flags: lineFlags) }
        return builder.build()
    }

    @Test("each address gets the line of the row that covers it; ends of sequences and discarded code give none")
    func lineTable() throws {
        let found = try DebugLineTable.locations(of: [0x1000, 0x1008, 0x1010, 0x1017, 0x101c, 0x0500], inELF: Self.image())
        #expect(found[0x1000] == SourceLine(file: "/src/door.cpp", line: 10))
        #expect(found[0x1008] == SourceLine(file: "/src/door.cpp", line: 10))
        #expect(found[0x1010] == SourceLine(file: "/src/door.cpp", line: 15))
        #expect(found[0x1017] == SourceLine(file: "bell.h", line: 16))
        #expect(found[0x101c] == nil, "the end of a sequence covers nothing")
        #expect(found[0x0500] == nil, "a sequence at address 0 is code the linker dropped")
        #expect(found.count == 4)
    }

    @Test("no line table, a compressed one, a truncated one: errors that say what to do")
    func lineTableErrors() {
        #expect(throws: DebugInfoError.noLineTable(path: "<memory>")) { try DebugLineTable.locations(of: [0x1000], inELF: Self.image(withLines: false)) }
        #expect(throws: DebugInfoError.compressed(path: "<memory>")) { try DebugLineTable.locations(of: [0x1000], inELF: Self.image(lineFlags: 0x800)) }
        var builder = ELFImageBuilder()
        builder.add(".debug_line", bytes: Array(Self.lineProgram().prefix(30)))
        #expect(throws: DebugInfoError.self) { try DebugLineTable.locations(of: [0x1000], inELF: builder.build()) }
        #expect(DebugInfoError.compressed(path: "d").description.contains("objcopy --decompress-debug-sections"))
    }

    static let calls = SourceScanner.callSites(in: """
        TRACE1(demo, knock,
            (int64_t)force);
        TRACE1(demo, knock, &state);
        """, file: "src/door.cpp")

    @Test("with a line table: a site belongs to the call whose lines hold its line, in a file named by its path's end")
    func pairByLine() {
        let sites = [AuditInputs.site("demo:knock", "8", at: 0x80), AuditInputs.site("demo:knock", "-8", at: 0x40),
                     AuditInputs.site("demo:knock", "-8", at: 0x60), AuditInputs.site("demo:knock", "-8", at: 0x90)]
        let lines: [UInt64: SourceLine] = [0x40: SourceLine(file: "/build/src/door.cpp", line: 2), 0x60: SourceLine(file: "/build/./src/door.cpp", line: 1),
                     0x80: SourceLine(file: "/build/src/door.cpp", line: 3), 0x90: SourceLine(file: "/build/src/window.cpp", line: 1)]
        let pairings = SiteLocator.pair(sites: sites, calls: Self.calls, lines: lines)
        #expect(pairings.map(\.call) == [1, 0, 0, nil])
        #expect(pairings.map { $0.location?.location.description } == ["src/door.cpp:3", "src/door.cpp:1", "src/door.cpp:1", "/build/src/window.cpp:1"])
        #expect(pairings.allSatisfy { $0.location?.basis != .inferred })
    }

    @Test("without one: paired by agreeing sizes and signs, else in address and line order; not at all when the counts differ")
    func pairWithoutLines() {
        let byType = SiteLocator.pair(sites: [AuditInputs.site("demo:knock", "8", at: 0x40), AuditInputs.site("demo:knock", "-8", at: 0x80)],
                                      calls: Self.calls, lines: nil)
        #expect(byType.map(\.call) == [1, 0], "the site passing 8 unsigned is the one passing &state")
        #expect(byType.map { $0.location?.description } == ["src/door.cpp:3 (inferred)", "src/door.cpp:1 (inferred)"])

        let plain = SourceScanner.callSites(in: "TRACE1(demo, tap, a);\nTRACE1(demo, tap, b);", file: "door.cpp")
        let byOrder = SiteLocator.pair(sites: [AuditInputs.site("demo:tap", "-4", at: 0x90), AuditInputs.site("demo:tap", "-4", at: 0x30)],
                                       calls: plain, lines: nil)
        #expect(byOrder.map(\.call) == [1, 0], "lowest address with the first line")

        let unequal = SiteLocator.pair(sites: [AuditInputs.site("demo:tap", "-4", at: 0x30)], calls: plain, lines: nil)
        #expect(unequal.map(\.call) == [nil])
        #expect(unequal.first?.location == nil)
    }

    @Test("same file: equal paths, one ending the other at a folder boundary, or the last two components shared (a prefix-mapped build)")
    func sameFile() {
        #expect(SourceLine(file: "/work/core/build/src/wallet/./wallet/wallet.cpp", line: 1).isSameFile(as: SourceLine(file: "src/wallet/wallet.cpp", line: 9)))
        #expect(!SourceLine(file: "/build/src/a/net.cpp", line: 1).isSameFile(as: SourceLine(file: "b/net.cpp", line: 1)), "the file name alone is not enough")
        #expect(SourceLine(file: "/build/src/./wallet/wallet.cpp", line: 1).isSameFile(as: SourceLine(file: "wallet/wallet.cpp", line: 9)))
        #expect(SourceLine(file: "/a/b/../src/x.cpp", line: 1).isSameFile(as: SourceLine(file: "/a/src/x.cpp", line: 1)))
        #expect(!SourceLine(file: "/build/src/mywallet.cpp", line: 1).isSameFile(as: SourceLine(file: "wallet.cpp", line: 1)))
        #expect(!SourceLine(file: "src/a.cpp", line: 1).isSameFile(as: SourceLine(file: "src/b.cpp", line: 1)))
    }
}

@Suite("Two builds compared probe by probe")
struct ProbeDiffTests {
    static func site(_ probe: String, _ layouts: String, at address: UInt64, semaphore: UInt64 = 0) -> ProbeSite {
        AuditInputs.site(probe, layouts, at: address, semaphore: semaphore)
    }

    @Test("identical probes in both: no change")
    func same() {
        let sites = [Self.site("demo:a", "-8 8", at: 0x10), Self.site("demo:a", "-8 8", at: 0x20)]
        let moved = [Self.site("demo:a", "-8 8", at: 0x110), Self.site("demo:a", "-8 8", at: 0x120)]
        let diff = ProbeDiff(old: ("old", sites), new: ("new", moved))
        #expect(diff.isEmpty)
        #expect(diff.unchanged.map(\.description) == ["demo:a"])
    }

    @Test("probes added and removed")
    func addedRemoved() {
        let diff = ProbeDiff(old: ("old", [Self.site("demo:gone", "4", at: 0x10), Self.site("demo:kept", "4", at: 0x20)]),
                             new: ("new", [Self.site("demo:kept", "4", at: 0x20), Self.site("demo:fresh", "-8 1", at: 0x30)]))
        #expect(diff.changes.map(\.kind) == [.probeAdded, .probeRemoved])
        #expect(diff.changes.map(\.description) == [
            "demo:fresh: added: 1 site, arguments [-8 1]",
            "demo:gone: removed: it had 1 site, arguments [4]",
        ])
        #expect(diff.changes.first?.new == "-8 1")
    }

    @Test("an argument count, size and sign changed at every site: one change each, not one per site")
    func argumentChanges() {
        let diff = ProbeDiff(
            old: ("old", [Self.site("demo:m", "4 4", at: 0x10), Self.site("demo:m", "4 4", at: 0x20), Self.site("demo:c", "4", at: 0x30)]),
            new: ("new", [Self.site("demo:m", "8 -4", at: 0x50), Self.site("demo:m", "8 -4", at: 0x60), Self.site("demo:c", "4 1", at: 0x70)]))
        #expect(diff.changes.map(\.kind) == [.argumentCount, .argumentLayout, .argumentLayout])
        #expect(diff.changes.map(\.description) == [
            "demo:c: arguments 1 → 2 ([4] → [4 1])",
            "demo:m: arg0 4 → 8 (4 bytes unsigned → 8 bytes unsigned) at every site",
            "demo:m: arg1 4 → -4 (4 bytes unsigned → 4 bytes signed) at every site",
        ])
        #expect(diff.changes[1].sites == ["0x50", "0x60"])
        #expect(diff.changes[1].position == 0)
    }

    @Test("sites added and removed; identical sites pair first, so the odd one is the change")
    func sites() {
        let diff = ProbeDiff(
            old: ("old", [Self.site("demo:s", "-8", at: 0x10), Self.site("demo:t", "4", at: 0x20), Self.site("demo:t", "4", at: 0x30)]),
            new: ("new", [Self.site("demo:s", "-8", at: 0x40), Self.site("demo:s", "-8", at: 0x50), Self.site("demo:t", "4", at: 0x60)]),
            oldLines: [0x30: SourceLine(file: "t.cpp", line: 9)], newLines: [0x50: SourceLine(file: "s.cpp", line: 4)])
        #expect(diff.changes.map(\.kind) == [.sitesAdded, .sitesRemoved])
        #expect(diff.changes.map(\.description) == [
            "demo:s: sites 1 → 2: added 0x50 (s.cpp:4)",
            "demo:t: sites 2 → 1: removed 0x30 (t.cpp:9) (old build's addresses)",
        ])
    }

    @Test("sites with line tables pair by unchanged line: the changed one is named")
    func pairByLine() {
        let diff = ProbeDiff(
            old: ("old", [Self.site("demo:u", "-8", at: 0x10), Self.site("demo:u", "8", at: 0x20)]),
            new: ("new", [Self.site("demo:u", "-8", at: 0x40), Self.site("demo:u", "-8", at: 0x50)]),
            oldLines: [0x10: SourceLine(file: "u.cpp", line: 5), 0x20: SourceLine(file: "u.cpp", line: 9)],
            newLines: [0x40: SourceLine(file: "u.cpp", line: 9), 0x50: SourceLine(file: "u.cpp", line: 5)])
        #expect(diff.changes.map(\.description) == ["demo:u: arg0 8 → -8 (8 bytes unsigned → 8 bytes signed) at 0x40 (u.cpp:9)"])
    }

    @Test("builds made in other folders, lines moved by an edit above: sites pair by file end and line order")
    func movedLines() {
        let diff = ProbeDiff(
            old: ("old", [Self.site("demo:u", "8", at: 0x10), Self.site("demo:u", "-8", at: 0x20)]),
            new: ("new", [Self.site("demo:u", "-8", at: 0x40), Self.site("demo:u", "-8", at: 0x50)]),
            oldLines: [0x10: SourceLine(file: "/work/core/build/src/wallet/./wallet/wallet.cpp", line: 9),
                       0x20: SourceLine(file: "/work/core/build/src/wallet/./wallet/wallet.cpp", line: 5)],
            newLines: [0x40: SourceLine(file: "/tmp/pr/src/wallet/wallet.cpp", line: 12),
                       0x50: SourceLine(file: "/tmp/pr/src/wallet/wallet.cpp", line: 8)])
        #expect(diff.changes.map(\.description) == ["demo:u: arg0 8 → -8 (8 bytes unsigned → 8 bytes signed) at 0x40 (/tmp/pr/src/wallet/wallet.cpp:12)"])
    }

    @Test("a semaphore gained or lost")
    func semaphores() {
        let diff = ProbeDiff(old: ("old", [Self.site("demo:g", "8", at: 0x10), Self.site("demo:h", "8", at: 0x20, semaphore: 0x900)]),
                             new: ("new", [Self.site("demo:g", "8", at: 0x10, semaphore: 0x800), Self.site("demo:h", "8", at: 0x20)]))
        #expect(diff.changes.map(\.kind) == [.semaphoreAdded, .semaphoreRemoved])
        #expect(diff.changes.map(\.message) == ["semaphore added (tracers must enable it)", "semaphore removed"])
    }
}

@Suite("A probe's catalogue declaration from its note")
struct CatalogueDeclarationTests {
    @Test("field kinds follow the note's sizes and signs; the declaration conforms to the sites it came from")
    func kinds() throws {
        let sites = [AuditInputs.site("demo:all_sizes", "-8 8 -4 4 1 -2 2 -1", at: 0x10)]
        let declaration = CatalogueDeclaration(probe: ProbeName(provider: "demo", name: "all_sizes"), sites: sites)
        #expect(declaration.typeName == "AllSizes")
        #expect(declaration.fields.map(\.field.name) == (0..<8).map { "arg\($0)" })
        #expect(declaration.fields.map { ValueLayout(size: $0.field.expectedSpec.size, isSigned: $0.field.expectedSpec.isSigned) }
            == sites[0].arguments.map(\.layout))
        #expect(declaration.fields[1].choice?.contains(".hash256") == true, "8 bytes unsigned may be a pointer")
        #expect(declaration.fields[4].field.kind == .bool)
        #expect(declaration.fields[0].choice == nil && declaration.fields[2].choice == nil)
        let tracepoint = Tracepoint("demo", "all_sizes", "test", fields: declaration.fields.map(\.field))
        #expect(TracepointCatalogue(tracepoints: [tracepoint]).conformance(of: sites, binary: "demo").conforms)
    }

    @Test("with a call: names from its expressions, strings, hashes and payloads from their forms")
    func fromCall() throws {
        let call = try #require(SourceScanner.callSites(in: """
            TRACE6(demo, message, pnode->GetId(), CNode::GetConnectionType(pnode).c_str(), block.hash.begin(),
                   msg.data.size(), msg.data.data(), &nChange);
            """, file: "net.cpp").first)
        let sites = [AuditInputs.site("demo:message", "-8 8 8 8 8 8", at: 0x10)]
        let declaration = CatalogueDeclaration(probe: ProbeName(provider: "demo", name: "message"), sites: sites, call: call)
        #expect(declaration.fields.map(\.field.name) == ["id", "connection_type", "hash", "size", "msg", "change"])
        #expect(declaration.fields.map(\.field.kind) == [
            .integer(bytes: 8, signed: true), .string(maxLength: 127), .hash256, .integer(bytes: 8, signed: false),
            .payload(lengthField: "size", maxLength: 0x0200_0000), .integer(bytes: 8, signed: false),
        ])
        #expect(declaration.fields[5].choice == "an address: read it as a uint64, or as what it points to")
        #expect(declaration.warnings.isEmpty)
    }

    @Test("sites that disagree are named in a warning; the first site decides")
    func disagreeingSites() {
        let sites = [AuditInputs.site("demo:change", "8 8", at: 0x10), AuditInputs.site("demo:change", "-8 8", at: 0x20)]
        let declaration = CatalogueDeclaration(probe: ProbeName(provider: "demo", name: "change"), sites: sites)
        #expect(declaration.warnings == ["site 0x20 passes [-8 8], the first site [8 8]: the declaration follows the first"])
        #expect(declaration.fields.map(\.field.kind) == [.integer(bytes: 8, signed: false), .integer(bytes: 8, signed: false)])
        #expect(declaration.swiftSource.contains("/// - Warning: site 0x20 passes [-8 8]"))
    }

    @Test("the Swift source: the tracepoint with each field and its origin, the properties and the initialiser")
    func source() {
        let sites = [AuditInputs.site("demo:peer_left", "-8 4 1", at: 0x10)]
        let text = CatalogueDeclaration(probe: ProbeName(provider: "demo", name: "peer_left"), sites: sites).swiftSource
        #expect(text == """
            /// `demo:peer_left`: <#what happened#>.
            public struct PeerLeft: CataloguedEvent {
                public static let tracepoint = Tracepoint("demo", "peer_left", "<#what happened#>", fields: [
                    .int64("arg0"),  // from -8@%rax
                    .uint32("arg1"),  // from 4@%rax
                    .bool("arg2"),  // from 1@%rax; 1 byte unsigned: a bool, or Field("arg2", .integer(bytes: 1, signed: false))
                ])
                public var arg0: Int64
                public var arg1: UInt32
                public var arg2: Bool

                public init(reading reader: inout EventFieldReader) throws(EventDecodingError) {
                    arg0 = try reader.int64()
                    arg1 = try reader.uint32()
                    arg2 = try reader.bool()
                }
            }
            // Then list PeerLeft.self in TracepointCatalogue.tapyrusd.
            """)
    }
}

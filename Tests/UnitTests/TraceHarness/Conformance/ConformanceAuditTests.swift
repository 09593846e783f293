import Foundation
import Testing
@testable import TraceHarness

/// Small documents, sources and notes written for these tests.
enum AuditInputs {
    static func site(_ probe: String, _ layouts: String, at address: UInt64, semaphore: UInt64 = 0) -> ProbeSite {
        ProbeSite(probe: ProbeName(probe)!, address: address, base: 0, semaphore: semaphore,
                  arguments: layouts.split(separator: " ").map { try! ArgumentSpec(parsing: "\($0)@%rax") })
    }

    static func audit(document: String? = nil, sites: [ProbeSite]? = nil, lines: [UInt64: SourceLine]? = nil,
                      source: String? = nil, file: String = "door.cpp") -> ConformanceAudit {
        ConformanceAudit(
            document: document.map { TracingDocument(parsing: $0, path: "tracing.md") },
            binary: sites.map { ("demo", $0) },
            lines: lines.map { .success($0) } ?? (sites == nil ? nil : .failure(.noLineTable(path: "demo"))),
            source: source.map { ("src", SourceScanner.callSites(in: $0, file: file)) })
    }

    static func kinds(_ audit: ConformanceAudit) -> [ConformanceAudit.Disagreement.Kind] {
        audit.disagreements.map(\.kind)
    }
}

@Suite("Three-way conformance: document, notes and call sites side by side")
struct ConformanceAuditTests {
    static let doorDocument = """
        #### Tracepoint `demo:door_opened`

        Arguments passed:
        1. Door number as `uint32`
        2. Name of who opened it as `pointer to C-style String`
        3. Time it took in microseconds as `int64`
        """

    static let doorSource = """
        void Door::Open(const std::string& who)
        {
            TRACE3(demo, door_opened,
                (uint32_t)m_number,
                who.c_str(),
                elapsed_micros);
        }
        """

    @Test("document, notes and call agree: no disagreement, and the rows hold all three side by side")
    func agreement() throws {
        let audit = AuditInputs.audit(document: Self.doorDocument, sites: [AuditInputs.site("demo:door_opened", "4 8 -8", at: 0x40)],
                                      lines: [0x40: SourceLine(file: "/build/src/door.cpp", line: 3)], source: Self.doorSource)
        #expect(audit.conforms)
        #expect(audit.disagreements.isEmpty)
        let door = try #require(audit.tracepoints.first)
        #expect(audit.tracepoints.count == 1)
        #expect(door.documentation?.line == 1)
        #expect(door.sites.map(\.address) == [0x40])
        #expect(door.sites.first?.call == 0)
        #expect(door.sites.first?.location == SiteLocation(location: SourceLine(file: "door.cpp", line: 3), basis: .debugInfo))
        #expect(door.arguments.map(\.position) == [0, 1, 2])
        #expect(door.arguments.map(\.documented) == [1, 2, 3])
        #expect(door.arguments.map(\.documentedType) == ["uint32", "pointer to C-style String", "int64"])
        #expect(door.arguments.map { $0.layouts.map { $0?.description } } == [["4"], ["8"], ["-8"]])
        #expect(door.arguments.map { $0.expressions.map { $0?.expression } } == [["(uint32_t)m_number"], ["who.c_str()"], ["elapsed_micros"]])
        #expect(audit.inputs == .init(document: "tracing.md", binary: "demo", source: "src", lineTableProblem: nil))
    }

    @Test("a documented tracepoint that neither the binary nor the source has")
    func notInCode() throws {
        let audit = AuditInputs.audit(document: Self.doorDocument + "\n\n#### Tracepoint `demo:window_closed`\n1. Window as `uint8`\n",
                                      sites: [AuditInputs.site("demo:door_opened", "4 8 -8", at: 0x40)], source: Self.doorSource)
        #expect(AuditInputs.kinds(audit) == [.notInCode])
        let disagreement = try #require(audit.disagreements.first)
        #expect(disagreement.probe.description == "demo:window_closed")
        #expect(disagreement.description == "demo:window_closed: documented (line 8), but the binary and the source do not have it")
        #expect(!audit.conforms)
    }

    @Test("a tracepoint in the code that the document does not list")
    func undocumented() throws {
        let source = Self.doorSource + "\nvoid Bell() { TRACE1(demo, bell_rung, volume); }\n"
        let audit = AuditInputs.audit(document: Self.doorDocument, sites: [
            AuditInputs.site("demo:door_opened", "4 8 -8", at: 0x40), AuditInputs.site("demo:bell_rung", "-4", at: 0x80),
        ], source: source)
        #expect(AuditInputs.kinds(audit) == [.undocumented])
        #expect(audit.disagreements.first?.message == "not documented; the binary has 1 site and the source calls it at door.cpp:8")
    }

    @Test("in the source, not in the binary: a whole probe, and one call the line table gives no site")
    func notInBinary() throws {
        let probe = AuditInputs.audit(sites: [], source: Self.doorSource)
        #expect(AuditInputs.kinds(probe) == [.notInBinary])
        #expect(probe.disagreements.first?.message == "called at door.cpp:3, the binary has no such probe")

        let twoCalls = Self.doorSource + "\nvoid Door::Force() { TRACE3(demo, door_opened, (uint32_t)m_number, \"force\", 0ll); }\n"
        let call = AuditInputs.audit(sites: [AuditInputs.site("demo:door_opened", "4 8 -8", at: 0x40)],
                                     lines: [0x40: SourceLine(file: "/build/door.cpp", line: 4)], source: twoCalls)
        #expect(AuditInputs.kinds(call) == [.notInBinary])
        #expect(call.disagreements.first?.message == "the call at door.cpp:8 has no site in the binary")
        #expect(call.tracepoints.first?.sites.first?.call == 0, "line 4 lies inside the call of lines 3 to 6")
    }

    @Test("in the binary, not in the source: a whole probe, and a site whose line has no call")
    func notInSource() throws {
        let probe = AuditInputs.audit(sites: [AuditInputs.site("demo:door_opened", "4 8 -8", at: 0x40)], source: "int unrelated;\nTRACE0(demo, other);")
        #expect(probe.disagreements.map(\.description) == [
            "demo:door_opened: the binary has 1 site, the source has no call of it",
            "demo:other: called at door.cpp:2, the binary has no such probe",
        ])

        let stale = AuditInputs.audit(sites: [AuditInputs.site("demo:door_opened", "4 8 -8", at: 0x40), AuditInputs.site("demo:door_opened", "4 8 -8", at: 0x50)],
                                      lines: [0x40: SourceLine(file: "/build/door.cpp", line: 3), 0x50: SourceLine(file: "/build/door.cpp", line: 90)],
                                      source: Self.doorSource)
        #expect(AuditInputs.kinds(stale) == [.notInSource])
        #expect(stale.disagreements.first?.message == "the site at 0x50 comes from /build/door.cpp:90, where the source has no call of it")
    }

    @Test("argument counts: document and code, a macro's name and its arguments, a site and its call")
    func argumentCount() throws {
        let twoPassed = """
            TRACE3(demo, door_opened,
                (uint32_t)m_number,
                who.c_str());
            """
        let audit = AuditInputs.audit(document: Self.doorDocument, sites: [AuditInputs.site("demo:door_opened", "4 8 -8", at: 0x40)],
                                      lines: [0x40: SourceLine(file: "door.cpp", line: 1)], source: twoPassed)
        let messages = audit.disagreements.filter { $0.kind == .argumentCount }.map(\.message)
        #expect(messages.contains("TRACE3 at door.cpp:1 passes 2 arguments"))
        #expect(messages.contains("the site at 0x40 has 3 arguments, its call at door.cpp:1 passes 2"))
        #expect(messages.contains("the document lists 3 arguments, the code passes 2"))
        #expect(messages.count == 3)
        // The third documented argument is the one not passed.
        #expect(audit.disagreements.filter { $0.kind == .notPassed }.map(\.message)
            == [#"#3 "Time it took in microseconds" is documented, the code does not pass it"#])
    }

    @Test("a documented argument the code does not pass, found by the types around it")
    func notPassed() throws {
        let source = "TRACE2(demo, door_opened, (uint32_t)m_number, elapsed_micros);"
        let audit = AuditInputs.audit(document: Self.doorDocument, sites: [AuditInputs.site("demo:door_opened", "4 -8", at: 0x40)], source: source)
        #expect(AuditInputs.kinds(audit) == [.argumentCount, .notPassed])
        #expect(audit.disagreements.last?.message == #"#2 "Name of who opened it" is documented, the code does not pass it"#)
        #expect(audit.tracepoints.first?.arguments.map(\.documented) == [1, 3, 2])
        #expect(audit.tracepoints.first?.arguments.map(\.position) == [0, 1, nil])
    }

    @Test("an argument the code passes that the document does not list, in its place")
    func notDocumented() throws {
        let source = "TRACE4(demo, door_opened, (uint32_t)m_number, who.c_str(), (bool)m_locked, elapsed_micros);"
        let audit = AuditInputs.audit(document: Self.doorDocument, sites: [AuditInputs.site("demo:door_opened", "4 8 1 -8", at: 0x40)], source: source)
        #expect(AuditInputs.kinds(audit) == [.argumentCount, .notDocumented])
        #expect(audit.disagreements.last?.message == "arg2 ((bool)m_locked) is passed, the document does not list it")
        #expect(audit.disagreements.last?.position == 2)
        #expect(audit.tracepoints.first?.arguments.map(\.documented) == [1, 2, nil, 3])
    }

    @Test("as many arguments as documented, one of another kind in its place: a type disagreement, not a missing pair")
    func kindInPlace() throws {
        let source = "TRACE3(demo, door_opened, (uint32_t)m_number, (bool)m_locked, elapsed_micros);"
        let audit = AuditInputs.audit(document: Self.doorDocument, sites: [AuditInputs.site("demo:door_opened", "4 1 -8", at: 0x40)], source: source)
        #expect(AuditInputs.kinds(audit) == [.type, .type])
        #expect(audit.disagreements.map(\.message) == [
            #"#2 "Name of who opened it" is documented as pointer to C-style String (8: 8 bytes unsigned), the note has 1: 1 byte unsigned for arg1"#,
            #"#2 "Name of who opened it" is documented as pointer to C-style String, door.cpp:1 casts it to (bool)"#,
        ])
    }

    @Test("an order that differs: the names tell where each documented argument is passed")
    func order() throws {
        let document = """
            #### Tracepoint `demo:door_measured`
            1. Width of the door in mm as `uint32`
            2. Height of the door in mm as `uint32`
            3. Colour of the paint as `pointer to C-style String`
            """
        let source = "TRACE3(demo, door_measured, m_height, m_width, paint.colour.c_str());"
        let audit = AuditInputs.audit(document: document, sites: [AuditInputs.site("demo:door_measured", "4 4 8", at: 0x40)], source: source)
        #expect(AuditInputs.kinds(audit) == [.order, .order])
        #expect(audit.disagreements.map(\.message) == [
            #"#1 "Width of the door in mm" is documented in place 1, the code passes it as arg1 (m_width)"#,
            #"#2 "Height of the door in mm" is documented in place 2, the code passes it as arg0 (m_height)"#,
        ])
        #expect(audit.disagreements.map(\.position) == [1, 0])
    }

    @Test("no order claimed where nothing tells one: same types, names that share nothing")
    func noOrderWithoutEvidence() {
        let document = """
            #### Tracepoint `demo:pair`
            1. First reading as `int64`
            2. Second reading as `int64`
            """
        let audit = AuditInputs.audit(document: document, sites: [AuditInputs.site("demo:pair", "-8 -8", at: 0x40)],
                                      source: "TRACE2(demo, pair, a, b);")
        #expect(audit.conforms)
    }

    @Test("a documented type whose size or sign the note contradicts")
    func typeAgainstNote() throws {
        let audit = AuditInputs.audit(document: Self.doorDocument, sites: [AuditInputs.site("demo:door_opened", "8 8 8", at: 0x40)])
        #expect(AuditInputs.kinds(audit) == [.type, .type])
        #expect(audit.disagreements.map(\.message) == [
            #"#1 "Door number" is documented as uint32 (4: 4 bytes unsigned), the note has 8: 8 bytes unsigned for arg0"#,
            #"#3 "Time it took in microseconds" is documented as int64 (-8: 8 bytes signed), the note has 8: 8 bytes unsigned for arg2"#,
        ])
    }

    @Test("a documented type that a call's cast or form contradicts")
    func typeAgainstCall() throws {
        let source = "TRACE3(demo, door_opened, (int32_t)m_number, m_name.begin(), (int64_t)elapsed);"
        let audit = AuditInputs.audit(document: Self.doorDocument, source: source)
        #expect(AuditInputs.kinds(audit) == [.type, .type])
        #expect(audit.disagreements.map(\.message) == [
            #"#1 "Door number" is documented as uint32, door.cpp:1 casts it to (int32_t)"#,
            #"#2 "Name of who opened it" is documented as pointer to C-style String, door.cpp:1 passes bytes (m_name.begin())"#,
        ])
    }

    @Test("a site passing an address where a value is documented")
    func address() throws {
        let source = "TRACE3(demo, door_opened, (uint32_t)m_number, who.c_str(), &elapsed_micros);"
        let audit = AuditInputs.audit(document: Self.doorDocument, sites: [AuditInputs.site("demo:door_opened", "4 8 8", at: 0x40)], source: source)
        #expect(AuditInputs.kinds(audit) == [.type, .address])
        #expect(audit.disagreements.last?.message
            == #"#3 "Time it took in microseconds" is documented as int64, a value; door.cpp:1 passes an address: &elapsed_micros"#)
        #expect(audit.disagreements.last?.position == 2)
    }

    @Test("two sites of one probe passing different types: in the notes and in the calls")
    func sitesDisagree() throws {
        let source = """
            TRACE1(demo, change, change);
            TRACE1(demo, change, &change);
            """
        let audit = AuditInputs.audit(sites: [AuditInputs.site("demo:change", "-8", at: 0x40), AuditInputs.site("demo:change", "8", at: 0x80)],
                                      lines: [0x40: SourceLine(file: "door.cpp", line: 1), 0x80: SourceLine(file: "door.cpp", line: 2)],
                                      source: source)
        #expect(AuditInputs.kinds(audit) == [.sitesDisagree, .sitesDisagree])
        #expect(audit.disagreements.map(\.message) == [
            "arg0 differs between sites: -8 at 0x40 (door.cpp:1) vs 8 at 0x80 (door.cpp:2)",
            "arg0 differs between calls: change at door.cpp:1 vs &change at door.cpp:2",
        ])
        let counts = AuditInputs.audit(source: "TRACE1(demo, knock, a);\nTRACE2(demo, knock, a, b);")
        #expect(counts.disagreements.map(\.message) == ["the calls pass different numbers of arguments: 1 at door.cpp:1, 2 at door.cpp:2"])
    }

    @Test("a documented argument without a type the reader knows")
    func untyped() throws {
        let document = """
            #### Tracepoint `demo:knock`
            1. How hard
            """
        let audit = AuditInputs.audit(document: document, source: "TRACE1(demo, knock, force);")
        #expect(AuditInputs.kinds(audit) == [.untyped])
        #expect(audit.disagreements.first?.message == #"#1 "How hard" has no type the reader knows: "How hard""#)
        #expect(AuditInputs.kinds(AuditInputs.audit(document: document)) == [.untyped], "a document alone is checked for itself")
    }

    @Test("without a line table, sites are paired with calls by sizes and signs, and the report says how")
    func inferredPairing() throws {
        let source = """
            TRACE1(demo, change, (int64_t)change);
            TRACE1(demo, change, (uint64_t)total);
            """
        let audit = AuditInputs.audit(sites: [AuditInputs.site("demo:change", "8", at: 0x40), AuditInputs.site("demo:change", "-8", at: 0x80)],
                                      source: source)
        let sites = try #require(audit.tracepoints.first?.sites)
        #expect(sites.map(\.call) == [1, 0])
        #expect(sites.map { $0.location?.description } == ["door.cpp:2 (inferred)", "door.cpp:1 (inferred)"])
        #expect(audit.inputs.lineTableProblem == "demo: has no line table (.debug_line); build it with -g, or do not strip it")
    }

    @Test("the report encodes as JSON with whether it conforms and every disagreement, and decodes back")
    func json() throws {
        let audit = AuditInputs.audit(document: Self.doorDocument, sites: [AuditInputs.site("demo:door_opened", "8 8 8", at: 0x40)], source: Self.doorSource)
        let data = try JSONEncoder().encode(audit)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["conforms"] as? Bool == false)
        let disagreements = try #require(object["disagreements"] as? [[String: Any]])
        #expect(disagreements.count == audit.disagreements.count)
        #expect(disagreements.first?["kind"] as? String == "type")
        #expect(try JSONDecoder().decode(ConformanceAudit.self, from: data) == audit)
    }
}

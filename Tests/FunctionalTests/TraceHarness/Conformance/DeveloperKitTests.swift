import Foundation
import NodeControl
import Testing
import TraceHarness

@Suite("The DWARF line table reader against binutils' addr2line",
       .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/addr2line"), "no /usr/bin/addr2line to compare with"))
struct LineTableFunctionalTests {
    @Test("every site of the USDT fixture gets the file and line addr2line gives", arguments: ["-gdwarf-5", "-gdwarf-4"])
    func sameAsAddr2line(debugFlag: String) throws {
        let sources = ["usdt-fixture.c", "usdt-fixture-guarded.c"].map { KitPrograms.fixtures.appendingPathComponent($0).path }
        let binary = try KitPrograms.compile(sources, flags: ["-O2", debugFlag], name: "fixture\(debugFlag)")
        let sites = try ProbeDiscovery.sites(inBinaryAt: binary)
        let addresses = sites.map(\.address)
        let found = try DebugLineTable.locations(of: addresses, inBinaryAt: binary)
        let truth = try Fixture.run("/usr/bin/addr2line", ["-e", binary] + addresses.map { "0x" + String($0, radix: 16) })
        let expected = truth.standardOutput.split(separator: "\n").map(String.init)
        try #require(expected.count == addresses.count)
        for (address, line) in zip(addresses, expected) {
            let location = try #require(found[address], "0x\(String(address, radix: 16)) has no line")
            let colon = try #require(line.lastIndex(of: ":"))
            let printed = SourceLine(file: String(line[..<colon]), line: Int(line[line.index(after: colon)...].prefix { $0.isNumber }) ?? -1)
            #expect(printed.line == location.line && printed.isSameFile(as: location), "0x\(String(address, radix: 16)): \(printed) vs \(location)")
            #expect(location.file.hasSuffix("/fixtures/usdt-fixture.c") || location.file.hasSuffix("/fixtures/usdt-fixture-guarded.c"))
        }
    }

    @Test("a binary without debug information says how to get a line table")
    func noLineTable() throws {
        let binary = try KitPrograms.compile([KitPrograms.doorSource], flags: ["-O1"], name: "door-plain")
        #expect(throws: DebugInfoError.noLineTable(path: binary)) { try DebugLineTable.locations(of: [0x1000], inBinaryAt: binary) }
    }
}

@Suite("probes --declaration: a new tracepoint is one paste",
       .serialized, .enabled(if: KitPrograms.declarationsUnavailableReason == nil, "\(KitPrograms.declarationsUnavailableReason ?? "")"))
struct DeclarationTests {
    /// Reads the fields of a printed declaration back: `.int64("arg0"),` and
    /// the other forms the catalogue uses.
    static func fields(in text: String) throws -> [Field] {
        try text.components(separatedBy: "\n").compactMap { line -> Field? in
            let code = line.trimmingCharacters(in: .whitespaces)
            guard code.hasPrefix(".") || code.hasPrefix("Field(") else { return nil }
            let name = try #require(code.split(separator: "\"").dropFirst().first.map(String.init), "\(line)")
            if code.hasPrefix(".int64(") { return .int64(name) }
            if code.hasPrefix(".uint64(") { return .uint64(name) }
            if code.hasPrefix(".int32(") { return .int32(name) }
            if code.hasPrefix(".uint32(") { return .uint32(name) }
            if code.hasPrefix(".bool(") { return .bool(name) }
            if code.hasPrefix(".string(") { return .string(name, maxLength: 127) }
            if code.hasPrefix(".hash256(") { return .hash256(name) }
            if code.hasPrefix("Field(") {
                let bytes = try #require(code.range(of: "bytes: ").flatMap { Int(code[$0.upperBound...].prefix { $0.isNumber }) }, "\(line)")
                return Field(name, .integer(bytes: bytes, signed: code.contains("signed: true")))
            }
            Issue.record("unexpected field line: \(line)")
            return nil
        }
    }

    /// The Swift compiler and the flags that let it see the built TraceHarness, or why not.
    static func typeChecker() -> (swiftc: String, flags: [String])? {
        guard let cli = CLI.path else { return nil }
        let build = URL(fileURLWithPath: cli).deletingLastPathComponent()
        let modules = build.appendingPathComponent("Modules")
        guard FileManager.default.fileExists(atPath: modules.appendingPathComponent("TraceHarness.swiftmodule").path) else { return nil }
        let candidates = [ProcessInfo.processInfo.environment["PATH"] ?? "", "/opt/swift/usr/bin"]
            .flatMap { $0.split(separator: ":") }.map { "\($0)/swiftc" }
        guard let swiftc = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        // The C modules TraceHarness depends on: the package's C targets
        // (`<target>.build/module.modulemap`) and its dependencies' C shims
        // (`checkouts/<package>/Sources/<target>/include/module.modulemap`).
        let files = FileManager.default
        var maps = ((try? files.contentsOfDirectory(atPath: build.path)) ?? []).filter { $0.hasSuffix(".build") }
            .map { build.appendingPathComponent($0).appendingPathComponent("module.modulemap").path }
        let checkouts = Fixture.packageRoot.appendingPathComponent(".build/checkouts")
        for package in (try? files.contentsOfDirectory(atPath: checkouts.path)) ?? [] where !package.hasPrefix("GRDB") {
            let sources = checkouts.appendingPathComponent(package).appendingPathComponent("Sources")
            for target in (try? files.contentsOfDirectory(atPath: sources.path)) ?? [] {
                maps.append(sources.appendingPathComponent(target).appendingPathComponent("include/module.modulemap").path)
            }
        }
        maps = maps.filter { files.fileExists(atPath: $0) }
        return (swiftc, ["-typecheck", "-I", modules.path] + maps.flatMap { ["-Xcc", "-fmodule-map-file=\($0)"] })
    }

    @Test("every probe of the fixture: the printed declaration compiles and its layout is the probe's")
    func everyFixtureProbe() throws {
        let fixture = try Fixture.privateCopy()
        let sites = try ProbeDiscovery.sites(inBinaryAt: fixture)
        var declarations: [String] = ["import TraceHarness", ""]
        for probe in Set(sites.map(\.probe)).sorted() {
            let result = try CLI.run(["probes", fixture, "--declaration", probe.description])
            #expect(result.status == 0, "\(probe): \(result.standardError)")
            let fields = try Self.fields(in: result.standardOutput)
            let probeSites = sites.filter { $0.probe == probe }
            #expect(fields.count == probeSites[0].arguments.count, "\(probe)")
            let tracepoint = Tracepoint(probe.provider, probe.name, "read back", fields: fields)
            let report = TracepointCatalogue(tracepoints: [tracepoint]).conformance(of: probeSites, binary: fixture)
            let firstSite = probeSites[0].address
            #expect(report.mismatches.allSatisfy { $0.address != firstSite }, "\(probe): the first site decides: \(report.differences)")
            if Set(probeSites.map { $0.arguments.map(\.layout) }).count == 1 {
                #expect(report.conforms, "\(probe): \(report.differences)")
            } else {
                #expect(result.standardOutput.contains("/// - Warning: site 0x"), "\(probe): sites that disagree are named")
            }
            declarations.append(result.standardOutput)
        }
        #expect(declarations.count == 2 + 17)
        guard let (swiftc, flags) = Self.typeChecker() else {
            print("skipped compiling the declarations: no swiftc, or no built TraceHarness module beside \(CLI.path ?? "?")")
            return
        }
        let file = Fixture.buildDirectory.appendingPathComponent("Declarations-\(UUID().uuidString.prefix(8)).swift")
        try Data(declarations.joined(separator: "\n").utf8).write(to: file)
        let compiled = try Fixture.run(swiftc, flags + [file.path])
        #expect(compiled.status == 0, "the printed declarations do not compile:\n\(compiled.standardError)")
    }

    @Test("with --source, fields are named after the call's expressions")
    func namedFromSource() throws {
        let door = try KitPrograms.door.get()
        let result = try CLI.run(["probes", door, "--declaration", "door:opened", "--source", KitPrograms.conformance.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(try Self.fields(in: result.standardOutput).map(\.name) == ["number", "who", "micros"])
        #expect(result.standardOutput.contains("public struct Opened: CataloguedEvent {"))
        #expect(result.standardOutput.contains(#".uint32("number"),  // from 4@"#))
    }

    @Test("bad input: one clear line and a non-zero exit", arguments: [
        (["--declaration", "nocolon"], "'nocolon' is not a probe name of the form provider:name"),
        (["--declaration", "net:nope"], "has no probe net:nope"),
        (["--declaration", "net:inbound_message", "--source", "/nonexistent"], "/nonexistent: no such folder"),
        (["--source", "/tmp"], "--source goes with --declaration"),
    ])
    func badInput(arguments: [String], message: String) throws {
        let fixture = try Fixture.privateCopy()
        let result = try CLI.run(["probes", fixture] + arguments)
        #expect(result.status != 0)
        #expect(result.standardError.contains(message), "\(result.standardError)")
        #expect(result.standardError.split(separator: "\n").count <= 3)
    }
}

@Suite("verify --doc --source on a real tapyrus-core tree (TAPYRUS_SRC)",
       .enabled(if: RealTree.unavailableReason == nil, "\(RealTree.unavailableReason ?? "")"))
struct RealTreeConformanceTests {
    @Test("every documented tracepoint and every macro call is read, and master's disagreements are the ones found by reading")
    func realTree() throws {
        let root = try #require(RealTree.root)
        let document = root + "/doc/tracing.md", source = root + "/src"
        var arguments = ["verify", "--doc", document, "--source", source, "--json"]
        let binary = RealTree.binary
        if let binary { arguments.insert(binary, at: 1) }
        let result = try CLI.run(arguments)
        #expect(result.status == 1, "tapyrus-core master disagrees with its document: \(result.standardError)")
        let audit = try JSONDecoder().decode(ConformanceAudit.self, from: Data(result.standardOutput.utf8))

        // Ground truth by plain text search, not by the scanner.
        let headings = try String(contentsOfFile: document, encoding: .utf8).components(separatedBy: "\n")
            .filter { $0.hasPrefix("#### Tracepoint ") }.count
        #expect(audit.tracepoints.filter { $0.documentation != nil }.count == headings)
        let calls = try RealTree.macroCalls(in: source)
        #expect(audit.tracepoints.reduce(0) { $0 + $1.calls.count } == calls)

        let found = audit.disagreements.map { "\($0.probe) \($0.kind.rawValue)" }.sorted()
        guard let commit = RealTree.commit, commit.hasPrefix(RealTree.knownMaster) else {
            print("TAPYRUS_SRC is at \(RealTree.commit ?? "an unknown commit"), not \(RealTree.knownMaster): found \(found.count) disagreements, compared with none")
            return
        }
        let fromThisTree = binary != nil && audit.inputs.lineTableProblem == nil
            && !audit.disagreements.contains { $0.kind == .notInSource || $0.kind == .notInBinary }
        if binary != nil, !fromThisTree {
            print("\(binary!) has no line table or was not built from TAPYRUS_SRC: only its probes' presence was compared")
            return
        }
        #expect(found == RealTree.knownDisagreements(withBinary: fromThisTree), "master \(RealTree.knownMaster), binary \(binary ?? "none")")
    }
}

/// A tapyrus-core checkout named by TAPYRUS_SRC, and what reading master's
/// doc/tracing.md and its call sites by hand found.
enum RealTree {
    static let root = ProcessInfo.processInfo.environment["TAPYRUS_SRC"]

    static var unavailableReason: String? {
        guard let root else { return "TAPYRUS_SRC does not name a tapyrus-core checkout" }
        if CLI.path == nil { return "tapyrus-trace executable not built" }
        for needed in ["doc/tracing.md", "src"] where !FileManager.default.fileExists(atPath: root + "/" + needed) {
            return "TAPYRUS_SRC=\(root) has no \(needed)"
        }
        return nil
    }

    /// The tapyrusd to compare too: the one the node tests use
    /// (``NodeTestRequirements/lookup``: TAPYRUSD, else tapyrusd on PATH;
    /// with REQUIRE_TAPYRUSD=1 a missing one fails ``RequiredTapyrusdTests``).
    /// Only one built from this tree makes the expected list hold.
    static var binary: String? {
        try? NodeTestRequirements.lookup.get().tapyrusd
    }

    static var commit: String? {
        guard let root, let result = try? Fixture.run("/usr/bin/env", ["git", "-C", root, "rev-parse", "HEAD"]), result.status == 0 else { return nil }
        return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static let knownMaster = "2ee498229"

    /// Lines calling TRACE, TRACEn or TRACEPOINT outside #define lines, by a
    /// plain search of the C++ files.
    static func macroCalls(in source: String) throws -> Int {
        var count = 0
        let walker = FileManager.default.enumerator(atPath: source)
        while let relative = walker?.nextObject() as? String {
            guard ["cpp", "h"].contains((relative as NSString).pathExtension) else { continue }
            guard let text = try? String(contentsOfFile: source + "/" + relative, encoding: .utf8), text.contains("TRACE") else { continue }
            for line in text.components(separatedBy: "\n") {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard !trimmed.hasPrefix("#"), !trimmed.hasPrefix("//") else { continue }
                if trimmed.range(of: #"(^|[^A-Za-z0-9_])TRACE([0-9]+|POINT)?\("#, options: .regularExpression) != nil { count += 1 }
            }
        }
        return count
    }

    /// Read by hand in doc/tracing.md and the call sites of master.
    static func knownDisagreements(withBinary: Bool) -> [String] {
        var list = [
            // change_info: documented (colour id, position, value); passed (value, colour id); one call passes &nChange.
            "coin_selection:change_info argumentCount", "coin_selection:change_info order", "coin_selection:change_info order",
            "coin_selection:change_info notPassed", "coin_selection:change_info address", "coin_selection:change_info sitesDisagree",
            // coins_requested: documented (wallet name, colour id, value); passed (value, colour id).
            "coin_selection:coins_requested argumentCount", "coin_selection:coins_requested notPassed",
            // fee_info: documented (needed, paid); passed (paid, needed).
            "coin_selection:fee_info order", "coin_selection:fee_info order",
            // selected_coins: documented (algorithm, colour id, target, count, total); passed (colour id, target, total, count, algorithm); the count is a size_t.
            "coin_selection:selected_coins order", "coin_selection:selected_coins order", "coin_selection:selected_coins order",
            "coin_selection:selected_coins order", "coin_selection:selected_coins type",
            // utxocache_add: the colour id is passed, not documented; the txid is documented as bytes and passed as a C string.
            "utxocache:utxocache_add argumentCount", "utxocache:utxocache_add notDocumented", "utxocache:utxocache_add type",
        ]
        if withBinary {
            list += [
                "coin_selection:change_info type", "coin_selection:change_info sitesDisagree",
                // With the notes, coins_requested's value is known to be no string: it moved.
                "coin_selection:coins_requested order",
                "coin_selection:selected_coins type",
                "mempool:removed type", // entry time documented uint64, passed int64
                "mempool:replaced type", "mempool:replaced type", // entry time uint64 vs int64; replacement size int32 vs unsigned
                "net:inbound_message type", // message size documented uint64, passed unsigned int
                "validation:block_connected type", "validation:block_connected type", // sigops and duration documented uint64, int64
            ]
        }
        return list.sorted()
    }
}

import Foundation
import Testing
import TraceHarness

@Suite("verify --doc --source: a program written to disagree with its document, one way per tracepoint",
       .serialized, .enabled(if: KitPrograms.unavailableReason == nil, "\(KitPrograms.unavailableReason ?? "")"))
struct ThreeWayConformanceTests {
    /// What door.c and door-tracing.md were written to disagree on.
    static let designed = [
        "door:closed notInCode",
        "door:knocked sitesDisagree", "door:knocked sitesDisagree", "door:knocked type", "door:knocked type",
        "door:locked address", "door:locked type",
        "door:measured order", "door:measured order",
        "door:painted argumentCount", "door:painted notPassed",
        "door:rang undocumented",
        "door:weighed type",
    ].sorted()

    @Test("the text report names each designed disagreement and nothing else, and exits 1")
    func text() throws {
        let door = try KitPrograms.door.get()
        let result = try CLI.run(["verify", door, "--doc", KitPrograms.doorDocument, "--source", KitPrograms.conformance.path])
        #expect(result.status == 1, "stderr: \(result.standardError)")
        #expect(result.standardError.isEmpty)
        #expect(KitPrograms.disagreements(inText: result.standardOutput) == Self.designed)
        #expect(result.standardOutput.contains("site lines from the binary's line table"))
        #expect(result.standardOutput.contains("door:opened: agrees"))
        #expect(result.standardOutput.hasSuffix("8 tracepoints: 13 disagreements in 7 of them\n"))
    }

    @Test("the JSON report: every site located by the line table at the line of its macro call")
    func json() throws {
        let door = try KitPrograms.door.get()
        let result = try CLI.run(["verify", door, "--doc", KitPrograms.doorDocument, "--source", KitPrograms.conformance.path, "--json"])
        #expect(result.status == 1)
        let audit = try JSONDecoder().decode(ConformanceAudit.self, from: Data(result.standardOutput.utf8))
        #expect(audit.disagreements.map { "\($0.probe) \($0.kind.rawValue)" }.sorted() == Self.designed)
        #expect(!audit.conforms)
        #expect(audit.inputs.lineTableProblem == nil)
        let truth = try KitPrograms.macroLines(in: KitPrograms.doorSource, provider: "door")
        #expect(truth.values.reduce(0) { $0 + $1.count } == 8, "door.c calls its macros 8 times")
        let sites = audit.tracepoints.flatMap { tracepoint in tracepoint.sites.map { (tracepoint, $0) } }
        #expect(sites.count == 8)
        for (tracepoint, site) in sites {
            let location = try #require(site.location, "\(tracepoint.probe) at 0x\(String(site.address, radix: 16))")
            #expect(location.basis == .debugInfo)
            #expect(location.location.file == "door.c")
            #expect(truth[tracepoint.probe.name]?.contains(location.location.line) == true, "\(tracepoint.probe): \(location)")
            #expect(site.call.map { tracepoint.calls[$0].location } == location.location)
        }
    }

    @Test("without debug information the sites are paired with calls by sizes and signs, and the same disagreements found")
    func withoutLineTable() throws {
        let stripped = try KitPrograms.compile([KitPrograms.doorSource], flags: ["-O1"], name: "door-no-debug")
        let result = try CLI.run(["verify", stripped, "--doc", KitPrograms.doorDocument, "--source", KitPrograms.conformance.path, "--json"])
        #expect(result.status == 1)
        let audit = try JSONDecoder().decode(ConformanceAudit.self, from: Data(result.standardOutput.utf8))
        #expect(audit.inputs.lineTableProblem?.contains("has no line table") == true)
        #expect(audit.disagreements.map { "\($0.probe) \($0.kind.rawValue)" }.sorted() == Self.designed)
        let knocked = try #require(audit.tracepoints.first { $0.probe.name == "knocked" })
        // The site passing 4 bytes unsigned is the call casting to uint32_t.
        for site in knocked.sites {
            let call = try #require(site.call.map { knocked.calls[$0] })
            #expect(site.location?.basis == .inferred)
            #expect(call.arguments[0].type?.layout == site.layouts[0])
        }
    }

    @Test("any two of the three: binary and source alone compare the sites and calls among themselves")
    func twoOfThree() throws {
        let door = try KitPrograms.door.get()
        let result = try CLI.run(["verify", door, "--source", KitPrograms.conformance.path])
        #expect(result.status == 1)
        #expect(KitPrograms.disagreements(inText: result.standardOutput) == ["door:knocked sitesDisagree", "door:knocked sitesDisagree"])
        let documentOnly = try CLI.run(["verify", "--doc", KitPrograms.doorDocument])
        #expect(documentOnly.status == 0, "a document alone with every argument typed agrees with itself")
    }

    @Test("bad input: one line on standard error and exit 2", arguments: [
        (["verify"], "give a binary to verify, or --doc and --source to compare"),
        (["verify", "--doc", "/nonexistent/tracing.md"], "/nonexistent/tracing.md: no such file"),
        (["verify", "--source", "/nonexistent/src"], "/nonexistent/src: no such folder"),
        (["verify", "--doc", "/etc/hostname"], "/etc/hostname: documents no tracepoint"),
        (["verify", "/etc/hostname"], "/etc/hostname: not an ELF binary"),
        (["verify", "/etc/hostname", "--source", "/etc"], "/etc/hostname: not an ELF binary"),
        (["verify", "/bin/sh", "--against", "/bin/sh", "--doc", "x.md"], "--against compares two binaries"),
        (["verify", "--against", "/bin/sh"], "--against needs the new binary first"),
    ])
    func badInput(arguments: [String], message: String) throws {
        let result = try CLI.run(arguments)
        #expect(result.status == 2, "stdout: \(result.standardOutput)")
        #expect(result.standardError.contains(message), "\(result.standardError)")
        #expect(result.standardError.split(separator: "\n").count == 1)
    }

    @Test("bad input: a source folder without any tracing macro call")
    func sourceWithoutCalls() throws {
        let folder = Fixture.buildDirectory.appendingPathComponent("no-macros")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("int main(void) { return 0; }\n".utf8).write(to: folder.appendingPathComponent("main.c"))
        let result = try CLI.run(["verify", "--source", folder.path])
        #expect(result.status == 2)
        #expect(result.standardError.contains("no call of a tracing macro"))
    }
}

@Suite("verify NEW --against OLD: two builds of a program compared probe by probe",
       .serialized, .enabled(if: CLI.path != nil, "tapyrus-trace executable not built"))
struct BuildComparisonTests {
    static let sources = ["probe-builds.c", "probe-builds-guarded.c"].map { KitPrograms.fixtures.appendingPathComponent($0).path }

    @Test("each change the new build was written to make, once, and exit 1")
    func changes() throws {
        let old = try KitPrograms.compile(Self.sources, flags: ["-O1", "-g"], name: "builds-old")
        let new = try KitPrograms.compile(Self.sources, flags: ["-O1", "-g", "-DNEW_BUILD"], name: "builds-new")
        let result = try CLI.run(["verify", new, "--against", old, "--json"])
        #expect(result.status == 1, "stderr: \(result.standardError)")
        let diff = try JSONDecoder().decode(ProbeDiff.self, from: Data(result.standardOutput.utf8))
        #expect(diff.changes.map { "\($0.probe.name) \($0.kind.rawValue)" } == [
            "fresh probeAdded", "gone probeRemoved", "guarded semaphoreAdded", "more argumentCount",
            "once sitesRemoved", "signed argumentLayout", "twice sitesAdded", "widened argumentLayout",
        ])
        #expect(diff.unchanged.map(\.description) == ["builds:same"])
        let widened = try #require(diff.changes.first { $0.probe.name == "widened" })
        #expect((widened.position, widened.old, widened.new) == (1, "4", "8"))
        let signed = try #require(diff.changes.first { $0.probe.name == "signed" })
        #expect((signed.position, signed.old, signed.new) == (1, "4", "-4"))
        let added = try #require(diff.changes.first { $0.kind == .sitesAdded })
        #expect(added.sites.count == 1)
        #expect(added.sites[0].contains("probe-builds.c:"), "the added site is named with its line: \(added.sites)")

        let text = try CLI.run(["verify", new, "--against", old])
        #expect(text.status == 1)
        #expect(text.standardOutput.contains("builds:widened: arg1 4 → 8 (4 bytes unsigned → 8 bytes unsigned)"))
        #expect(text.standardOutput.hasSuffix("8 differences; 1 probe unchanged\n"))
    }

    @Test("a build against itself, or rebuilt: no difference, exit 0")
    func same() throws {
        let old = try KitPrograms.compile(Self.sources, flags: ["-O1"], name: "builds-same-a")
        let again = try KitPrograms.compile(Self.sources, flags: ["-O2"], name: "builds-same-b")
        let result = try CLI.run(["verify", again, "--against", old])
        #expect(result.status == 0, "\(result.standardOutput)")
        #expect(result.standardOutput.hasSuffix("no difference: the same probes, arguments, sites and semaphores\n"))
    }
}

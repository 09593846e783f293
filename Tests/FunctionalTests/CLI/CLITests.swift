import Foundation
import TapyrusEncoding
import Testing
import TraceHarness

/// The `tapyrus-trace` executable, run as a user would.
enum CLI {
    /// The built executable beside the test bundle.
    static let path: String? = {
        var candidates: [URL] = []
        if let executable = Bundle.main.executableURL { candidates.append(executable.deletingLastPathComponent()) }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        candidates.append(Fixture.packageRoot.appendingPathComponent(".build/debug"))
        return candidates.map { $0.appendingPathComponent("tapyrus-trace").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static func run(_ arguments: [String]) throws -> Fixture.Output {
        guard let path else { throw FixtureError("tapyrus-trace was not built (run swift build first)") }
        return try Fixture.run(path, arguments)
    }
}

@Suite("The tapyrus-trace command line", .serialized, .enabled(if: Fixture.isAvailable && CLI.path != nil, "\(Fixture.unavailableReason ?? "tapyrus-trace executable not built")"))
struct CLITests {
    @Test("probes lists every probe and site of the fixture, as text and JSON")
    func probes() throws {
        let copy = try Fixture.privateCopy()
        let text = try CLI.run(["probes", copy])
        #expect(text.status == 0)
        let sites = try ProbeDiscovery.sites(inBinaryAt: copy).count
        #expect(text.standardOutput.hasPrefix("\(copy): 17 probes, \(sites) sites"))
        #expect(text.standardOutput.contains("coin_selection:change_info  (2 sites)"))
        #expect(text.standardOutput.contains("fixture:twelve_args  (2 sites)  not in the catalogue"))

        let json = try CLI.run(["probes", copy, "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [[String: Any]])
        #expect(rows.count == sites)
        let guarded = try #require(rows.first { $0["probe"] as? String == "fixture:guarded" })
        #expect((guarded["semaphore"] as? NSNumber)?.intValue ?? 0 != 0)
    }

    @Test("verify reports the fixture's extra probes and its two change_info sites that disagree, exiting 1")
    func verify() throws {
        let copy = try Fixture.privateCopy()
        let result = try CLI.run(["verify", copy])
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("fixture:twelve_args: in the binary, not in the catalogue"))
        #expect(result.standardOutput.contains("coin_selection:change_info: argument 0 differs between sites: 8 vs -8"))
        #expect(!result.standardOutput.contains("missing from the binary"))
    }

    @Test("log prints every event of a traced process as JSON Lines and a summary with zero losses")
    func log() async throws {
        let copy = try Fixture.privateCopy()
        let serving = try ServingFixture(copy: copy)
        defer { serving.stop() }
        let log = try await ToolProcess(["log", copy, "--pid", "\(serving.pid)", "--json", "--payload-hex=-1", "--count", "15"])
        let fired = try serving.send("catalogue")
        #expect(fired.count == 15)
        let result = try await log.finish()
        let summary = result.standardError
        #expect(result.status == 0)
        let printed = Data(result.standardOutput.utf8)
        let lines = String(decoding: printed, as: UTF8.self).split(separator: "\n")
        try #require(lines.count == 15)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["probe"] as? String == "net:inbound_message")
        let fields = try #require(first["fields"] as? [String: Any])
        #expect(fields["peer_address"] as? String == "127.0.0.1:18444")
        let message = try #require(fields["message"] as? [String: Any])
        #expect(message["hex"] as? String == fixturePayload(length: 8, seed: 1).hexString)
        #expect(summary.contains("stopped: 15 events printed"))
        #expect(summary.contains("0 lost, 0 payloads cut"))
    }

    @Test("bad input: one clear line and a non-zero exit", arguments: [
        (["probes", "/nonexistent"], "/nonexistent: no such file"),
        (["verify", "/etc/hostname"], "/etc/hostname: not an ELF binary"),
        (["log", "/nonexistent"], "/nonexistent: no such file"),
        (["log", "/bin/sh", "--probe", "nocolon"], "'nocolon' is not a probe name of the form provider:name"),
    ])
    func badInput(arguments: [String], message: String) throws {
        let result = try CLI.run(arguments)
        #expect(result.status != 0)
        #expect(result.standardError.contains(message))
        #expect(result.standardError.split(separator: "\n").count <= 3)
    }

    @Test("log names the missing probe and the pid that does not exist")
    func logBadTargets() throws {
        let copy = try Fixture.privateCopy()
        let probe = try CLI.run(["log", copy, "--probe", "net:nope"])
        #expect(probe.status != 0)
        #expect(probe.standardError.contains("has no probe net:nope"))
        let pid = try CLI.run(["log", copy, "--pid", "999999999"])
        #expect(pid.status != 0)
        #expect(pid.standardError.contains("no process with pid 999999999"))
        let plain = try Fixture.programWithoutProbes()
        let none = try CLI.run(["log", plain])
        #expect(none.status != 0)
        #expect(none.standardError.contains("has no USDT probes"))
    }

    @Test("without CAP_BPF and CAP_PERFMON, log says which capability is missing")
    func missingCapabilities() throws {
        let copy = try Fixture.privateCopy()
        guard let path = CLI.path else { return }
        let result = try Fixture.run("/usr/bin/setpriv", ["--inh-caps=-all", "--bounding-set=-all", "--", path, "log", copy])
        #expect(result.status != 0)
        #expect(result.standardError.contains("not permitted to load eBPF programs: missing CAP_BPF and CAP_PERFMON"))
    }

    @Test("log of a process that exits while traced ends cleanly with its summary")
    func tracedProcessExits() async throws {
        let copy = try Fixture.privateCopy()
        let serving = try ServingFixture(copy: copy)
        let log = try await ToolProcess(["log", copy, "--pid", "\(serving.pid)"])
        let fired = try serving.send("catalogue")
        serving.stop()
        let result = try await log.finish()
        let printed = result.standardOutput, summary = result.standardError
        #expect(result.status == 0)
        #expect(printed.split(separator: "\n").count == fired.count)
        #expect(summary.contains("stopped: process \(serving.pid) exited"))
        #expect(summary.contains("\(fired.count) events printed; \(fired.count) probe hits, \(fired.count) delivered, 0 lost"))
    }

    @Test("log into a closed pipe ends cleanly with its summary")
    func closedPipe() throws {
        let copy = try Fixture.privateCopy()
        guard let path = CLI.path else { return }
        // Flood only once the log is attached (its banner is on stderr), so a
        // slow start on a loaded machine cannot make the test miss the events.
        // --duration only guards against a log that never notices the closed pipe.
        let script = """
            err=$(mktemp); "\(path)" log "\(copy)" --duration 600 2>"$err" | head -n 1 &
            for i in $(seq 1 600); do grep -q Ctrl-C "$err" && break; sleep 0.05; done
            "\(copy)" flood 200000 >/dev/null; wait; cat "$err" >&2; rm -f "$err"
            """
        let result = try Fixture.run("/bin/sh", ["-c", script])
        #expect(result.status == 0)
        #expect(result.standardOutput.split(separator: "\n").count == 1)
        #expect(result.standardError.contains("stopped: standard output closed"))
    }
}

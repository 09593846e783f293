import Foundation
import Testing
import TraceHarness

extension InProcessCapture {
    /// The capture pipeline against the USDT fixture, under real eBPF.
    ///
    /// Serialized: the flood must not compete with other captures for the two
    /// cores. (The count of BPF descriptors runs in a child process of its own.)
    @Suite("Capture from the USDT fixture", .serialized, .enabled(if: Fixture.isAvailable, "\(Fixture.unavailableReason ?? "")"))
    struct FixtureCaptureTests {
        /// Runs `command` in a fresh copy of the fixture with every probe
        /// attached and returns the events paired with the fixture's lines.
        private func capture(_ arguments: [String], options: Tracer.Options = .init()) async throws -> (events: [TraceEvent], lines: [FixtureLine], statistics: CaptureStatistics) {
            let copy = try Fixture.privateCopy()
            let tracer = try Tracer(binary: copy, options: options)
            defer { tracer.close() }
            let stream = tracer.events()
            let lines = try Fixture.run(copy: copy, arguments).filter { $0.probe != nil }
            let events = try await collect(lines.count, from: stream)
            await tracer.drain()
            let statistics = tracer.statistics()
            return (events, lines, statistics)
        }

        @Test("every tapyrusd tracepoint fired by the fixture decodes to exactly what it passed")
        func catalogueTracepoints() async throws {
            let (events, lines, statistics) = try await capture(["catalogue"])
            #expect(Set(lines.compactMap(\.probe)) == Set(TracepointCatalogue.tapyrusd.tracepoints.map(\.probe)))
            try #require(events.count == lines.count)
            for (event, line) in zip(events, lines) {
                expectEvent(event, matches: line)
                #expect(event.tracepoint != nil, "\(event.probe) decoded with its declaration")
            }
            try statistics.requireNoLoss()
            #expect(statistics.delivered == UInt64(lines.count))
        }

        @Test("edge values: integer extremes, empty and maximum-length strings, both bools, a 68-character Tor v3 address")
        func edgeValues() async throws {
            let (events, lines, statistics) = try await capture(["edges"])
            try #require(events.count == lines.count)
            for (event, line) in zip(events, lines) {
                expectEvent(event, matches: line)
            }
            let tor = try #require(events.first { $0.probe.name == "inbound_message" })
            #expect(try tor.string("peer_address").count == 68)
            #expect(tor.isTruncated("message_type"), "a 40-character message type exceeds the declared 31")
            try statistics.requireNoLoss()
        }

        @Test("twelve arguments in register, constant and stack-memory operand forms decode raw")
        func twelveArguments() async throws {
            let (events, lines, _) = try await capture(["twelve", "7"])
            try #require(events.count == 2 && lines.count == 2)
            for (event, line) in zip(events, lines) {
                #expect(event.tracepoint == nil)
                #expect(event.fields.count == 12)
                expectEvent(event, matches: line)
            }
        }

        @Test("a probe with two sites fires from both, and the semaphore-guarded probe is enabled while attached")
        func sitesAndSemaphores() async throws {
            let copy = try Fixture.privateCopy()
            let before = try Fixture.run(copy: copy, ["guarded"])
            #expect(before.map(\.text) == [#"{"guarded_enabled":false}"#])

            let tracer = try Tracer(binary: copy)
            defer { tracer.close() }
            let changeSites = try #require(tracer.probes.first { $0.probe.name == "change_info" })
            #expect(changeSites.sites.count == 2)
            #expect(tracer.probes.first { $0.probe.name == "guarded" }?.sites.first?.hasSemaphore == true)

            let stream = tracer.events()
            let lines = (try Fixture.run(copy: copy, ["sites"]) + Fixture.run(copy: copy, ["guarded"]))
            #expect(lines.last?.text == #"{"guarded_enabled":true}"#)
            let fired = lines.filter { $0.probe != nil }
            let events = try await collect(fired.count, from: stream)
            try #require(events.count == 5)
            for (event, line) in zip(events, fired) {
                expectEvent(event, matches: line)
            }
        }

        @Test("payloads of 0 B, 31 KB, 33 KB and 4 MB arrive whole", arguments: [0, 31 * 1024, 33 * 1024, 4_000_000])
        func wholePayloads(size: Int) async throws {
            let (events, lines, statistics) = try await capture(["payload", "\(size)"])
            try #require(events.count == 2)
            for (event, line) in zip(events, lines) {
                expectEvent(event, matches: line)
            }
            try statistics.requireNoLoss()
        }

        @Test("bad input gives one clear error and leaks no BPF descriptors")
        func badInput() async throws {
            // Counted in a child process of its own: in this one, other suites
            // (the scenarios' shared tracer among them) open and close tracers
            // and their descriptors at the same time.
            if ChildTestRun.role == Self.badInputRole {
                try badInputCountingDescriptors()
            } else {
                try await ChildTestRun.expectPasses("FixtureCaptureTests/badInput", role: Self.badInputRole)
            }
        }

        private static let badInputRole = "count-bpf-descriptors"

        /// The attempts of ``badInput()``, in a process where no other tracer lives.
        private func badInputCountingDescriptors() throws {
            let before = openBPFDescriptors()
            let copy = try Fixture.privateCopy()
            let plain = try Fixture.programWithoutProbes()
            let notELF = FileManager.default.temporaryDirectory.appendingPathComponent("not-elf-\(getpid()).txt").path
            try Data("hello\n".utf8).write(to: URL(fileURLWithPath: notELF))

            func failure(_ body: () throws -> Tracer) -> String {
                do {
                    let tracer = try body()
                    tracer.close()
                    return "no error"
                } catch {
                    return "\(error)"
                }
            }
            #expect(failure { try Tracer(binary: "/nonexistent/tapyrusd") } == "/nonexistent/tapyrusd: no such file")
            #expect(failure { try Tracer(binary: notELF) } == "\(notELF): not an ELF binary")
            #expect(failure { try Tracer(binary: plain) }.contains("has no USDT probes"))
            #expect(failure { try Tracer(binary: copy, probes: [ProbeName(provider: "net", name: "nope")]) }.hasPrefix("\(copy) has no probe net:nope"))
            #expect(failure { try Tracer(binary: copy, pid: 999_999_999) } == "no process with pid 999999999")
            #expect(openBPFDescriptors() == before)

            // The count sees a tracer's descriptors, and their closing.
            let tracer = try Tracer(binary: copy)
            #expect(openBPFDescriptors() > before)
            tracer.close()
            #expect(openBPFDescriptors() == before)
        }

        @Test("a traced process that exits leaves the tracer usable and its counts final")
        func processExit() async throws {
            let copy = try Fixture.privateCopy()
            let serving = try ServingFixture(copy: copy)
            let tracer = try Tracer(binary: copy, pid: serving.pid)
            defer { tracer.close() }
            let lines = try serving.send("catalogue")
            serving.stop()
            await tracer.drain()
            let statistics = tracer.statistics()
            #expect(statistics.delivered == UInt64(lines.count))
            try statistics.requireNoLoss()
        }
    }
}

/// Counts BPF objects and perf events among this process's descriptors.
func openBPFDescriptors() -> Int {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return entries.filter { entry in
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)")) ?? ""
        return target.contains("bpf") || target.contains("perf_event")
    }.count
}

/// A counter shared with the reader thread.
// @unchecked Sendable: `count` and `disordered` are only touched under `lock`.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var disordered = false
    var value: Int { lock.withLock { count } }
    var outOfOrder: Bool { lock.withLock { disordered } }
    func increment() { lock.withLock { count += 1 } }
    func markOutOfOrder() { lock.withLock { disordered = true; count += 1 } }
}

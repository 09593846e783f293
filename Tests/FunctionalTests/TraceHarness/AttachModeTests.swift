import Foundation
import Testing
import TraceHarness

/// The attach modes this kernel can run, each tested.
enum AttachModes {
    static let available: [AttachMode] = AttachMode.kernelHasMultiUprobe ? [.multiUprobe, .perSite] : [.perSite]
}

/// The fixture linked as a non-PIE executable, whose text is loaded at
/// 0x400000 plus its file offset: a site's note address and its file offset
/// then differ, as they do in many distributions' binaries.
enum NonPIEFixture {
    static let built: Result<String, FixtureError> = {
        let output = Fixture.buildDirectory.appendingPathComponent("usdt-fixture-no-pie").path
        let sources = ["usdt-fixture.c", "usdt-fixture-guarded.c"].map {
            Fixture.packageRoot.appendingPathComponent("fixtures").appendingPathComponent($0).path
        }
        do {
            let result = try Fixture.run("/usr/bin/env", ["cc", "-O2", "-no-pie", "-o", output] + sources)
            guard result.status == 0 else { return .failure(FixtureError("cc failed: \(result.standardError)")) }
        } catch {
            return .failure(FixtureError("cannot run cc: \(error)"))
        }
        return .success(output)
    }()

    /// The (virtual address, file offset) of the executable PT_LOAD segment,
    /// as readelf reads them.
    static func textSegment(of binary: String) throws -> (address: UInt64, offset: UInt64) {
        let listing = try Fixture.run("/usr/bin/env", ["readelf", "-lW", binary]).standardOutput
        for line in listing.split(separator: "\n") where line.contains("LOAD") && line.contains(" R E ") {
            let words = line.split(separator: " ")
            guard words.count > 2, let offset = UInt64(words[1].dropFirst(2), radix: 16), let address = UInt64(words[2].dropFirst(2), radix: 16) else { continue }
            return (address, offset)
        }
        throw FixtureError("readelf found no executable segment in \(binary)")
    }
}

extension InProcessCapture {
    /// Both ways of attaching, multi-uprobe links and per-site uprobes, against
    /// the fixture: every operand form, both sites of a probe, the semaphore,
    /// pid filters, whole payloads, a flood, and a binary whose file offsets
    /// differ from its addresses.
    ///
    /// Serialized: per-site uprobes take about 0.1 s each to detach, and the
    /// flood must not compete with other captures for the two cores.
    @Suite("Attaching by multi-uprobe link and per site", .serialized, .enabled(if: Fixture.isAvailable, "\(Fixture.unavailableReason ?? "")"))
    struct AttachModeTests {
        /// Attaches every probe of `binary` with `mode`, runs the fixture
        /// commands and compares each event with what the fixture passed.
        private func captureEverything(_ binary: String, mode: AttachMode, commands: [[String]]) async throws -> (Tracer, [FixtureLine]) {
            var options = Tracer.Options()
            options.attachMode = mode
            let tracer = try Tracer(binary: binary, options: options)
            #expect(tracer.attachMode == mode)
            let stream = tracer.events()
            var lines: [FixtureLine] = []
            for command in commands { lines += try Fixture.run(copy: binary, command) }
            let fired = lines.filter { $0.probe != nil }
            let events = try await collect(fired.count, from: stream)
            try #require(events.count == fired.count)
            for (event, line) in zip(events, fired) {
                expectEvent(event, matches: line)
            }
            await tracer.drain()
            return (tracer, lines)
        }

        @Test("every tracepoint, twelve operand forms, both sites of a probe and the semaphore decode exactly; each site's hits are counted", arguments: AttachModes.available)
        func everything(mode: AttachMode) async throws {
            let copy = try Fixture.privateCopy()
            let (tracer, lines) = try await captureEverything(copy, mode: mode, commands: [["catalogue"], ["sites"], ["guarded"], ["twelve", "5"]])
            defer { tracer.close() }
            #expect(lines.contains { $0.text == #"{"guarded_enabled":true}"# }, "the semaphore was raised")
            let statistics = tracer.statistics()
            try statistics.requireNoLoss()
            #expect(statistics.delivered == UInt64(lines.filter { $0.probe != nil }.count))

            // Per site: the fixture's code decides which site fires. change_info
            // and fee_info fire from site one in `catalogue` and from both sites
            // in `sites`; twelve_args from both of its sites once.
            let hits = tracer.siteHits()
            func counts(_ name: String) -> [UInt64] {
                hits.filter { $0.key.probe.name == name }.map(\.value).sorted()
            }
            #expect(counts("change_info") == [1, 2])
            #expect(counts("fee_info") == [1, 2])
            #expect(counts("twelve_args") == [1, 1])
            #expect(counts("guarded") == [1])
            // block_connected: the catalogue's site once, the flood's site never.
            #expect(counts("block_connected") == [0, 1])
            #expect(hits.count == tracer.probes.reduce(0) { $0 + $1.sites.count })
            #expect(hits.values.reduce(0, +) == statistics.hits)
            #expect(tracer.siteHits(pid: getpid()).values.allSatisfy { $0 == 0 }, "no event came from the test process")
        }

        @Test("a binary whose file offsets differ from its addresses (non-PIE) is attached at the right instructions and semaphore", arguments: AttachModes.available)
        func nonPIE(mode: AttachMode) async throws {
            let binary = try NonPIEFixture.built.get()
            let text = try NonPIEFixture.textSegment(of: binary)
            try #require(text.address != text.offset, "the non-PIE build must load its text away from its file offset")
            let before = try Fixture.run(copy: binary, ["guarded"])
            #expect(before.map(\.text) == [#"{"guarded_enabled":false}"#])
            let (tracer, lines) = try await captureEverything(binary, mode: mode, commands: [["catalogue"], ["guarded"], ["twelve", "9"]])
            defer { tracer.close() }
            #expect(lines.contains { $0.text == #"{"guarded_enabled":true}"# })
            try tracer.statistics().requireNoLoss()
        }

        @Test("a pid filter: only the traced process's events arrive and are counted, the other process's counts stay zero", arguments: AttachModes.available)
        func pidFilter(mode: AttachMode) async throws {
            let copy = try Fixture.privateCopy()
            let traced = try ServingFixture(copy: copy)
            let other = try ServingFixture(copy: copy)
            defer { traced.stop(); other.stop() }
            var options = Tracer.Options()
            options.attachMode = mode
            let block = ProbeName(provider: "validation", name: "block_connected")
            let tracer = try Tracer(binary: copy, pid: traced.pid, probes: [block], options: options)
            defer { tracer.close() }
            let stream = tracer.events()
            _ = try other.send("catalogue")
            let lines = try traced.send("catalogue").filter { $0.probe == block }
            _ = try other.send("catalogue")
            let events = try await collect(lines.count, from: stream)
            await tracer.drain()
            #expect(events.count == 1)
            #expect(events.allSatisfy { $0.pid == traced.pid })
            #expect(tracer.statistics().hits == 1)
            #expect(tracer.statistics(pid: traced.pid).delivered == 1)
            #expect(tracer.statistics(pid: other.pid).hits == 0)
            #expect(tracer.tracedProcesses() == [traced.pid])
        }

        @Test("a 4 MB payload arrives whole", arguments: AttachModes.available)
        func payload(mode: AttachMode) async throws {
            let copy = try Fixture.privateCopy()
            var options = Tracer.Options()
            options.attachMode = mode
            let tracer = try Tracer(binary: copy, probes: [ProbeName(provider: "net", name: "inbound_message")], options: options)
            defer { tracer.close() }
            #expect(tracer.ringBufferBytes == 64 << 20, "sized for a 32 MiB message")
            #expect(tracer.largestPayload == 32 << 20)
            let stream = tracer.events()
            let lines = try Fixture.run(copy: copy, ["payload", "4000000"]).filter { $0.probe?.name == "inbound_message" }
            let events = try await collect(lines.count, from: stream)
            try #require(events.count == 1)
            expectEvent(events[0], matches: lines[0])
            try tracer.statistics().requireNoLoss()
        }

        @Test("a flood of 1,000,000 events: every hit delivered or counted lost, exactly, for the whole tracer and for the process", arguments: AttachModes.available)
        func flood(mode: AttachMode) async throws {
            let count = 1_000_000
            let copy = try Fixture.privateCopy()
            var options = Tracer.Options()
            options.attachMode = mode
            let tracer = try Tracer(binary: copy, probes: [ProbeName(provider: "validation", name: "block_connected")], options: options)
            defer { tracer.close() }
            #expect(tracer.ringBufferBytes == 4 << 20, "16,384 small records, rounded up")
            let received = Counter()
            let pids = PidSet()
            let subscription = tracer.onEvent { event in
                pids.insert(event.pid)
                if case .signed(let height)? = event["height"], height == Int64(received.value) {
                    received.increment()
                } else {
                    received.markOutOfOrder()
                }
            }
            defer { subscription.cancel() }
            _ = try Fixture.run(copy: copy, ["flood", "\(count)"])
            await tracer.drain()
            let statistics = tracer.statistics()
            let probe = try #require(statistics.probes.first)
            #expect(probe.hits == UInt64(count))
            #expect(probe.delivered + probe.lost == UInt64(count))
            #expect(statistics.unaccounted == 0)
            #expect(received.value == Int(probe.delivered))
            if probe.lost == 0 { #expect(!received.outOfOrder) }
            let pid = try #require(pids.values.first)
            #expect(pids.values.count == 1)
            let process = tracer.statistics(pid: pid)
            #expect(process.hits == UInt64(count), "delivered + lost of the one process")
            #expect(process.lost == probe.lost)
        }
    }
}

/// Pids seen by a handler on the reader thread.
final class PidSet: @unchecked Sendable {
    // @unchecked Sendable: `pids` is only touched under `lock`.
    private let lock = NSLock()
    private var pids = Set<Int32>()
    var values: Set<Int32> { lock.withLock { pids } }
    func insert(_ pid: Int32) { _ = lock.withLock { pids.insert(pid) } }
}

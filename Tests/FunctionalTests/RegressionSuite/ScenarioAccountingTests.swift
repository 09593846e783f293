import Foundation
import NodeControl
import RegressionSuite
import Testing
import TraceHarness

extension InProcessCapture {
    /// A scenario's verdict accounts for every hit of its own processes, and
    /// of no other: two scenarios share one tracer, as `check` and
    /// `swift test` run them, and only the one whose process lost events
    /// fails.
    @Suite("Scenario verdicts account per process", .serialized, .enabled(if: Fixture.isAvailable, "\(Fixture.unavailableReason ?? "")"))
    struct ScenarioAccountingTests {
        /// A scenario whose body a test writes.
        struct FixtureScenario: Scenario {
            let name: String
            let tracepoints: [ProbeName] = []
            let body: @Sendable (ScenarioContext, Check) async throws -> Void

            func run(_ context: ScenarioContext, _ check: Check) async throws {
                try await body(context, check)
            }
        }

        @Test("a flood's losses fail its own scenario; the scenario beside it, on the same tracer, passes with every hit delivered", .timeLimit(.minutes(2)))
        func lossesFailTheirOwnScenario() async throws {
            let copy = try Fixture.privateCopy()
            let flooding = try ServingFixture(copy: copy)
            let quiet = try ServingFixture(copy: copy)
            defer { flooding.stop(); quiet.stop() }
            var options = Tracer.Options()
            // 64 KiB: a blocked reader loses most of the flood.
            options.ringBufferBytes = 64 << 10
            let tracer = try Tracer(binary: copy, options: options)
            defer { tracer.close() }
            let context = ScenarioContext(binaries: TapyrusBinaries(tapyrusd: copy, tapyrusGenesis: copy), tracer: tracer)
            let (drained, floodDrained) = AsyncStream<Void>.makeStream()

            let flood = FixtureScenario(name: "flood") { context, check in
                let recording = context.record(pid: flooding.pid)
                defer { recording.stop() }
                let gate = ProcessStatisticsTests.ReaderGate()
                let subscription = context.tracer.onEvent(pid: flooding.pid) { _ in gate.pass() }
                _ = try flooding.send("flood 200000")
                await gate.waitUntilBlocked()
                check.that(gate.hasBlocked, "the reader blocked on the first flood event")
                gate.release()
                subscription.cancel()
                await context.tracer.drain()
                floodDrained.yield()
                floodDrained.finish()
            }
            let calm = FixtureScenario(name: "calm") { context, check in
                let recording = context.record(pid: quiet.pid)
                defer { recording.stop() }
                // Its events come once the flood's losses are counted, so
                // none of them can be lost to the full ring.
                for await _ in drained {}
                let fired = try quiet.send("catalogue").filter { $0.probe != nil }
                let events = try await recording.wait(for: fired.count, "catalogue events", where: { _ in true })
                check.equal(events.count, fired.count, "every catalogue event arrived")
            }

            async let floodVerdict = flood.verdict(in: context)
            async let calmVerdict = calm.verdict(in: context)
            let (lossy, clean) = await (floodVerdict, calmVerdict)

            #expect(lossy.outcome == .failed)
            #expect(lossy.failures.contains { $0.hasPrefix("process \(flooding.pid): no event lost") }, "\(lossy.failures)")
            #expect(!lossy.failures.contains { $0.contains("process \(quiet.pid)") })
            #expect(clean.outcome == .passed, "\(clean.failures)")
            #expect(clean.evidence.contains("process \(quiet.pid): no event lost"))
            #expect(clean.evidence.contains("process \(quiet.pid): every hit delivered or counted lost"))
            #expect(!clean.evidence.contains { $0.contains("process \(flooding.pid)") })
        }

        @Test("a pid used before by another process starts the scenario's count at zero")
        func reusedPidStartsAtZero() async throws {
            let copy = try Fixture.privateCopy()
            let earlier = try ServingFixture(copy: copy)
            defer { earlier.stop() }
            let tracer = try Tracer(binary: copy)
            defer { tracer.close() }
            let fired = try earlier.send("catalogue").filter { $0.probe != nil }
            await tracer.drain()
            let before = tracer.statistics(pid: earlier.pid)
            #expect(before.delivered == UInt64(fired.count))

            // The same pid, as a later process of the scenario would have it:
            // the counts before registration are not the scenario's.
            let processes = ScenarioProcesses(initial: [earlier.pid: .init(statistics: before, siteHits: tracer.siteHits(pid: earlier.pid))])
            let context = ScenarioContext(binaries: TapyrusBinaries(tapyrusd: copy, tapyrusGenesis: copy), tracer: tracer)
            var scoped = context
            scoped.processes = processes
            let recording = scoped.record(pid: earlier.pid)
            defer { recording.stop() }
            let again = try earlier.send("sites").filter { $0.probe != nil }
            try await recording.wait(for: again.count, "site events", where: { _ in true })
            await tracer.drain()
            let counted = processes.statistics(of: earlier.pid, in: tracer)
            #expect(counted.delivered == UInt64(again.count))
            #expect(counted.lost == 0)
            // The sites hit are the `sites` command's two change_info sites, once each.
            #expect(processes.siteHits(in: tracer).values.sorted() == Array(repeating: 1, count: again.count), "\(processes.siteHits(in: tracer))")
        }
    }
}

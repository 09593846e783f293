import Foundation
import Testing
import TraceHarness

extension InProcessCapture {
    /// Counting per process on one tracer shared by several processes, as the
    /// regression suite does: a loss in one process never shows in another's.
    @Suite("Statistics per process and per site", .serialized, .enabled(if: Fixture.isAvailable, "\(Fixture.unavailableReason ?? "")"))
    struct ProcessStatisticsTests {
        /// Blocks the reader thread (from inside a handler) until released, so
        /// the ring buffer fills and hits are lost for certain.
        final class ReaderGate: @unchecked Sendable {
            // @unchecked Sendable: DispatchSemaphore is thread-safe; `blocked`
            // is only touched under `lock`.
            private let semaphore = DispatchSemaphore(value: 0)
            private let lock = NSLock()
            private var blocked = false
            private var open = false
            /// Yields once, when the reader blocked: the test's barrier.
            private let (blockedSignal, blockedContinuation) = AsyncStream<Void>.makeStream()

            /// Called by the handler: blocks the first time, until `release()`.
            func pass() {
                let wait = lock.withLock { () -> Bool in
                    guard !blocked, !open else { return false }
                    blocked = true
                    return true
                }
                if wait {
                    blockedContinuation.yield()
                    blockedContinuation.finish()
                    semaphore.wait()
                }
            }

            var hasBlocked: Bool { lock.withLock { blocked } }

            /// Returns once the reader blocked in ``pass()`` (the reader
            /// reaches the first flood event sooner or later: only later hits
            /// find the ring full).
            func waitUntilBlocked() async {
                for await _ in blockedSignal { break }
            }

            func release() {
                lock.withLock { open = true }
                semaphore.signal()
            }
        }

        @Test("losses of a flooding process are its own; a quiet process sharing the tracer counts every event delivered", .timeLimit(.minutes(2)), arguments: AttachModes.available)
        func lossesStayWithTheirProcess(mode: AttachMode) async throws {
            let count = 200_000
            let copy = try Fixture.privateCopy()
            let flooding = try ServingFixture(copy: copy)
            let quiet = try ServingFixture(copy: copy)
            defer { flooding.stop(); quiet.stop() }
            var options = Tracer.Options()
            options.attachMode = mode
            // 64 KiB: a blocked reader loses most of the flood; the quiet
            // process's 16 events (about 8 KB) fit once it reads again.
            options.ringBufferBytes = 64 << 10
            let tracer = try Tracer(binary: copy, options: options)
            defer { tracer.close() }

            let gate = ReaderGate()
            let subscription = tracer.onEvent(pid: flooding.pid) { _ in gate.pass() }
            let floodLines = try flooding.send("flood \(count)")
            #expect(floodLines.count == 1)
            // The reader reaches the first flood events sooner or later (they
            // are in the ring: only later hits find it full) and blocks there.
            await gate.waitUntilBlocked()
            #expect(gate.hasBlocked, "the first event reached the handler")
            gate.release()
            subscription.cancel()
            await tracer.drain()

            let fired = try quiet.send("catalogue").filter { $0.probe != nil }
            await tracer.drain()

            let flood = tracer.statistics(pid: flooding.pid)
            let block = try #require(flood[ProbeName(provider: "validation", name: "block_connected")])
            #expect(block.hits == UInt64(count), "delivered + lost is every hit")
            #expect(block.lost > 0, "a blocked reader loses events")
            #expect(block.lost <= UInt64(count) - 1)
            #expect(flood.probes.filter { $0.probe != block.probe }.allSatisfy { $0.hits == 0 })
            #expect(throws: EventsLostError.self) { try flood.requireNoLoss() }

            let calm = tracer.statistics(pid: quiet.pid)
            try calm.requireNoLoss()
            #expect(calm.delivered == UInt64(fired.count))
            #expect(calm.hits == UInt64(fired.count))
            #expect(calm.pid == quiet.pid)

            let whole = tracer.statistics()
            #expect(whole.hits == UInt64(count + fired.count), "the kernel's count of every hit")
            #expect(whole.lost == block.lost)
            #expect(whole.delivered == block.delivered + calm.delivered)
            #expect(whole.unaccounted == 0)
            #expect(Set(tracer.tracedProcesses()) == [flooding.pid, quiet.pid])

            // Per site: the flood's site saw every flood hit; per process the
            // quiet process's sites add up to its events.
            let floodSites = tracer.siteStatistics(pid: flooding.pid).filter { $0.hits > 0 }
            #expect(floodSites.count == 1)
            #expect(floodSites.first?.hits == UInt64(count))
            #expect(tracer.siteStatistics(pid: quiet.pid).reduce(0) { $0 + $1.delivered } == UInt64(fired.count))
            #expect(tracer.siteStatistics(pid: quiet.pid).allSatisfy { $0.lost == 0 })
        }

        @Test("the ring buffer's data area is mapped once, not twice")
        func ringMappedOnce() throws {
            let copy = try Fixture.privateCopy()
            // A size no other test uses: tests of other suites may run alongside.
            let ring = 256 << 10
            var options = Tracer.Options()
            options.ringBufferBytes = ring
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            func mappings(ofSize size: Int) throws -> Int {
                // Read to the end: procfs reports no size.
                let maps = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/maps"))
                defer { try? maps.close() }
                return String(decoding: maps.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
                    .filter { $0.contains("bpf-map") }
                    .filter { line in
                        let range = line.split(separator: " ")[0].split(separator: "-")
                        guard range.count == 2, let start = Int(range[0], radix: 16), let end = Int(range[1], radix: 16) else { return false }
                        return end - start == size
                    }
                    .count
            }
            let once = try mappings(ofSize: page + ring), twice = try mappings(ofSize: page + 2 * ring)
            let tracer = try Tracer(binary: copy, probes: [ProbeName(provider: "validation", name: "block_connected")], options: options)
            #expect(tracer.ringBufferBytes == ring)
            #expect(try mappings(ofSize: page + ring) == once + 1, "the producer page and the data, once")
            #expect(try mappings(ofSize: page + 2 * ring) == twice, "not the data twice")
            tracer.close()
            #expect(try mappings(ofSize: page + ring) == once, "closing unmaps it")
        }
    }
}

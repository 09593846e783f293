import ArgumentParser
import Foundation
import Synchronization
import NodeControl
import TraceHarness

/// `tapyrus-trace bench capture`: the capture pipeline's costs, side by side.
struct CaptureBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Measure attach time, cost per event, whole-payload throughput and memory of the capture pipeline.",
        discussion: """
            Drives the USDT fixture (fixtures/usdt-fixture.c, built with \
            `cc -O2 -o usdt-fixture fixtures/usdt-fixture*.c`) and reports \
            ratios measured in one run, since shared machines are noisy.
            """
    )

    @Option(help: "The compiled USDT fixture.")
    var fixture: String

    @Option(help: "A tapyrusd to time attaching to as well.")
    var tapyrusd: String?

    @Option(help: "Events per flood run.")
    var events: Int = 1_000_000

    @Option(help: "Repetitions of each measurement (the median is reported).")
    var repetitions: Int = 3

    @Option(help: "Whole payloads of 4,000,000 bytes to send, back to back and then paced.")
    var payloads: Int = 50

    @Option(help: "Pause after each paced payload, in microseconds.")
    var payloadPause: Int = 5000

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard FileManager.default.isExecutableFile(atPath: fixture) else {
            throw ValidationError("--fixture \(fixture) is not an executable file")
        }
        guard events > 0, repetitions > 0, payloads > 0 else {
            throw ValidationError("--events, --repetitions and --payloads must be positive")
        }
        guard payloadPause >= 0 else { throw ValidationError("--payload-pause must not be negative") }
    }

    func run() async throws {
        var report = CaptureBenchReport()
        let flood = ProbeName(provider: "validation", name: "block_connected")

        // 1. Attach time, all probes.
        report.attachFixtureMilliseconds = try median((0..<repetitions).map { _ in try attachTime(fixture) })
        if let tapyrusd {
            report.attachTapyrusdMilliseconds = try median((0..<repetitions).map { _ in try attachTime(tapyrusd) })
        }

        // 2. Cost per event: the probe alone, an empty program, the capture.
        report.unattachedRate = try median((0..<repetitions).map { _ in try floodRate() })
        var emptyOptions = Tracer.Options()
        emptyOptions.attachEmptyProgram = true
        report.emptyProgramRate = try median((0..<repetitions).map { _ in
            let tracer = try Tracer(binary: fixture, probes: [flood], options: emptyOptions)
            defer { tracer.close() }
            return try floodRate()
        })
        var captureRates: [Double] = []
        for _ in 0..<repetitions {
            let tracer = try Tracer(binary: fixture, probes: [flood])
            let decoded = Atomic<Int>(0)
            let subscription = tracer.onEvent { event in
                if case .signed = event["height"] { decoded.add(1, ordering: .relaxed) }
            }
            let rate = try floodRate()
            await tracer.drain()
            let statistics = tracer.statistics()
            subscription.cancel()
            tracer.close()
            captureRates.append(rate)
            report.floodLost += statistics.lost
            report.floodDelivered += UInt64(decoded.load(ordering: .relaxed))
            report.floodFired += UInt64(events)
        }
        report.captureRate = median(captureRates)

        // 3. Whole 4 MB payloads: back to back, then paced.
        let burst = try await payloadRun(pauseMicroseconds: 0)
        let paced = try await payloadRun(pauseMicroseconds: payloadPause)
        report.payloadsSent = payloads
        report.burstComplete = burst.complete
        report.burstLost = burst.lost
        report.pacedComplete = paced.complete
        report.pacedLost = paced.lost
        report.pacedPauseMicroseconds = payloadPause
        report.payloadMegabytesPerSecond = paced.megabytesPerSecond

        // 4. Memory.
        report.peakResidentMegabytes = Self.memoryMegabytes("VmHWM")
        report.residentMegabytes = Self.memoryMegabytes("VmRSS")

        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            Output.line(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            for line in report.lines { Output.line(line) }
        }
        Output.flush()
    }

    /// Sends `payloads` messages of 4,000,000 bytes through net:inbound_message
    /// and counts how many arrived whole.
    private func payloadRun(pauseMicroseconds: Int) async throws -> (complete: Int, lost: UInt64, megabytesPerSecond: Double) {
        let size = 4_000_000
        let tracer = try Tracer(binary: fixture, probes: [ProbeName(provider: "net", name: "inbound_message")])
        defer { tracer.close() }
        let complete = Atomic<Int>(0)
        let subscription = tracer.onEvent { event in
            if case .payload(let payload)? = event["message"], payload.isComplete, payload.bytes.count == size {
                complete.add(1, ordering: .relaxed)
            }
        }
        defer { subscription.cancel() }
        let start = ContinuousClock.now
        _ = try Self.runFixture(fixture, ["payloads", "\(payloads)", "\(size)", "\(pauseMicroseconds)"])
        await tracer.drain()
        let elapsed = ContinuousClock.now - start
        let statistics = tracer.statistics()
        let whole = complete.load(ordering: .relaxed)
        return (whole, statistics.lost + statistics.payloadsCut, Double(whole * size) / 1e6 / elapsed.seconds)
    }

    private func attachTime(_ binary: String) throws -> Double {
        let start = ContinuousClock.now
        let tracer = try Tracer(binary: binary)
        let elapsed = ContinuousClock.now - start
        tracer.close()
        return elapsed.seconds * 1000
    }

    /// Events per second the fixture fires from one thread.
    private func floodRate() throws -> Double {
        let output = try Self.runFixture(fixture, ["flood", "\(events)"])
        guard
            let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
            let nanoseconds = (object["nanoseconds"] as? NSNumber)?.doubleValue, nanoseconds > 0
        else { throw CommandFailure("the fixture printed no timing: \(output)") }
        return Double(events) / (nanoseconds / 1e9)
    }

    static func runFixture(_ fixture: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: fixture)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CommandFailure("\(fixture) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
    }

    static func memoryMegabytes(_ key: String) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(key + ":") {
            let kilobytes = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) } ?? 0
            return kilobytes / 1024
        }
        return 0
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}

private struct CaptureBenchReport: Encodable {
    var attachFixtureMilliseconds = 0.0
    var attachTapyrusdMilliseconds: Double?
    var unattachedRate = 0.0
    var emptyProgramRate = 0.0
    var captureRate = 0.0
    var floodFired: UInt64 = 0
    var floodDelivered: UInt64 = 0
    var floodLost: UInt64 = 0
    var payloadsSent = 0
    var burstComplete = 0
    var burstLost: UInt64 = 0
    var pacedComplete = 0
    var pacedLost: UInt64 = 0
    var pacedPauseMicroseconds = 0
    var payloadMegabytesPerSecond = 0.0
    var peakResidentMegabytes = 0.0
    var residentMegabytes = 0.0

    var captureCostRatio: Double { captureRate > 0 ? emptyProgramRate / captureRate : 0 }

    var lines: [String] {
        func rate(_ value: Double) -> String { String(format: "%.2f M events/s", value / 1e6) }
        var lines = [
            String(format: "attach all fixture probes:       %.1f ms (median)", attachFixtureMilliseconds),
        ]
        if let attachTapyrusdMilliseconds {
            lines.append(String(format: "attach all tapyrusd probes:      %.1f ms (median)", attachTapyrusdMilliseconds))
        }
        lines += [
            "probe not attached:              \(rate(unattachedRate))",
            "empty eBPF program (the floor):  \(rate(emptyProgramRate))",
            "capture, decoded in user space:  \(rate(captureRate))  = floor / " + String(format: "%.2f", captureCostRatio),
            "flood: \(floodFired) fired, \(floodDelivered) decoded, \(floodLost) lost",
            String(format: "4 MB payloads back to back: %d of %d complete, %llu lost or cut (counted)", burstComplete, payloadsSent, burstLost),
            String(format: "4 MB payloads, one per %d µs: %d of %d complete, %llu lost or cut, %.0f MB/s delivered whole",
                   pacedPauseMicroseconds, pacedComplete, payloadsSent, pacedLost, payloadMegabytesPerSecond),
            String(format: "memory: %.0f MB resident, %.0f MB peak", residentMegabytes, peakResidentMegabytes),
        ]
        return lines
    }
}


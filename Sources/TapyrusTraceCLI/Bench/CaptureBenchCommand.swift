import ArgumentParser
import Foundation
import Synchronization
import NodeControl
import TraceHarness

/// `tapyrus-trace bench capture`: the capture pipeline's costs, side by side.
struct CaptureBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Measure attach and detach times, cost per event, whole-payload throughput and memory of the capture pipeline.",
        discussion: """
            Drives the USDT fixture (fixtures/usdt-fixture.c, built with \
            `cc -O2 -o usdt-fixture fixtures/usdt-fixture*.c`) and reports \
            ratios measured in one run, since shared machines are noisy: both \
            attach modes (one multi-uprobe link, per-site uprobes) in \
            alternation, and with --bpftrace the same probes and events \
            through bpftrace.
            """
    )

    @Option(help: "The compiled USDT fixture.")
    var fixture: String

    @Option(help: "A tapyrusd to time attaching, detaching and `log --duration 1` with as well.")
    var tapyrusd: String?

    @Option(help: "A bpftrace to measure the same probes and events with.")
    var bpftrace: String?

    @Option(help: "Events per flood run.")
    var events: Int = 1_000_000

    @Option(help: "Repetitions of each measurement (the median is reported).")
    var repetitions: Int = 5

    @Option(help: "Whole payloads of 4,000,000 bytes to send, back to back and then paced.")
    var payloads: Int = 50

    @Option(help: "Pause after each paced payload, in microseconds.")
    var payloadPause: Int = 5000

    @Option(help: "Attach modes to measure (default: multi and per-site where the kernel has multi-uprobe links).")
    var mode: [AttachMode] = []

    /// A part of the benchmark.
    enum Measurement: String, CaseIterable, ExpressibleByArgument {
        case setup, cost, payloads, memory, bpftrace
    }

    @Option(help: "Parts to measure: setup (attach and detach), cost (per event), payloads, memory, bpftrace (default: all).")
    var measure: [Measurement] = []

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard FileManager.default.isExecutableFile(atPath: fixture) else {
            throw ValidationError("--fixture \(fixture) is not an executable file")
        }
        if let tapyrusd, !FileManager.default.isExecutableFile(atPath: tapyrusd) {
            throw ValidationError("--tapyrusd \(tapyrusd) is not an executable file")
        }
        if let bpftrace, !FileManager.default.isExecutableFile(atPath: bpftrace) {
            throw ValidationError("--bpftrace \(bpftrace) is not an executable file")
        }
        guard events > 0, repetitions > 0, payloads > 0 else {
            throw ValidationError("--events, --repetitions and --payloads must be positive")
        }
        guard payloadPause >= 0 else { throw ValidationError("--payload-pause must not be negative") }
        if mode.contains(.automatic) { throw ValidationError("--mode takes multi or per-site") }
    }

    static let flood = ProbeName(provider: "validation", name: "block_connected")

    func run() async throws {
        let modes = mode.isEmpty ? (AttachMode.kernelHasMultiUprobe ? [.multiUprobe, .perSite] : [.perSite]) : mode
        var report = CaptureBenchReport(events: events, repetitions: repetitions)
        let parts = Set(measure.isEmpty ? Measurement.allCases : measure)

        // 1. Start (load + attach) and detach, all probes, modes alternating.
        var binaries = parts.contains(.setup) ? [("fixture", fixture)] : []
        if let tapyrusd { binaries.append(("tapyrusd", tapyrusd)) }
        for (name, binary) in binaries {
            var samples: [AttachMode: [SetupSample]] = [:]
            for _ in 0..<repetitions {
                for mode in modes { samples[mode, default: []].append(try setup(binary, mode: mode)) }
            }
            for mode in modes {
                let runs = samples[mode] ?? []
                report.setup.append(.init(
                    binary: name, mode: mode, probes: runs.first?.probes ?? 0, sites: runs.first?.sites ?? 0,
                    loadMilliseconds: median(runs.map(\.load)), attachMilliseconds: median(runs.map(\.attach)),
                    detachMilliseconds: median(runs.map(\.detach))))
            }
        }
        if let tapyrusd, parts.contains(.setup) {
            for mode in modes {
                report.logWall.append(.init(mode: mode, seconds: median(try (0..<repetitions).map { _ in try logWallTime(tapyrusd, mode: mode) })))
            }
        }

        // 2. Cost per event: the probe alone, an empty program (the floor),
        // the capture decoded in user space; per mode, alternating.
        var floods: [AttachMode: [FloodSample]] = [:]
        if parts.contains(.cost) {
            report.unattachedRate = median(try (0..<repetitions).map { _ in try floodRate() })
            report.decoderNanoseconds = median(try (0..<repetitions).map { _ in
                guard let nanoseconds = try DecoderBenchmark.nanosecondsPerEvent(records: events) else {
                    throw CommandFailure("the decoder benchmark's records did not all decode")
                }
                return nanoseconds
            })
        }
        for _ in 0..<(parts.contains(.cost) ? repetitions : 0) {
            for mode in modes {
                let floor = try emptyProgramRate(mode: mode)
                var sample = try await captureFlood(mode: mode)
                sample.floorRate = floor
                floods[mode, default: []].append(sample)
            }
        }
        for mode in modes where parts.contains(.cost) {
            let runs = floods[mode] ?? []
            // The kernel's run-time count costs time of its own (two clock
            // reads per run): measured apart, on the empty program too.
            let (capture, empty) = try programTimes(mode: mode)
            report.cost.append(.init(
                mode: mode,
                floorRate: median(runs.map(\.floorRate)),
                captureRate: median(runs.map(\.rate)),
                ratio: median(runs.map { $0.floorRate / $0.rate }),
                programNanoseconds: capture, emptyProgramNanoseconds: empty,
                userNanoseconds: median(runs.map(\.userNanoseconds)),
                eventsPerPass: median(runs.map(\.eventsPerPass)),
                fired: runs.reduce(0) { $0 + $1.fired }, delivered: runs.reduce(0) { $0 + $1.delivered },
                lost: runs.reduce(0) { $0 + $1.lost }, lostPerRun: runs.map(\.lost), ratios: runs.map { $0.floorRate / $0.rate },
                ringBufferBytes: runs.first?.ringBufferBytes ?? 0))
        }

        // 3. Whole 4 MB payloads: back to back, then paced.
        if parts.contains(.payloads) {
            let burst = try await payloadRun(pauseMicroseconds: 0)
            let paced = try await payloadRun(pauseMicroseconds: payloadPause)
            report.payloads = .init(
                sent: payloads, burstComplete: burst.complete, burstLost: burst.lost, burstCut: burst.cut,
                burstMegabytesPerSecond: burst.megabytesPerSecond,
                pacedComplete: paced.complete, pacedLost: paced.lost, pacedCut: paced.cut, pauseMicroseconds: payloadPause,
                pacedMegabytesPerSecond: paced.megabytesPerSecond, ringBufferBytes: burst.ringBufferBytes)
        }

        // 4. Memory of tools as processes: one without payloads, one with.
        if parts.contains(.memory) {
            report.memory.append(try toolMemory(["p2p-log"], name: "p2p-log (no payloads)", drive: ["payloads", "10000", "1000", "0"]))
            report.memory.append(try toolMemory(["raw-p2p"], name: "raw-p2p (4 MB payloads)", drive: ["payloads", "\(payloads)", "4000000", "\(payloadPause)"]))
        }

        // 5. bpftrace on the same probes and events.
        if let bpftrace, parts.contains(.bpftrace) {
            report.bpftrace = try bpftraceRun(bpftrace)
        }

        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            Output.line(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            for line in report.lines { Output.line(line) }
        }
        Output.flush()
    }

    // MARK: attach and detach

    struct SetupSample {
        var probes: Int, sites: Int
        var load: Double, attach: Double, detach: Double
    }

    private func setup(_ binary: String, mode: AttachMode) throws -> SetupSample {
        var options = Tracer.Options()
        options.attachMode = mode
        let tracer = try Tracer(binary: binary, options: options)
        let start = ContinuousClock.now
        tracer.close()
        let detach = ContinuousClock.now - start
        return SetupSample(
            probes: tracer.probes.count, sites: tracer.probes.reduce(0) { $0 + $1.sites.count },
            load: tracer.setupTimes.load.milliseconds, attach: tracer.setupTimes.attach.milliseconds, detach: detach.milliseconds)
    }

    /// `tapyrus-trace log BINARY --duration 1` as a whole process, in seconds.
    private func logWallTime(_ binary: String, mode: AttachMode) throws -> Double {
        let start = ContinuousClock.now
        let result = try Self.run(Self.executable, ["log", binary, "--duration", "1", "--attach", mode.rawValue])
        guard result.status == 0 else { throw CommandFailure("log \(binary) failed: \(result.standardError)") }
        return (ContinuousClock.now - start).seconds
    }

    // MARK: cost per event

    struct FloodSample {
        var rate: Double
        var floorRate = 0.0
        var userNanoseconds: Double
        var eventsPerPass: Double
        var fired: UInt64, delivered: UInt64, lost: UInt64
        var ringBufferBytes: Int
    }

    private func emptyProgramRate(mode: AttachMode) throws -> Double {
        var options = Tracer.Options()
        options.attachMode = mode
        options.attachEmptyProgram = true
        let tracer = try Tracer(binary: fixture, probes: [Self.flood], options: options)
        defer { tracer.close() }
        return try floodRate()
    }

    /// Nanoseconds per run of the capture program and of the empty one, as
    /// the kernel counts them during a flood each.
    private func programTimes(mode: AttachMode) throws -> (capture: Double, empty: Double) {
        try withExtendedLifetime(try ProgramRunTimeStatistics()) {
            let times = try [false, true].map { empty in
                var options = Tracer.Options()
                options.attachMode = mode
                options.attachEmptyProgram = empty
                let tracer = try Tracer(binary: fixture, probes: [Self.flood], options: options)
                defer { tracer.close() }
                let before = tracer.programRunTime()
                _ = try floodRate()
                return tracer.programRunTime().since(before).nanosecondsPerRun
            }
            return (times[0], times[1])
        }
    }

    /// A flood with every event decoded (and its height checked) in user space.
    private func captureFlood(mode: AttachMode) async throws -> FloodSample {
        var options = Tracer.Options()
        options.attachMode = mode
        let tracer = try Tracer(binary: fixture, probes: [Self.flood], options: options)
        defer { tracer.close() }
        let decoded = Atomic<Int>(0)
        let subscription = tracer.onEvent { event in
            if case .signed = event["height"] { decoded.add(1, ordering: .relaxed) }
        }
        defer { subscription.cancel() }
        let cpu = Self.processCPUTime()
        let passes = tracer.readerPasses
        let rate = try floodRate()
        // The fixture has exited: once drained, every hit it made was
        // decoded and handed to the subscriber, or counted lost.
        await tracer.drain()
        let userNanoseconds = (Self.processCPUTime() - cpu) * 1e9 / Double(events)
        let statistics = tracer.statistics()
        return FloodSample(
            rate: rate, userNanoseconds: userNanoseconds,
            eventsPerPass: Double(statistics.delivered) / Double(max(tracer.readerPasses - passes, 1)),
            fired: UInt64(events), delivered: UInt64(decoded.load(ordering: .relaxed)), lost: statistics.lost,
            ringBufferBytes: tracer.ringBufferBytes)
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

    // MARK: payloads

    /// Sends `payloads` messages of 4,000,000 bytes through net:inbound_message
    /// and counts how many arrived whole.
    private func payloadRun(pauseMicroseconds: Int) async throws -> (complete: Int, lost: UInt64, cut: UInt64, megabytesPerSecond: Double, ringBufferBytes: Int) {
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
        // Every hit is accounted for: its event delivered (whole, or marked
        // incomplete and counted cut) or counted lost.
        guard statistics.hits == UInt64(payloads), statistics.delivered + statistics.lost == UInt64(payloads) else {
            throw CommandFailure("payloads unaccounted for: \(statistics.hits) hits, \(statistics.delivered) delivered, \(statistics.lost) lost of \(payloads)")
        }
        return (whole, statistics.lost, statistics.payloadsCut, Double(whole * size) / 1e6 / elapsed.seconds, tracer.ringBufferBytes)
    }

    // MARK: memory

    /// Peak resident memory of a capturing command run as a process while
    /// the fixture fires `drive`.
    private func toolMemory(_ arguments: [String], name: String, drive: [String]) throws -> CaptureBenchReport.Memory {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = arguments + ["--tapyrusd", fixture, "--json"]
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        defer { if process.isRunning { process.interrupt() } }
        // Attached once it says it is tracing.
        var said = Data()
        while !String(decoding: said, as: UTF8.self).contains("Ctrl-C to stop") {
            let more = errors.fileHandleForReading.availableData
            guard !more.isEmpty else { throw CommandFailure("\(arguments.joined(separator: " ")) ended: \(String(decoding: said, as: UTF8.self))") }
            said.append(more)
        }
        let note = String(decoding: said, as: UTF8.self)
        // VmHWM only grows: the last value read before the exit is the peak.
        let pid = process.processIdentifier
        let peak = Shared<(peak: Double, resident: Double)>((0, 0))
        let sampled = DispatchSemaphore(value: 0)
        let sampler = Thread {
            defer { sampled.signal() }
            // A sample every 20 ms: the sampling interval, not a wait.
            while process.isRunning {
                let sample = (Self.memoryKilobytes("VmHWM", pid: pid), Self.memoryKilobytes("VmRSS", pid: pid))
                if sample.0 > 0 { peak.update { $0 = (sample.0, max($0.resident, sample.1)) } }
                usleep(20_000)
            }
        }
        sampler.start()
        _ = try Self.runFixture(fixture, drive)
        process.interrupt()
        let rest = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        sampled.wait()
        let (peakKilobytes, residentKilobytes) = peak.value
        let summary = String(decoding: rest, as: UTF8.self)
        let lost = summary.split(separator: "\n").first { $0.contains("probe hits") }.map(String.init) ?? ""
        // "… through one multi-uprobe link, 8 MiB ring buffer; Ctrl-C to stop"
        let ring = note.range(of: " ring buffer").map { end in
            String(note[..<end.lowerBound].split(separator: ",").last ?? "?").trimmingCharacters(in: .whitespaces)
        } ?? "?"
        return .init(command: name, peakMegabytes: peakKilobytes / 1024, residentMegabytes: residentKilobytes / 1024, ringBuffer: ring, summary: lost)
    }

    // MARK: bpftrace

    private func bpftraceRun(_ bpftrace: String) throws -> CaptureBenchReport.Bpftrace {
        var result = CaptureBenchReport.Bpftrace()
        result.version = try Self.run(bpftrace, ["--version"]).standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        // The same probe, all six arguments with the hash's bytes, printed.
        let script = "usdt:\(fixture):validation:block_connected { printf(\"%r %d %u %d %d %d\\n\", buf(arg0, 32), arg1, arg2, arg3, arg4, arg5); }"
        var rates: [Double] = [], lost: [UInt64] = [], printed: [UInt64] = [], attach: [Double] = [], detach: [Double] = [], peak: [Double] = []
        for _ in 0..<repetitions {
            let run = try BpftraceProcess(bpftrace, script: script, sites: 2)
            attach.append(run.attachSeconds * 1000)
            rates.append(try floodRate())
            let outcome = try run.stop()
            detach.append(outcome.stopSeconds * 1000)
            lost.append(outcome.lost)
            printed.append(outcome.lines)
            peak.append(outcome.peakKilobytes / 1024)
        }
        result.rate = median(rates)
        result.printed = printed.reduce(0, +)
        result.lost = lost.reduce(0, +)
        result.fired = UInt64(events * repetitions)
        result.startMilliseconds = median(attach)
        result.stopMilliseconds = median(detach)
        result.peakMegabytes = median(peak)
        if let tapyrusd {
            let all = "usdt:\(tapyrusd):*:* { printf(\"%s\\n\", probe); } interval:s:1 { exit(); }"
            result.wallSeconds = median(try (0..<repetitions).map { _ in
                let start = ContinuousClock.now
                let ran = try Self.run(bpftrace, ["-e", all])
                guard ran.status == 0 else { throw CommandFailure("bpftrace failed: \(ran.standardError)") }
                return (ContinuousClock.now - start).seconds
            })
        }
        return result
    }

    // MARK: helpers

    /// This executable, to run its commands as processes.
    static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    static func runFixture(_ fixture: String, _ arguments: [String]) throws -> String {
        let result = try run(fixture, arguments)
        guard result.status == 0 else { throw CommandFailure("\(fixture) \(arguments.joined(separator: " ")) exited \(result.status)") }
        return result.standardOutput
    }

    struct RunResult {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> RunResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let error = Shared(Data())
        let read = DispatchSemaphore(value: 0)
        let reader = Thread {
            let data = errors.fileHandleForReading.readDataToEndOfFile()
            error.update { $0 = data }
            read.signal()
        }
        reader.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        read.wait()
        return RunResult(status: process.terminationStatus, standardOutput: String(decoding: data, as: UTF8.self),
                         standardError: String(decoding: error.value, as: UTF8.self))
    }

    static func memoryKilobytes(_ key: String, pid: Int32? = nil) -> Double {
        let path = pid.map { "/proc/\($0)/status" } ?? "/proc/self/status"
        guard let status = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(key + ":") {
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) } ?? 0
        }
        return 0
    }

    /// User and system CPU time of this process so far, in seconds.
    static func processCPUTime() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}

/// A bpftrace process running a script, attached once its uprobes exist.
///
/// Started with posix_spawn and no blocked signals: Foundation's `Process`
/// hands down the spawning thread's signal mask, in which libdispatch blocks
/// SIGINT, and bpftrace, which handles SIGINT with a plain handler, would
/// then never stop.
private final class BpftraceProcess {
    let pid: pid_t
    let attachSeconds: Double
    private let errors: FileHandle
    private let lineCount = Shared<UInt64>(0)
    private let reader: Thread
    /// Signalled by the reader once bpftrace's output ended.
    private let readerDone = DispatchSemaphore(value: 0)

    init(_ bpftrace: String, script: String, sites: Int) throws {
        var output: [Int32] = [0, 0], errorPipe: [Int32] = [0, 0]
        guard pipe(&output) == 0, pipe(&errorPipe) == 0 else { throw CommandFailure("cannot make pipes: \(String(cString: strerror(errno)))") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)
        for descriptor in output + errorPipe { posix_spawn_file_actions_addclose(&actions, descriptor) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGINT, SIGTERM, SIGPIPE] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let words: [String] = [bpftrace, "-e", script]
        let arguments: [UnsafeMutablePointer<CChar>?] = words.map { word in word.withCString { strdup($0) } } + [nil]
        defer { for argument in arguments { free(argument) } }
        var pid: pid_t = 0
        let start = ContinuousClock.now
        let spawned = posix_spawn(&pid, bpftrace, &actions, &attributes, arguments, environ)
        close(output[1])
        close(errorPipe[1])
        guard spawned == 0 else {
            close(output[0])
            close(errorPipe[0])
            throw CommandFailure("cannot start \(bpftrace): \(String(cString: strerror(spawned)))")
        }
        self.pid = pid
        errors = FileHandle(fileDescriptor: errorPipe[0], closeOnDealloc: true)
        let handle = FileHandle(fileDescriptor: output[0], closeOnDealloc: true)
        let count = lineCount, done = readerDone
        reader = Thread {
            defer { done.signal() }
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                // Events are the lines of hex bytes (%r), not "Attaching…".
                let lines = UInt64(data.reduce(0) { $1 == 0x0a ? $0 + 1 : $0 })
                count.update { $0 += lines }
            }
        }
        reader.start()
        // Attached once it holds a perf event per site and per CPU's output
        // buffer (bpftrace has no signal for it: BEGIN runs before the
        // probes are attached).
        let wanted = sites + ProcessInfo.processInfo.activeProcessorCount
        let deadline = ContinuousClock.now + .seconds(60)
        while Self.perfEvents(pid) < wanted {
            guard kill(pid, 0) == 0, ContinuousClock.now < deadline else { throw CommandFailure("bpftrace did not attach") }
            usleep(500)
        }
        attachSeconds = (ContinuousClock.now - start).seconds
    }

    deinit {
        if kill(pid, 0) == 0 {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    static func perfEvents(_ pid: Int32) -> Int {
        let directory = "/proc/\(pid)/fd"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return entries.filter { ((try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\($0)")) ?? "").contains("perf_event") }.count
    }

    /// Sends SIGINT and waits; returns how long it took to exit, the lines
    /// it printed (one per event, plus its "Attaching" line) and the events
    /// it said it lost.
    func stop() throws -> (stopSeconds: Double, lines: UInt64, lost: UInt64, peakKilobytes: Double) {
        // Let it print what it has before stopping it.
        var previous = UInt64.max
        while lineCount.value != previous {
            previous = lineCount.value
            usleep(200_000)
        }
        let peakKilobytes = CaptureBenchCommand.memoryKilobytes("VmHWM", pid: pid)
        let start = ContinuousClock.now
        kill(pid, SIGINT)
        let said = String(decoding: errors.readDataToEndOfFile(), as: UTF8.self)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let seconds = (ContinuousClock.now - start).seconds
        readerDone.wait()
        // "Lost N events" on standard error.
        var lost: UInt64 = 0
        for line in said.split(separator: "\n") where line.contains("Lost") {
            lost += line.split(separator: " ").compactMap { UInt64($0) }.first ?? 0
        }
        return (seconds, lineCount.value > 0 ? lineCount.value - 1 : 0, lost, peakKilobytes)
    }
}

/// A value shared between threads under a lock.
private final class Shared<Value: Sendable>: Sendable {
    private let state: Mutex<Value>
    init(_ value: Value) { state = Mutex(value) }
    var value: Value { state.withLock { $0 } }
    func update(_ body: (inout Value) -> Void) { state.withLock { body(&$0) } }
}

extension Duration {
    var milliseconds: Double { seconds * 1000 }
}

private struct CaptureBenchReport: Encodable {
    struct Setup: Encodable {
        var binary: String
        var mode: AttachMode
        var probes: Int, sites: Int
        var loadMilliseconds: Double, attachMilliseconds: Double, detachMilliseconds: Double
    }

    struct LogWall: Encodable {
        var mode: AttachMode
        var seconds: Double
    }

    struct Cost: Encodable {
        var mode: AttachMode
        var floorRate: Double, captureRate: Double
        /// The median of each repetition's floor rate / capture rate.
        var ratio: Double
        /// Per run as the kernel counts (its count adds the empty program's time).
        var programNanoseconds: Double, emptyProgramNanoseconds: Double
        var userNanoseconds: Double, eventsPerPass: Double
        var fired: UInt64, delivered: UInt64, lost: UInt64
        var lostPerRun: [UInt64]
        /// Each repetition's floor rate / capture rate, in order.
        var ratios: [Double]
        var ringBufferBytes: Int
    }

    struct Payloads: Encodable {
        var sent: Int
        var burstComplete: Int, burstLost: UInt64, burstCut: UInt64, burstMegabytesPerSecond: Double
        var pacedComplete: Int, pacedLost: UInt64, pacedCut: UInt64, pauseMicroseconds: Int, pacedMegabytesPerSecond: Double
        var ringBufferBytes: Int
    }

    struct Memory: Encodable {
        var command: String
        var peakMegabytes: Double, residentMegabytes: Double
        var ringBuffer: String
        var summary: String
    }

    struct Bpftrace: Encodable {
        var version = ""
        var rate = 0.0
        var fired: UInt64 = 0, printed: UInt64 = 0, lost: UInt64 = 0
        var startMilliseconds = 0.0, stopMilliseconds = 0.0
        var peakMegabytes = 0.0
        var wallSeconds: Double?
    }

    var events: Int
    var repetitions: Int
    var setup: [Setup] = []
    var logWall: [LogWall] = []
    var unattachedRate = 0.0
    var decoderNanoseconds = 0.0
    var cost: [Cost] = []
    var payloads: Payloads?
    var memory: [Memory] = []
    var bpftrace: Bpftrace?

    var lines: [String] {
        func rate(_ value: Double) -> String { String(format: "%.2f M events/s", value / 1e6) }
        var lines = ["medians of \(repetitions) repetitions; attach modes alternate"]
        for entry in setup {
            lines.append(String(format: "%@ (%d probes, %d sites), %@: load %.1f ms, attach %.1f ms, detach %.1f ms",
                                entry.binary, entry.probes, entry.sites, entry.mode.phrase(sites: entry.sites), entry.loadMilliseconds,
                                entry.attachMilliseconds, entry.detachMilliseconds))
        }
        for entry in logWall {
            lines.append(String(format: "log <tapyrusd> --duration 1 --attach %@: %.2f s wall", entry.mode.rawValue, entry.seconds))
        }
        if !cost.isEmpty {
            lines.append("probe not attached: \(rate(unattachedRate))")
            lines.append(String(format: "the decoder alone (no kernel): %.0f ns CPU per event", decoderNanoseconds))
        }
        for entry in cost {
            lines.append("\(entry.mode): empty program (the floor) \(rate(entry.floorRate)); capture, decoded in user space \(rate(entry.captureRate)) = floor / " + String(format: "%.2f", entry.ratio))
            lines.append(String(format: "  per event: %.0f ns in the BPF program (%.0f counted, less %.0f the count costs on the empty program), %.0f ns CPU in user space, %.0f events per reader pass",
                                entry.programNanoseconds - entry.emptyProgramNanoseconds, entry.programNanoseconds, entry.emptyProgramNanoseconds,
                                entry.userNanoseconds, entry.eventsPerPass))
            lines.append("  flood: \(entry.fired) fired, \(entry.delivered) decoded, \(entry.lost) lost (\(entry.ringBufferBytes >> 20) MiB ring buffer)"
                         + (entry.lost > 0 ? "; lost per run: \(entry.lostPerRun.map(String.init).joined(separator: ", "))" : ""))
            lines.append("  floor / capture per run: " + entry.ratios.map { String(format: "%.2f", $0) }.joined(separator: ", "))
        }
        if let payloads {
            lines.append(String(format: "4 MB payloads back to back: %d of %d whole, %llu events lost, %llu payloads cut (all counted), %.0f MB/s delivered whole (%d MiB ring buffer)",
                                payloads.burstComplete, payloads.sent, payloads.burstLost, payloads.burstCut, payloads.burstMegabytesPerSecond, payloads.ringBufferBytes >> 20))
            lines.append(String(format: "4 MB payloads, one per %d µs: %d of %d whole, %llu events lost, %llu payloads cut, %.0f MB/s delivered whole",
                                payloads.pauseMicroseconds, payloads.pacedComplete, payloads.sent, payloads.pacedLost, payloads.pacedCut, payloads.pacedMegabytesPerSecond))
        }
        for entry in memory {
            lines.append(String(format: "memory of %@: %.0f MB peak resident (%@ ring buffer); %@", entry.command, entry.peakMegabytes, entry.ringBuffer, entry.summary))
        }
        if let bpftrace {
            let missing = Int64(bpftrace.fired) - Int64(bpftrace.printed) - Int64(bpftrace.lost)
            lines.append("\(bpftrace.version), same probe and events: \(rate(bpftrace.rate)); \(bpftrace.fired) fired, \(bpftrace.printed) printed, \(bpftrace.lost) reported lost, \(missing) missing unreported")
            lines.append(String(format: "  start to attached %.0f ms, stop %.0f ms, %.0f MB peak resident", bpftrace.startMilliseconds, bpftrace.stopMilliseconds, bpftrace.peakMegabytes))
            if let wall = bpftrace.wallSeconds {
                lines.append(String(format: "  all tapyrusd probes for 1 s (interval:s:1 exit): %.2f s wall", wall))
            }
        }
        return lines
    }
}

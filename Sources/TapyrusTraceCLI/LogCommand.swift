import ArgumentParser
import Foundation
import TraceHarness

/// `tapyrus-trace log`: every event of the chosen probes.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Print every event of a binary's probes until Ctrl-C, then a summary of counts and losses.",
        discussion: """
            Probes in the catalogue are decoded by name; any other probe is \
            printed raw, each argument as a number (with --raw-pointee, also \
            the bytes it points at). The summary goes to standard error.
            """
    )

    @Argument(help: "The ELF binary whose probes to attach (e.g. /usr/local/bin/tapyrusd).")
    var binary: String

    @Option(help: "Trace only this process (default: every process running the binary).")
    var pid: Int32?

    @Option(name: .customLong("probe"), help: "A probe to attach, as provider:name; repeat for several (default: all).")
    var probes: [String] = []

    @Flag(help: "Print JSON Lines instead of text.")
    var json = false

    @Option(help: "Show up to this many bytes of each payload as hex (-1: all).")
    var payloadHex: Int = 0

    @Option(help: "For probes not in the catalogue, read this many bytes at each pointer-sized argument.")
    var rawPointee: Int = 0

    @Option(help: "Stop after this many seconds.")
    var duration: Double?

    @Option(help: "Stop after this many events.")
    var count: Int?

    @Flag(help: "Trace the probes that can be attached and name the others (e.g. RIP-relative operands), instead of failing.")
    var skipUnattachable = false

    @OptionGroup var capture: CaptureOptions

    func validate() throws {
        for probe in probes where ProbeName(probe) == nil {
            throw ValidationError("'\(probe)' is not a probe name of the form provider:name")
        }
        if let count, count <= 0 { throw ValidationError("--count must be positive") }
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
        if payloadHex < -1 { throw ValidationError("--payload-hex must be -1 (all), 0 or a byte count") }
    }

    /// A failed attach, with the flag that would trace the other probes.
    private static func withHint(_ error: any Error, skipping: Bool) -> any Error {
        if !skipping, let tracerError = error as? TracerError, case .attachFailed = tracerError {
            return CommandFailure("\(tracerError); pass --skip-unattachable to trace the other probes")
        }
        return error
    }

    func run() async throws {
        Output.ignoreBrokenPipe()
        var options = try capture.tracerOptions()
        options.rawPointeeBytes = rawPointee
        options.skipUnattachableProbes = skipUnattachable
        let tracer: Tracer
        do {
            tracer = try Tracer(binary: binary, pid: pid, probes: probes.isEmpty ? nil : probes.compactMap(ProbeName.init), options: options)
        } catch {
            throw Self.withHint(error, skipping: skipUnattachable)
        }
        for skipped in tracer.skipped {
            Output.note("warning: not attached: \(skipped)")
        }
        let siteCount = tracer.probes.reduce(0) { $0 + $1.sites.count }
        Output.note("tracing \(tracer.probes.count) probes (\(siteCount) sites) of \(binary)\(pid.map { " in process \($0)" } ?? "") \(CaptureOptions.describe(tracer)); Ctrl-C to stop")

        let stop = StopTrigger()
        stop.onSignals()
        if let duration { stop.after(seconds: duration) }
        if let pid { stop.whenProcessExits(pid) }

        let formatter = EventFormatter(payloadHexLimit: payloadHex == -1 ? nil : payloadHex)
        let stream = tracer.events()
        let limit = count
        let json = json
        let printer = Task {
            var printed = 0
            for await event in stream {
                let text = json ? formatter.json(for: event) : formatter.line(for: event)
                guard Output.line(text) else {
                    stop.fire("standard output closed")
                    break
                }
                printed += 1
                if let limit, printed >= limit {
                    stop.fire("\(limit) events printed")
                    break
                }
            }
            Output.flush()
            return printed
        }

        let reason = await stop.reason()
        await tracer.drain()
        let statistics = tracer.statistics()
        tracer.close()
        let printed = await printer.value
        Summary.print(statistics, reason: reason, printed: printed)
    }
}

/// The end-of-capture summary on standard error.
enum Summary {
    static func print(_ statistics: CaptureStatistics, reason: String, printed: Int) {
        Output.note("stopped: \(reason)")
        Output.note("\(printed) events printed; \(statistics.hits) probe hits, \(statistics.delivered) delivered, \(statistics.lost) lost, \(statistics.payloadsCut) payloads cut")
        for probe in statistics.probes where probe.hits > 0 {
            Output.note("  \(probe.probe): \(probe.hits) hits, \(probe.delivered) delivered, \(probe.lost) lost, \(probe.readFaults) unreadable arguments")
        }
        if statistics.lost > 0 || statistics.payloadsCut > 0 {
            Output.note("warning: events were lost; a larger ring buffer or a faster reader would keep them")
        }
    }
}

/// Ends a capture on the first of: a signal, a timer, the traced process
/// exiting, or the printer giving up.
final class StopTrigger: @unchecked Sendable {
    private let lock = NSLock()
    private var fired: String?
    private var waiter: CheckedContinuation<String, Never>?
    private var sources: [DispatchSourceSignal] = []

    func fire(_ reason: String) {
        lock.lock()
        guard fired == nil else { lock.unlock(); return }
        fired = reason
        let waiter = self.waiter
        self.waiter = nil
        lock.unlock()
        waiter?.resume(returning: reason)
    }

    func reason() async -> String {
        await withCheckedContinuation { continuation in
            lock.lock()
            if let fired {
                lock.unlock()
                continuation.resume(returning: fired)
            } else {
                waiter = continuation
                lock.unlock()
            }
        }
    }

    func onSignals() {
        for (number, name) in [(SIGINT, "interrupted"), (SIGTERM, "terminated")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { [weak self] in self?.fire(name) }
            source.resume()
            sources.append(source)
        }
    }

    func after(seconds: Double) {
        Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            self?.fire("\(seconds) s elapsed")
        }
    }

    func whenProcessExits(_ pid: Int32) {
        Task { [weak self] in
            while kill(pid, 0) == 0 || errno == EPERM {
                try? await Task.sleep(for: .milliseconds(100))
                if self == nil { return }
            }
            self?.fire("process \(pid) exited")
        }
    }
}

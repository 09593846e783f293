import ArgumentParser
import Foundation
import Synchronization
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

        let session = CaptureSession(tracer: tracer, stopAfterSeconds: duration, processToWatch: pid, stopOnSignals: true)
        let formatter = EventFormatter(payloadHexLimit: payloadHex == -1 ? nil : payloadHex)
        let limit = count
        let json = json
        let printed = Atomic<Int>(0)
        let summary = await session.run { event in
            guard Output.line(json ? formatter.json(for: event) : formatter.line(for: event)) else {
                return .failed("standard output closed")
            }
            let count = printed.add(1, ordering: .relaxed).newValue
            if let limit, count >= limit { return .stop("\(limit) events printed") }
            return .keepGoing
        }
        Output.flush()
        Output.summary(summary)
    }
}

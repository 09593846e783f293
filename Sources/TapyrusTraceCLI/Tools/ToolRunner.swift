import ArgumentParser
import Foundation
import Synchronization
import TraceHarness
import TraceTools

/// The options every tool shares: what to trace, output form, how long.
struct ToolTargetOptions: ParsableArguments {
    @Option(help: "Trace only this tapyrusd process (its binary is found through /proc/PID/exe).")
    var pid: Int32?

    @Option(help: ArgumentHelp("Trace every process running this tapyrusd binary, each line naming its process by pid (default: $TAPYRUSD, else tapyrusd on PATH).", valueName: "path"))
    var tapyrusd: String?

    @Flag(help: "Print JSON Lines instead of text.")
    var json = false

    @Option(help: "Stop after this many seconds.")
    var duration: Double?

    @OptionGroup var capture: CaptureOptions

    /// Whether every process of a binary is traced (no `--pid`): the tools'
    /// text lines then start with a PID column.
    var tracesEveryProcess: Bool { pid == nil }

    func validate() throws {
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
    }
}

/// Prints what a ``TraceTool`` makes of a capture: its header, the lines of
/// each event and each tick, and its closing lines, on standard output.
///
/// The capture's task feeds events and its ticker ticks, so the tool sits
/// behind a lock. With a ``ProcessWatch``, each tick first tells the tool
/// which traced processes exited.
final class ToolPrinter<Tool: TraceTool>: Sendable {
    private let tool: Mutex<Tool>
    private let watch: ProcessWatch?

    init(_ tool: Tool, watch: ProcessWatch? = nil) {
        self.tool = Mutex(tool)
        self.watch = watch
    }

    /// Writes the tool's header; false once standard output is closed.
    func header() -> Bool {
        write(tool.withLock { $0.header() }) && Output.flush()
    }

    /// Writes the event's lines; the capture ends when standard output is
    /// closed or this event gave the tool all it wanted.
    func consume(_ event: TraceEvent) -> CaptureSession.Delivery {
        watch?.observe(event.pid)
        let (lines, finished) = tool.withLock { tool in
            let before = tool.finishedReason
            return (tool.consume(event), before == nil ? tool.finishedReason : nil)
        }
        guard write(lines) else { return .failed("standard output closed") }
        return finished.map(CaptureSession.Delivery.stop) ?? .keepGoing
    }

    /// Tells the tool of the traced processes that exited, writes the tick's
    /// lines (for a tool that wants ticks) and flushes. Returns false once
    /// standard output is closed, and why the capture should end if a process
    /// exiting gave the tool all it wanted.
    func tick() -> (written: Bool, finished: String?) {
        let exited = watch?.exited() ?? []
        let (lines, finished) = tool.withLock { tool in
            let before = tool.finishedReason
            var lines = exited.flatMap { tool.processExited($0) }
            if tool.wantsTicks { lines += tool.tick(monotonicNanoseconds: Self.now) }
            return (lines, before == nil ? tool.finishedReason : nil)
        }
        return (write(lines) && Output.flush(), finished)
    }

    /// Writes the last tick's and the closing lines; returns the tool as it ended.
    func finish() -> Tool {
        let (closing, ended) = tool.withLock { tool in
            ((tool.wantsTicks ? tool.tick(monotonicNanoseconds: Self.now) : []) + tool.finish(), tool)
        }
        _ = write(closing)
        Output.flush()
        return ended
    }

    private func write(_ lines: [String]) -> Bool {
        lines.allSatisfy { Output.line($0) }
    }

    private static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }
}

/// Runs a ``TraceTool`` as a command: resolves the target, attaches, prints
/// the tool's lines until Ctrl-C, `--duration`, the traced process exiting,
/// the reader of standard output going away or the tool being done, then the
/// tool's closing lines and the capture summary (with lost-event counts) on
/// standard error.
enum ToolRunner {
    /// Returns the tool as it ended and the target it traced.
    @discardableResult
    static func run<Tool: TraceTool>(_ tool: Tool, options: ToolTargetOptions) async throws -> (tool: Tool, target: ToolTarget) {
        Output.ignoreBrokenPipe()
        let target = try ToolTarget.resolve(pid: options.pid, binary: options.tapyrusd, required: tool.probes)
        let tracer = try Tracer(binary: target.binary, pid: target.pid, probes: tool.probes,
                                options: options.capture.tracerOptions(capturesPayloads: tool.readsPayloads))
        let siteCount = tracer.probes.reduce(0) { $0 + $1.sites.count }
        Output.note("tracing \(tool.probes.map(\.description).joined(separator: ", ")) (\(siteCount) sites) of \(target.description) \(CaptureOptions.describe(tracer)); Ctrl-C to stop")

        let session = CaptureSession(tracer: tracer, stopAfterSeconds: options.duration, processToWatch: target.pid, stopOnSignals: true)
        // With --pid the session stops when the process exits; by binary path
        // the tool is told of each process that exits.
        let printer = ToolPrinter(tool, watch: target.pid == nil ? ProcessWatch() : nil)
        if !printer.header() { session.stop("standard output closed") }
        let summary = await session.run(tickEvery: .seconds(1), onTick: {
            let (written, finished) = printer.tick()
            if !written { session.stop("standard output closed") }
            if let finished { session.stop(finished) }
        }, consume: printer.consume)
        let ended = printer.finish()
        Output.summary(summary)
        return (ended, target)
    }
}

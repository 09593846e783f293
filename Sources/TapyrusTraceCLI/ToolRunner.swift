import ArgumentParser
import Foundation
import TraceHarness

/// The options every tool shares: what to trace, output form, how long.
struct ToolTargetOptions: ParsableArguments {
    @Option(help: "Trace only this tapyrusd process (its binary is found through /proc/PID/exe).")
    var pid: Int32?

    @Option(help: ArgumentHelp("Trace every process running this tapyrusd binary (default: $TAPYRUSD, else tapyrusd on PATH).", valueName: "path"))
    var tapyrusd: String?

    @Flag(help: "Print JSON Lines instead of text.")
    var json = false

    @Option(help: "Stop after this many seconds.")
    var duration: Double?

    @OptionGroup var capture: CaptureOptions

    func validate() throws {
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
    }
}

/// A tool shared between the event reader and the once-a-second ticker.
private final class LockedTool<Tool: TraceTool>: @unchecked Sendable {
    private let lock = NSLock()
    private var tool: Tool

    init(_ tool: Tool) { self.tool = tool }

    func with<R>(_ body: (inout Tool) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&tool)
    }
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

        let stop = StopTrigger()
        stop.onSignals()
        if let duration = options.duration { stop.after(seconds: duration) }
        if let pid = target.pid { stop.whenProcessExits(pid) }

        let locked = LockedTool(tool)
        @Sendable func write(_ lines: [String]) -> Bool {
            for line in lines where !Output.line(line) {
                stop.fire("standard output closed")
                return false
            }
            return true
        }
        guard write(tool.header()), Output.flush() else {
            let statistics = tracer.statistics()
            tracer.close()
            Summary.print(statistics, reason: "standard output closed", printed: 0)
            return (tool, target)
        }

        let stream = tracer.events()
        let printer = Task {
            var consumed = 0
            for await event in stream {
                consumed += 1
                let (lines, finished) = locked.with { tool in (tool.consume(event), tool.finishedReason) }
                guard write(lines) else { break }
                if let finished {
                    stop.fire(finished)
                    break
                }
            }
            return consumed
        }
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { break }
                if tool.wantsTicks {
                    let now = DispatchTime.now().uptimeNanoseconds
                    _ = write(locked.with { $0.tick(monotonicNanoseconds: now) })
                }
                if !Output.flush() { stop.fire("standard output closed") }
            }
        }

        let reason = await stop.reason()
        ticker.cancel()
        await tracer.drain()
        let statistics = tracer.statistics()
        tracer.close()
        let consumed = await printer.value
        let closing = locked.with { tool in
            (tool.wantsTicks ? tool.tick(monotonicNanoseconds: DispatchTime.now().uptimeNanoseconds) : []) + tool.finish()
        }
        _ = write(closing)
        Output.flush()
        Summary.print(statistics, reason: reason, printed: consumed)
        return (locked.with { $0 }, target)
    }
}

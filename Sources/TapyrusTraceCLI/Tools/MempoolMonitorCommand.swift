import ArgumentParser
import Foundation
import Synchronization
import TraceHarness
import TraceTools

/// `tapyrus-trace mempool-monitor`: a live view of what enters and leaves the mempool.
struct MempoolMonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mempool-monitor",
        abstract: "A live view of mempool transactions added, removed, replaced and rejected, with totals.",
        discussion: """
            Shows counts, fees and sizes summed per kind of event, removal and \
            rejection reasons, per node (process, by pid) and over all, and \
            the most recent events with their node, refreshing in place; q, \
            ESC or Ctrl-C quits. With --json it prints one JSON line per event \
            instead.
            """
    )

    @OptionGroup var options: ToolTargetOptions

    static let probes = [MempoolAdded.tracepoint.probe, MempoolRemoved.tracepoint.probe,
                         MempoolReplaced.tracepoint.probe, MempoolRejected.tracepoint.probe]

    func run() async throws {
        let terminal = options.json ? nil : try MonitorTerminal(command: "mempool-monitor")
        let target = try ToolTarget.resolve(pid: options.pid, binary: options.tapyrusd, required: Self.probes)
        let tracer = try Tracer(binary: target.binary, pid: target.pid, probes: Self.probes,
                                options: options.capture.tracerOptions(capturesPayloads: false))
        guard let terminal else {
            let formatter = EventFormatter()
            await runMonitorJSONLines(tracer: tracer, target: target, duration: options.duration) { formatter.json(for: $0) }
            return
        }

        let activity = Mutex(MempoolActivity())
        let where_ = target.description
        let summary = try await runInteractiveMonitor(terminal: terminal, tracer: tracer, target: target, record: { event in
            activity.withLock { _ = $0.record(event) }
        }, exited: { pid in
            activity.withLock { $0.processExited(pid) }
        }, handle: { key in
            [.quit, .escape, .interrupt].contains(key)
        }, render: { width, height in
            let snapshot = activity.withLock { $0 }
            return snapshot.render(width: width, height: height, status: "\(tracer.statistics().lost) lost · \(where_)")
        })
        Output.summary(summary)
        for line in activity.withLock({ $0.summaryLines }) { Output.note(line) }
    }
}

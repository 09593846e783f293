import ArgumentParser
import Foundation
import Synchronization
import TraceHarness

/// `tapyrus-trace mempool-monitor`: a live view of what enters and leaves the mempool.
struct MempoolMonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mempool-monitor",
        abstract: "A live view of mempool transactions added, removed, replaced and rejected, with totals.",
        discussion: """
            Shows counts, fees and sizes summed per kind of event, removal and \
            rejection reasons, and the most recent events, refreshing in place; \
            q, ESC or Ctrl-C quits. With --json it prints one JSON line per \
            event instead.
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
        let subscription = tracer.onEvent { event in
            activity.withLock { _ = $0.record(event) }
        }
        let reason: String
        do {
            try terminal.enter()
            defer { terminal.restore() }
            let where_ = target.description
            reason = runMonitorLoop(terminal: terminal, pid: target.pid, handle: { key in
                [.quit, .escape, .interrupt].contains(key)
            }, render: { width, height in
                let snapshot = activity.withLock { $0 }
                return snapshot.render(width: width, height: height, status: "\(tracer.statistics().lost) lost · \(where_)")
            })
        }
        subscription.cancel()
        await tracer.drain()
        let statistics = tracer.statistics()
        tracer.close()
        let total = activity.withLock { state in MempoolActivity.Kind.allCases.reduce(0) { $0 + state.totals($1).count } }
        Summary.print(statistics, reason: reason, printed: total)
        activity.withLock { state in
            for kind in MempoolActivity.Kind.allCases {
                let totals = state.totals(kind)
                Output.note("  \(kind.rawValue): \(totals.count) transactions, fees \(totals.fees), \(totals.bytes) bytes")
            }
        }
    }
}

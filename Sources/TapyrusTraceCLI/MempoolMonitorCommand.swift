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

    @Option(help: "Attach to this tapyrusd process.")
    var pid: Int32?

    @Option(help: "Attach to every process running this tapyrusd binary (default: $TAPYRUSD, else tapyrusd on PATH).")
    var tapyrusd: String?

    @Flag(help: "Print JSON Lines of events instead of the screen.")
    var json = false

    @Option(help: "With --json: stop after this many seconds.")
    var duration: Double?

    static let probes = [MempoolAdded.tracepoint.probe, MempoolRemoved.tracepoint.probe,
                         MempoolReplaced.tracepoint.probe, MempoolRejected.tracepoint.probe]

    func validate() throws {
        if pid != nil && tapyrusd != nil { throw ValidationError("give --pid or --tapyrusd, not both") }
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
    }

    func run() async throws {
        let terminal = json ? nil : try MonitorTerminal(command: "mempool-monitor")
        let target = try MonitorTarget.resolve(pid: pid, tapyrusd: tapyrusd, probes: Self.probes)
        let tracer = try target.tracer(probes: Self.probes)
        guard let terminal else {
            let formatter = EventFormatter()
            await runMonitorJSONLines(tracer: tracer, target: target, duration: duration) { formatter.json(for: $0) }
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

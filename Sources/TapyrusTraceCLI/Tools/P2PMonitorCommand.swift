import ArgumentParser
import Foundation
import Synchronization
import TraceHarness
import TraceTools

/// `tapyrus-trace p2p-monitor`: a live screen of the traced nodes' peers and their messages.
struct P2PMonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "p2p-monitor",
        abstract: "A live screen of tapyrusd's peers: messages and bytes each way, connection type and address.",
        discussion: """
            One row per node (process, by pid) and peer; a node that exits is \
            marked so. Navigate with UP/DOWN or J/K, open that node's recent \
            messages with that peer with ENTER or SPACE (ours on the left, the \
            peer's on the right), go back and quit with q or ESC. Needs a \
            terminal of at least 60x10; with --json it prints one JSON line \
            per message instead.
            """
    )

    @OptionGroup var options: ToolTargetOptions

    static let probes = [InboundMessage.tracepoint.probe, OutboundMessage.tracepoint.probe]

    func run() async throws {
        let terminal = options.json ? nil : try MonitorTerminal(command: "p2p-monitor")
        let target = try ToolTarget.resolve(pid: options.pid, binary: options.tapyrusd, required: Self.probes)
        let tracer = try Tracer(binary: target.binary, pid: target.pid, probes: Self.probes,
                                options: options.capture.tracerOptions(capturesPayloads: false))
        guard let terminal else {
            await runMonitorJSONLines(tracer: tracer, target: target, duration: options.duration) { P2PMonitorRecord($0)?.json }
            return
        }

        let traffic = Mutex(P2PTraffic())
        var screen = P2PMonitorScreen()
        let where_ = target.description
        let summary = try await runInteractiveMonitor(terminal: terminal, tracer: tracer, target: target, record: { event in
            traffic.withLock { _ = $0.record(event) }
        }, exited: { pid in
            traffic.withLock { $0.processExited(pid) }
        }, handle: { key in
            let peers = traffic.withLock { $0.peers }
            return screen.handle(key, peers: peers) == .quit
        }, render: { width, height in
            let snapshot = traffic.withLock { $0 }
            let lost = tracer.statistics().lost
            return screen.render(snapshot, width: width, height: height, status: "\(snapshot.totalMessages) messages, \(lost) lost · \(where_)")
        })
        Output.summary(summary)
    }
}

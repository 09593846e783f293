import ArgumentParser
import Foundation
import Synchronization
import TraceHarness

/// `tapyrus-trace p2p-monitor`: a live screen of a node's peers and their messages.
struct P2PMonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "p2p-monitor",
        abstract: "A live screen of tapyrusd's peers: messages and bytes each way, connection type and address.",
        discussion: """
            Navigate with UP/DOWN or J/K, open a peer's recent messages with \
            ENTER or SPACE (ours on the left, the peer's on the right), go \
            back and quit with q or ESC. Needs a terminal of at least 60x10; \
            with --json it prints one JSON line per message instead.
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
        let subscription = tracer.onEvent { event in
            traffic.withLock { _ = $0.record(event) }
        }
        var screen = P2PMonitorScreen()
        let reason: String
        do {
            try terminal.enter()
            defer { terminal.restore() }
            let where_ = target.description
            reason = runMonitorLoop(terminal: terminal, pid: target.pid, handle: { key in
                let peers = traffic.withLock { $0.peers }
                return screen.handle(key, peers: peers) == .quit
            }, render: { width, height in
                let snapshot = traffic.withLock { $0 }
                let lost = tracer.statistics().lost
                return screen.render(snapshot, width: width, height: height, status: "\(snapshot.totalMessages) messages, \(lost) lost · \(where_)")
            })
        }
        subscription.cancel()
        await tracer.drain()
        let statistics = tracer.statistics()
        tracer.close()
        Summary.print(statistics, reason: reason, printed: traffic.withLock { $0.totalMessages })
    }
}

import ArgumentParser

@main
struct TapyrusTrace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tapyrus-trace",
        abstract: "Trace, verify and benchmark the USDT tracepoints of tapyrusd.",
        discussion: """
            Reads a binary's USDT probes, checks them against the catalogue of \
            tapyrusd tracepoints, and captures their events with libbpf: no \
            runtime compiler, kernel headers, BCC or bpftrace needed. Capturing \
            needs root, or CAP_BPF and CAP_PERFMON.
            """,
        groupedSubcommands: [
            CommandGroup(name: "Inspect", subcommands: [ProbesCommand.self, VerifyCommand.self, LogCommand.self]),
            CommandGroup(name: "Test", subcommands: [CheckCommand.self]),
            CommandGroup(name: "Tools", subcommands: [
                P2PLogCommand.self, P2PMonitorCommand.self, RawP2PCommand.self, FlushLogCommand.self,
                UTXOLogCommand.self, CoinSelectionLogCommand.self, MempoolMonitorCommand.self, ConnectBlockCommand.self,
            ]),
            CommandGroup(name: "Bench", subcommands: [BenchCommand.self]),
            CommandGroup(name: "Baseline", subcommands: [BaselineCommand.self]),
        ]
    )
}

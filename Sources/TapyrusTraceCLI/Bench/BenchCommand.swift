import ArgumentParser

/// `tapyrus-trace bench`: the benchmarks.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: ConnectBlock on a deterministic chain, tracing overhead, the capture pipeline.",
        subcommands: [ConnectBlockBenchCommand.self, ChainCommand.self, OverheadBenchCommand.self, CaptureBenchCommand.self]
    )
}

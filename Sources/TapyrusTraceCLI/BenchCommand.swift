import ArgumentParser

/// `tapyrus-trace bench`: the benchmarks.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks of the capture pipeline.",
        subcommands: [CaptureBenchCommand.self]
    )
}

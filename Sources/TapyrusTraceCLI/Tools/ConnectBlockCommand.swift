import ArgumentParser
import TraceHarness
import TraceTools

/// `tapyrus-trace connectblock`: benchmark ConnectBlock between two heights.
struct ConnectBlockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connectblock",
        abstract: "Benchmark ConnectBlock between two heights, e.g. during tapyrusd -reindex.",
        discussion: """
            The seed's connectblock_benchmark.bt. Attach, then start tapyrusd \
            -reindex elsewhere (with --tapyrusd, or by default, every process of \
            the binary is traced, including ones started later, each with a \
            benchmark of its own and its pid on every line). Prints a progress \
            line each second, every block in range that took at least the \
            threshold, and when the end height is connected (or the process \
            exits, or on Ctrl-C) the total time and a histogram of durations in \
            ms. Ends once every process that began the range connected its end \
            height or exited. --store stores one run per process.
            """
    )

    @Argument(help: "The first height benchmarked.")
    var startHeight: Int32

    @Argument(help: "The last height benchmarked; the run ends once it is connected.")
    var endHeight: Int32

    @Argument(help: "Print blocks whose connection took at least this many milliseconds (0: every block).")
    var thresholdMilliseconds: Int64

    @OptionGroup var target: ToolTargetOptions

    @Option(help: ArgumentHelp("Store the run and its blocks in this baselines database (SQLite; made if missing).", valueName: "database"))
    var store: String?

    @Option(help: "With --store: the name of the chain connected, to compare runs of the same chain.")
    var chain: String = "unnamed"

    @Option(help: "With --store: a label for the build (e.g. a branch or commit).")
    var label: String?

    func validate() throws {
        if startHeight < 0 { throw ValidationError("the start height must not be negative") }
        if endHeight < startHeight { throw ValidationError("the end height must not be below the start height") }
        if thresholdMilliseconds < 0 { throw ValidationError("the threshold must not be negative") }
        if store == nil && (label != nil || chain != "unnamed") { throw ValidationError("--chain and --label describe a stored run: give --store too") }
    }

    func run() async throws {
        let database = try store.map(ConnectBlockStore.open)
        let benchmarks = ConnectBlockBenchmarks(startHeight: startHeight, endHeight: endHeight, thresholdMilliseconds: thresholdMilliseconds,
                                                json: target.json, pidColumn: target.tracesEveryProcess)
        let (finished, traced) = try await ToolRunner.run(benchmarks, options: target)
        guard let database, let store else { return }
        // One run per process; a capture in which no process connected a
        // block in range is stored as one failed run.
        let runs = finished.benchmarks.isEmpty ? [finished.benchmark(of: traced.pid ?? 0)] : finished.benchmarks
        for benchmark in runs {
            let saved = try await ConnectBlockStore.save(benchmark, target: traced, into: database, chainName: chain, label: label)
            let process = finished.benchmarks.isEmpty ? "" : "process \(benchmark.pid): "
            Output.note("\(process)stored as run \(saved.run) in \(store)" + (saved.complete ? "" : " (incomplete: not every height was connected)"))
        }
    }
}

import ArgumentParser
import BenchStore
import ConnectBlockBench
import Foundation
import TraceHarness

/// `tapyrus-trace baseline show RUN`: one run and a summary of its blocks.
struct BaselineShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a run: its build, machine, chain, parameters and a summary of its block durations."
    )

    @OptionGroup var database: BaselineDatabaseOptions

    @Argument(help: ArgumentHelp("The run's id (see `baseline list`).", valueName: "run"))
    var run: Int64

    @Flag(help: "Print JSON instead.")
    var json = false

    struct Summary: Codable {
        var count: Int
        var totalMicros: Int64
        var medianMicros: Double?
        var p90Micros: Double?
        var minMicros: Int64?
        var maxMicros: Int64?
        var firstHeight: Int?
        var lastHeight: Int?
    }

    struct ShowJSON: Codable {
        var run: Baseline.RunJSON
        var blockSummary: Summary
        var slowestBlocks: [BlockMeasurement]
    }

    func run() async throws {
        try await Baseline.guarded {
            let store = try database.open(mustExist: true, forReading: true)
            let summary = try await store.run(run)
            let blocks = try await store.blocks(run: run)
            let sorted = blocks.map { Double($0.durationMicros) }.sorted()
            let stats = Summary(
                count: blocks.count, totalMicros: blocks.reduce(0) { $0 + $1.durationMicros },
                medianMicros: sorted.isEmpty ? nil : Descriptive.quantileOfSorted(sorted, 0.5),
                p90Micros: sorted.isEmpty ? nil : Descriptive.quantileOfSorted(sorted, 0.9),
                minMicros: blocks.map(\.durationMicros).min(), maxMicros: blocks.map(\.durationMicros).max(),
                firstHeight: blocks.first?.height, lastHeight: blocks.last?.height)
            let slowest = Array(blocks.sorted { $0.durationMicros > $1.durationMicros }.prefix(5))
            if json {
                Output.line(try Baseline.jsonLine(ShowJSON(run: .init(summary), blockSummary: stats, slowestBlocks: slowest)))
                return
            }
            let s = summary
            var rows: [[String]] = [
                ["run", "\(s.id) (uid \(s.run.uid))"],
                ["status", Baseline.status(s.run) + (s.run.isBaseline ? ", baseline of its chain and machine" : "")],
                ["build", "\(s.build.id): \(s.build.label ?? "(no label)"), \(s.build.version), sha256 \(s.build.sha256)"
                    + (s.build.flags.map { ", \($0)" } ?? "")],
                ["machine", "\(s.machine.host): \(s.machine.cpuModel), \(s.machine.cores) cores, kernel \(s.machine.kernel)"],
                ["chain", "\(s.chain.name) (generator \(s.chain.generatorVersion), \(s.chain.blockCount) blocks)"],
                ["started", Baseline.date(s.run.started)],
                ["wall time", s.run.wallSeconds.map { String(format: "%.2f s", $0) } ?? "-"],
            ]
            for (key, value) in s.run.parameters.sorted(by: { $0.key < $1.key }) { rows.append(["  \(key)", value]) }
            if !s.run.notes.isEmpty { rows.append(["notes", s.run.notes.replacingOccurrences(of: "\n", with: "; ")]) }
            if blocks.isEmpty {
                rows.append(["blocks", "none"])
            } else {
                rows.append(["blocks", "\(stats.count), heights \(stats.firstHeight!) to \(stats.lastHeight!)"])
                rows.append(["total", DurationText.micros(Double(stats.totalMicros))])
                rows.append(["median", DurationText.micros(stats.medianMicros!)])
                rows.append(["p90", DurationText.micros(stats.p90Micros!)])
                rows.append(["min / max", "\(DurationText.micros(Double(stats.minMicros!))) / \(DurationText.micros(Double(stats.maxMicros!)))"])
            }
            for line in Baseline.table(rows) { Output.line(line) }
            if !slowest.isEmpty {
                Output.line("slowest blocks:")
                var table = [["  HEIGHT", "DURATION", "TXS", "INPUTS", "SIGOPS", "HASH"]]
                for block in slowest {
                    table.append(["  \(block.height)", DurationText.micros(Double(block.durationMicros)), "\(block.transactions)",
                                  "\(block.inputs)", "\(block.sigops)", block.hash])
                }
                for line in Baseline.table(table) { Output.line(line) }
            }
        }
    }
}

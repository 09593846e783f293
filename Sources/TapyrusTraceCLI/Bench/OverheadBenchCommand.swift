import ArgumentParser
import ConnectBlockBench
import Foundation
import NodeControl
import TraceHarness

/// `tapyrus-trace bench overhead`: what attaching probes costs ConnectBlock.
struct OverheadBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overhead",
        abstract: "Measure the tracing overhead: connect a benchmark chain with probes attached and without.",
        discussion: """
            Alternates runs without probes and with them (untraced first in odd \
            repetitions, traced first in even ones), each a -reindex of a fresh \
            datadir with -debug=bench, and compares ConnectBlock's own per-block \
            time ("Connect total" in debug.log, measured the same way on both \
            sides) height by height, with the method of `baseline compare`. \
            --probes block attaches validation:block_connected (what `bench \
            connectblock` uses); --probes all attaches every probe of the binary \
            (UTXO cache probes fire once per coin). Errors exit with status 2.
            """
    )

    /// Which probes the traced runs attach.
    enum ProbeSelection: String, ExpressibleByArgument, CaseIterable {
        case block, all
    }

    @Option(help: ArgumentHelp("The tapyrusd measured (default: $TAPYRUSD, else PATH).", valueName: "path"))
    var tapyrusd: String?

    @Option(help: ArgumentHelp("Probes attached in traced runs: block (validation:block_connected) or all.", valueName: "block|all"))
    var probes: ProbeSelection = .block

    @Option(help: ArgumentHelp("Runs of each kind.", valueName: "n"))
    var repetitions: Int = 3

    @Option(help: ArgumentHelp("An overhead smaller than this, in percent, counts as none.", valueName: "pct"))
    var threshold: Double = 2

    @OptionGroup var reindex: ReindexOptions

    func validate() throws {
        if !(1...50).contains(repetitions) { throw ValidationError("--repetitions must be between 1 and 50") }
        if !(threshold >= 0 && threshold < 100) { throw ValidationError("--threshold must be between 0 and 100") }
    }

    func run() async throws {
        Output.ignoreBrokenPipe()
        try await Baseline.guarded {
            let binaries = try BenchBinaries.locateTraceable(tapyrusd, probes: [BlockConnected.tracepoint.probe])
            let chain = try await reindex.loadChain(binaries: binaries)
            var settings = reindex.settings
            settings.benchLog = true
            ReindexOptions.printControlled(settings, chain: chain)
            let attached: [ProbeName] = switch probes {
            case .block: [BlockConnected.tracepoint.probe]
            case .all: try ProbeDiscovery.sites(inBinaryAt: binaries.tapyrusd).reduce(into: [ProbeName]()) { names, site in
                if !names.contains(site.probe) { names.append(site.probe) }
            }
            }
            _ = Output.line("Traced runs attach \(attached.count) probe\(attached.count == 1 ? "" : "s"): \(attached.map(\.description).joined(separator: ", "))")
            Output.flush()

            var untraced = BlockDurations(), traced = BlockDurations()
            var untracedWall: [Double] = [], tracedWall: [Double] = []
            var events = 0, lost: UInt64 = 0
            for repetition in 1...repetitions {
                let order = repetition % 2 == 1 ? [false, true] : [true, false]
                for isTraced in order {
                    let run = ChainReindex(chain: chain, binaries: binaries, settings: settings, probes: isTraced ? attached : [])
                    let outcome = try await run.run()
                    let measured = outcome.benchLogMicroseconds.filter { $0.key >= 1 && $0.value > 0 }
                    guard measured.count >= chain.manifest.blocks / 2 else {
                        throw CommandFailure("debug.log held ConnectBlock timings for \(measured.count) of \(chain.manifest.blocks) blocks; is -debug=bench supported by this tapyrusd?")
                    }
                    if isTraced {
                        traced.add(repetition: measured)
                        tracedWall.append(outcome.wallSeconds)
                    } else {
                        untraced.add(repetition: measured)
                        untracedWall.append(outcome.wallSeconds)
                    }
                    Output.note(String(format: "repetition %d/%d %@: reindex %.2f s, ConnectBlock total %.2f s", repetition, repetitions,
                                       isTraced ? "traced" : "untraced", outcome.wallSeconds, measured.values.reduce(0, +) / 1e6)
                                + (isTraced ? ", \(outcome.nodeEvents) events" : ""))
                    if isTraced {
                        events += outcome.nodeEvents
                        lost += outcome.capture?.probes.reduce(0) { $0 + $1.lost } ?? 0
                    }
                }
            }
            if lost > 0 { Output.note("warning: the capture lost \(lost) events during the traced runs") }
            let comparison = try RegressionComparison(baseline: untraced, candidate: traced,
                                                      options: ComparisonOptions(thresholdPercent: threshold))
            let rows = [
                ["", "untraced", "traced"],
                ["median ConnectBlock per block", DurationText.micros(comparison.baselineMedianMicroseconds),
                 DurationText.micros(comparison.candidateMedianMicroseconds)],
                ["median reindex wall time", String(format: "%.2f s", Descriptive.median(untracedWall)),
                 String(format: "%.2f s", Descriptive.median(tracedWall))],
            ]
            for line in Baseline.table(rows) { _ = Output.line(line) }
            let level = comparison.options.confidenceLevel
            _ = Output.line("Events from the measured node in the traced runs: \(events) (\(events / repetitions) per run), \(lost) lost")
            _ = Output.line("Per-block overhead: \(comparison.effect.formatted(level: level)); total ConnectBlock time: \(comparison.totalTimeRatio.formatted(level: level)); wall time: "
                            + String(format: "%+.1f%%", (Descriptive.median(tracedWall) / Descriptive.median(untracedWall) - 1) * 100))
            _ = Output.line("Verdict: \(comparison.description)")
        }
    }
}

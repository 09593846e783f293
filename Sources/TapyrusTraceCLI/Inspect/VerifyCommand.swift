import ArgumentParser
import Foundation
import TraceHarness

/// `tapyrus-trace verify`: a binary's probes against the catalogue.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a binary's USDT probes against the catalogue of tapyrusd tracepoints.",
        discussion: "Exits 0 when every tracepoint is present with the declared argument sizes and signs at every site, 1 otherwise."
    )

    @Argument(help: "The ELF binary to check (e.g. tapyrusd).")
    var binary: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        Output.ignoreBrokenPipe()
        let sites = try ProbeDiscovery.sites(inBinaryAt: binary)
        let report = TracepointCatalogue.tapyrusd.conformance(of: sites, binary: binary)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            Output.line(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            let declared = TracepointCatalogue.tapyrusd.tracepoints.count
            Output.line("\(binary): \(report.found.count) probes, \(sites.count) sites; catalogue: \(declared) tracepoints")
            if report.conforms {
                Output.line("conforms: every tracepoint present with the declared arguments at every site")
            } else {
                Output.line("\(report.differences.count) differences:")
                for difference in report.differences {
                    Output.line("  \(difference)")
                }
            }
        }
        guard Output.flush() else { return }
        if !report.conforms { throw ExitCode(1) }
    }
}

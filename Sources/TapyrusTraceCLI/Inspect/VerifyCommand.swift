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

    @OptionGroup var options: BinaryOptions

    func run() throws {
        Output.ignoreBrokenPipe()
        let binary = options.binary
        let sites = try options.sites()
        let report = TracepointCatalogue.tapyrusd.conformance(of: sites, binary: binary)
        if options.json {
            try Output.json(report)
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

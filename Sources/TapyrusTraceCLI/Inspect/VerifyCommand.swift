import ArgumentParser
import Foundation
import TraceHarness

/// `tapyrus-trace verify`: a binary's probes against the catalogue, a
/// tracing document and the source, or another build.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a binary's USDT probes against the catalogue, a tracing document and the source, or another build.",
        discussion: """
            verify BINARY checks the probes against the catalogue of tapyrusd tracepoints. \
            With --doc and/or --source it sets side by side what the document says, what the binary's notes say and \
            what the source's macro calls pass (any two of the three; BINARY is then optional). \
            verify NEW --against OLD compares the probes of two builds. \
            Exits 0 when everything agrees, 1 on any difference, 2 on bad input.
            """
    )

    @Argument(help: "The ELF binary to check (e.g. tapyrusd); optional with --doc and --source.")
    var binary: String?

    @Option(name: .customLong("doc"), help: ArgumentHelp("A tracing document in tapyrus-core's format (doc/tracing.md).", valueName: "file"))
    var document: String?

    @Option(help: ArgumentHelp("A folder of C++ sources to scan for the tracing macros (tapyrus-core's src).", valueName: "dir"))
    var source: String?

    @Option(help: ArgumentHelp("Another build of the binary: report how BINARY's probes differ from its.", valueName: "old-binary"))
    var against: String?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        Output.ignoreBrokenPipe()
        let agrees: Bool
        do {
            let mode = try VerifyMode(binary: binary, document: document, source: source, against: against)
            switch mode {
            case .catalogue(let binary): agrees = try verifyCatalogue(binary: binary)
            case .threeWay, .builds: agrees = try mode.run(json: json)
            }
        } catch {
            Output.flush()
            Output.note("Error: \(VerifyMode.message(error))")
            throw ExitCode(2)
        }
        guard Output.flush() else { return }
        if !agrees { throw ExitCode(1) }
    }

    private func verifyCatalogue(binary: String) throws -> Bool {
        let sites = try ProbeDiscovery.sites(inBinaryAt: binary)
        let report = TracepointCatalogue.tapyrusd.conformance(of: sites, binary: binary)
        if json {
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
        return report.conforms
    }
}

import ArgumentParser
import TraceHarness

/// The binary `probes` reads, and whether it prints JSON.
struct BinaryOptions: ParsableArguments {
    @Argument(help: "The ELF binary to read (e.g. tapyrusd).")
    var binary: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    /// The binary's USDT probe sites.
    func sites() throws -> [ProbeSite] {
        try ProbeDiscovery.sites(inBinaryAt: binary)
    }
}

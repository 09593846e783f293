import TraceHarness

/// `probes BINARY --declaration provider:name`: the probe's catalogue
/// declaration, named and typed after its call when `--source` is given.
struct ProbeDeclarationOutput {
    var binary: String
    var probe: String
    var source: String?

    func lines() throws -> [String] {
        guard let name = ProbeName(probe) else {
            throw CommandFailure("'\(probe)' is not a probe name of the form provider:name")
        }
        let sites = try ProbeDiscovery.sites(inBinaryAt: binary).filter { $0.probe == name }
        guard let first = sites.first else {
            throw CommandFailure("\(binary) has no probe \(name); `tapyrus-trace probes \(binary)` lists its probes")
        }
        var call: SourceCallSite?
        if let source {
            let calls = try SourceScanner.callSites(inTreeAt: source).filter { $0.probe == name }
            guard !calls.isEmpty else { throw CommandFailure("\(source): no call of \(name) in its C and C++ files") }
            let lines = try? DebugLineTable.locations(of: [first.address], inBinaryAt: binary)
            let pairing = SiteLocator.pair(sites: sites, calls: calls, lines: lines)
            call = pairing.first?.call.map { calls[$0] } ?? calls.first { $0.arguments.count == first.arguments.count }
        }
        return CatalogueDeclaration(probe: name, sites: sites, call: call).swiftSource.components(separatedBy: "\n")
    }
}

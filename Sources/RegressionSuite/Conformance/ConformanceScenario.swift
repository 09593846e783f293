import NodeControl
import TraceHarness

extension ScenarioCatalog {
    static let conformance: [any Scenario] = [CatalogueConformance()]
}

/// The binary under test has every catalogued tracepoint with the declared
/// argument sizes and signs at every site.
struct CatalogueConformance: Scenario {
    let name = "catalogue-conformance"
    var tracepoints: [ProbeName] { TracepointCatalogue.tapyrusd.tracepoints.map(\.probe) }

    func run(_ context: ScenarioContext, _ check: Check) async throws {
        let sites = try ProbeDiscovery.sites(inBinaryAt: context.binaries.tapyrusd)
        let report = TracepointCatalogue.tapyrusd.conformance(of: sites, binary: context.binaries.tapyrusd)
        check.equal(report.missing, [], "every catalogued tracepoint is in the binary")
        check.equal(report.extra, [], "the binary has no probe the catalogue lacks")
        let changeInfo = ProbeName(provider: "coin_selection", name: "change_info")
        let others = report.mismatches.filter { $0.probe != changeInfo }.map(\.description)
            + report.siteDisagreements.filter { $0.probe != changeInfo }.map(\.description)
        check.equal(others, [], "every other site has the declared argument sizes and signs")
        check.knownIssue("tapyrusd passes change_info's change unsigned at its first site and signed at its second") {
            let changeDifferences = report.mismatches.filter { $0.probe == changeInfo }.map(\.description)
                + report.siteDisagreements.filter { $0.probe == changeInfo }.map(\.description)
            check.equal(changeDifferences, [], "coin_selection:change_info has the declared sizes and signs at both sites")
        }
    }
}

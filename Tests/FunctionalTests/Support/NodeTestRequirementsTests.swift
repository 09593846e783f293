import Foundation
import NodeControl
import Testing

@Suite("Which node tests run: the tapyrusd found, REQUIRE_TAPYRUSD and the skip reasons")
struct NodeTestRequirementsTests {
    @Test("REQUIRE_TAPYRUSD counts only when it is exactly 1")
    func requireVariable() {
        #expect(NodeTestRequirements.isRequired(["REQUIRE_TAPYRUSD": "1"]))
        for value in ["0", "", "yes", "true", " 1"] {
            #expect(!NodeTestRequirements.isRequired(["REQUIRE_TAPYRUSD": value]), "\(value)")
        }
        #expect(!NodeTestRequirements.isRequired([:]))
    }

    @Test("a fresh machine, PATH holding no tapyrusd: the problem is 'no tapyrusd' and names where it looked")
    func noTapyrusdOnPath() throws {
        let empty = try TemporaryFolder("empty-path")
        let lookup = Result { () throws(BinaryLookupError) in try TapyrusBinaries.locate(environment: ["PATH": empty.path]) }
        let problem = try #require(NodeTestRequirements.problem(with: lookup))
        #expect(problem.hasPrefix("no tapyrusd: "), "\(problem)")
        #expect(problem.contains("\(empty.path)/tapyrusd"), "\(problem)")
    }

    @Test("a tapyrusd without USDT probes is a problem for the tracing tests; a binary with probes is none")
    func probelessTapyrusd() throws {
        let plain = try Fixture.programWithoutProbes()
        let withoutProbes = NodeTestRequirements.problem(with: .success(TapyrusBinaries(tapyrusd: plain, tapyrusGenesis: plain)))
        #expect(withoutProbes?.hasPrefix("tapyrusd without probes: ") == true, "\(withoutProbes ?? "nil")")
        #expect(withoutProbes?.contains(plain) == true, "\(withoutProbes ?? "nil")")
        let fixture = try Fixture.built.get()
        #expect(NodeTestRequirements.problem(with: .success(TapyrusBinaries(tapyrusd: fixture, tapyrusGenesis: fixture))) == nil)
    }

    @Test("with REQUIRE_TAPYRUSD=1 a skip points at the failing test; without, it is the problem itself")
    func requiredSkipReason() {
        let problem = "no tapyrusd: tapyrusd not found"
        #expect(NodeTestRequirements.skipReason(for: problem, required: false) == problem)
        let required = NodeTestRequirements.skipReason(for: problem, required: true)
        #expect(required == "REQUIRE_TAPYRUSD=1: no tapyrusd: tapyrusd not found (the failure of “\(RequiredTapyrusdTests.name)” says so)")
    }
}

import Foundation
import NodeControl
import Testing
import TraceHarness

/// What the tests that start tapyrusd need, decided once per test process.
///
/// One place, so that every node test skips for the same printed reason, and
/// so that `REQUIRE_TAPYRUSD=1` (a CI that built tapyrusd) turns a missing or
/// probe-less tapyrusd into a failure instead: the test
/// ``RequiredTapyrusdTests`` fails with one line, and the node tests skip
/// pointing at it. Each reason starts with its cause and a colon
/// (`no tapyrusd: …`), which ci/test.sh's summary line groups by.
enum NodeTestRequirements {
    /// The environment variable that makes a missing tapyrusd a failure.
    static let requireVariable = "REQUIRE_TAPYRUSD"

    /// Whether this run must have a traceable tapyrusd (`REQUIRE_TAPYRUSD=1`).
    static let isTapyrusdRequired = isRequired(ProcessInfo.processInfo.environment)

    /// Whether `environment` asks for a tapyrusd: `REQUIRE_TAPYRUSD=1` exactly.
    static func isRequired(_ environment: [String: String]) -> Bool {
        environment[requireVariable] == "1"
    }

    /// The tapyrusd found through `TAPYRUSD`, else `PATH`, or why there is none.
    static let lookup: Result<TapyrusBinaries, BinaryLookupError> = Result { () throws(BinaryLookupError) in
        try TapyrusBinaries.locate()
    }

    /// What is wrong with the tapyrusd for tests that trace it: none found, or
    /// one without USDT probes; nil when one with probes is found.
    static let tapyrusdProblem: String? = problem(with: lookup)

    /// What is wrong with `lookup`'s result for tests that trace it.
    static func problem(with lookup: Result<TapyrusBinaries, BinaryLookupError>) -> String? {
        switch lookup {
        case .failure(let error):
            return "no tapyrusd: \(error)"
        case .success(let binaries):
            do {
                if try ProbeDiscovery.sites(inBinaryAt: binaries.tapyrusd).isEmpty {
                    return "tapyrusd without probes: \(binaries.tapyrusd) has no USDT probe sites; build it with tracing enabled"
                }
            } catch {
                return "tapyrusd without probes: \(error)"
            }
            return nil
        }
    }

    /// Why tests that start nodes (without tracing them) cannot run here, or nil.
    static let nodeSkipReason: String? = {
        guard case .failure(let error) = lookup else { return nil }
        return skipReason(for: "no tapyrusd: \(error)")
    }()

    /// Why tests that trace nodes cannot run here (eBPF not permitted, no
    /// tapyrusd, one without probes), or nil.
    static let tracingSkipReason: String? = {
        if let missing = Privileges.missingForTracing() { return "eBPF not permitted: \(missing)" }
        return tapyrusdProblem.map { skipReason(for: $0) }
    }()

    /// The skip reason for a tapyrusd `problem`: the problem itself, or, when
    /// a tapyrusd is required, a pointer to the test that fails for it.
    static func skipReason(for problem: String, required: Bool = isTapyrusdRequired) -> String {
        guard required else { return problem }
        return "\(requireVariable)=1: \(problem) (the failure of “\(RequiredTapyrusdTests.name)” says so)"
    }
}

/// The one test that fails when `REQUIRE_TAPYRUSD=1` and no traceable
/// tapyrusd is found; every node test is skipped then, pointing here.
@Suite("A tapyrusd is required")
struct RequiredTapyrusdTests {
    static let name = "REQUIRE_TAPYRUSD=1: a tapyrusd with USDT probes is found"

    @Test("REQUIRE_TAPYRUSD=1: a tapyrusd with USDT probes is found",
          .enabled(if: NodeTestRequirements.isTapyrusdRequired,
                   "REQUIRE_TAPYRUSD unset: node tests skip where no tapyrusd is found"))
    func requiredTapyrusdIsTraceable() {
        if let problem = NodeTestRequirements.tapyrusdProblem {
            Issue.record("REQUIRE_TAPYRUSD=1 but \(problem)")
        }
    }
}

extension Trait where Self == ConditionTrait {
    /// Skips a test or suite, with `reason` printed, unless `reason` is nil.
    static func skipped(because reason: String?) -> Self {
        .enabled(if: reason == nil, Comment(rawValue: reason ?? ""))
    }

    /// Skips, with the reason printed, when no tapyrusd is found.
    static var requiresTapyrusd: Self { .skipped(because: NodeTestRequirements.nodeSkipReason) }

    /// Skips, with the reason printed, unless eBPF is permitted and a tapyrusd with probes is found.
    static var requiresTraceableTapyrusd: Self { .skipped(because: NodeTestRequirements.tracingSkipReason) }
}

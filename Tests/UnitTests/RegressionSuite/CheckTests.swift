import Testing
@testable import RegressionSuite

/// The known-issue mechanism: a record pins today's exact wrong value, so a
/// fix upstream fails the scenario until the record is removed, and a wrong
/// value other than today's is a failure, never absorbed by the record.
@Suite("Check: comparisons and known upstream issues pinned to today's wrong value")
struct CheckTests {
    @Test("a known issue that reproduces exactly is recorded and fails nothing")
    func knownIssueReproduces() {
        let check = Check()
        check.knownIssue("the colour is read after a move", "colour id", arrived: "TPC", documented: "c1ab", today: "TPC")
        #expect(check.failures.isEmpty)
        #expect(check.knownIssues.count == 1)
        #expect(check.knownIssues.first?.contains("documented c1ab, today TPC, arrived TPC") == true)
    }

    @Test("a known issue whose value is now the documented one fails: the record must be removed")
    func knownIssueNoLongerReproduces() {
        let check = Check()
        check.knownIssue("the colour is read after a move", "colour id", arrived: "c1ab", documented: "c1ab", today: "TPC")
        #expect(check.knownIssues.isEmpty)
        #expect(check.failures.count == 1)
        #expect(check.failures.first?.hasPrefix("known issue no longer reproduces (remove its record)") == true)
    }

    @Test("a value neither documented nor today's wrong one fails, naming both")
    func knownIssueChangedWrongly() {
        let check = Check()
        check.knownIssue("two events per uncached coin", "rejected events", arrived: 3, documented: 1, today: 2)
        #expect(check.knownIssues.isEmpty)
        #expect(check.failures == ["rejected events: expected 1 (documented) or 2 (the known upstream bug: two events per uncached coin), arrived 3"])
    }

    @Test("a failure next to a known issue is not absorbed by it")
    func otherFailuresStay() {
        let check = Check()
        check.knownIssue("swapped fees", "fees", arrived: [7, 3], documented: [3, 7], today: [7, 3])
        check.equal(225, 226, "size")
        #expect(check.knownIssues.count == 1)
        #expect(check.failures == ["size: expected 226, arrived 225"])
    }

    @Test("property-based known issues: documented, today's and neither")
    func propertyForms() {
        let reproduced = Check()
        reproduced.knownIssue("&nChange", "change", isDocumented: false, isToday: true, documented: "5", today: "an address", arrived: "0x7f…")
        #expect(reproduced.failures.isEmpty && reproduced.knownIssues.count == 1)
        let fixed = Check()
        fixed.knownIssue("&nChange", "change", isDocumented: true, isToday: false, documented: "5", today: "an address", arrived: "5")
        #expect(fixed.failures.count == 1 && fixed.knownIssues.isEmpty)
        let other = Check()
        other.knownIssue("&nChange", "change", isDocumented: false, isToday: false, documented: "5", today: "an address", arrived: "6")
        #expect(other.failures == ["change: expected 5 (documented) or an address (the known upstream bug: &nChange), arrived 6"])
    }

    @Test("two-sided bounds record the value and the range on failure")
    func within() {
        let check = Check()
        #expect(check.within(150, 100...200, "in range"))
        #expect(!check.within(201, 100...200, "duration"))
        #expect(check.failures == ["duration: 201 not in 100...200"])
        #expect(check.evidence == ["in range"])
    }
}

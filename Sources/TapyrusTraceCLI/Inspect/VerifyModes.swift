import Foundation
import TraceHarness
import TraceTools

/// What `verify` was asked to compare, checked before any work.
enum VerifyMode {
    /// A binary against the catalogue (no other option).
    case catalogue(binary: String)
    /// A document, a binary and a source tree, any of them (alone, a document
    /// or a tree is checked for itself: untyped arguments, calls that disagree).
    case threeWay(binary: String?, document: String?, source: String?)
    /// Two builds of a binary.
    case builds(new: String, old: String)

    init(binary: String?, document: String?, source: String?, against: String?) throws {
        if let against {
            guard document == nil, source == nil else {
                throw CommandFailure("--against compares two binaries; use --doc and --source without it")
            }
            guard let binary else { throw CommandFailure("--against needs the new binary first: verify NEW --against OLD") }
            self = .builds(new: binary, old: against)
            return
        }
        if document == nil, source == nil {
            guard let binary else { throw CommandFailure("give a binary to verify, or --doc and --source to compare") }
            self = .catalogue(binary: binary)
            return
        }
        self = .threeWay(binary: binary, document: document, source: source)
    }

    /// Runs the comparison and prints it; true when everything agrees.
    func run(json: Bool) throws -> Bool {
        switch self {
        case .catalogue:
            preconditionFailure("the catalogue check is VerifyCommand's own")
        case .threeWay(let binary, let documentPath, let sourcePath):
            let document = try documentPath.map { path throws(ConformanceInputError) in try TracingDocument(contentsOf: path) }
            let sites = try binary.map { path throws(ProbeDiscoveryError) in try ProbeDiscovery.sites(inBinaryAt: path) }
            var calls: [SourceCallSite]?
            if let sourcePath {
                let found = try SourceScanner.callSites(inTreeAt: sourcePath)
                guard !found.isEmpty else {
                    throw CommandFailure("\(sourcePath): no call of a tracing macro (TRACE…, TRACEPOINT, DTRACE_PROBE…) in its C and C++ files; is it the source folder?")
                }
                calls = found
            }
            let lines = binary.map { path in
                Result { () throws(DebugInfoError) in try DebugLineTable.locations(of: sites?.map(\.address) ?? [], inBinaryAt: path) }
            }
            let audit = ConformanceAudit(
                document: document,
                binary: binary.map { ($0, sites ?? []) },
                lines: lines,
                source: sourcePath.map { ($0, calls ?? []) })
            if json {
                try Output.json(audit)
            } else {
                ConformanceAuditText(audit: audit, document: document).lines().forEach { Output.line($0) }
            }
            return audit.conforms
        case .builds(let new, let old):
            let newSites = try ProbeDiscovery.sites(inBinaryAt: new)
            let oldSites = try ProbeDiscovery.sites(inBinaryAt: old)
            let diff = ProbeDiff(
                old: (old, oldSites), new: (new, newSites),
                oldLines: try? DebugLineTable.locations(of: oldSites.map(\.address), inBinaryAt: old),
                newLines: try? DebugLineTable.locations(of: newSites.map(\.address), inBinaryAt: new))
            if json {
                try Output.json(diff)
            } else {
                let probes = { (sites: [ProbeSite]) in Set(sites.map(\.probe)).count }
                Output.line("\(new) against \(old): \(probes(newSites)) probes, \(newSites.count) sites (was \(probes(oldSites)) probes, \(oldSites.count) sites)")
                for change in diff.changes { Output.line("  \(change)") }
                Output.line(diff.isEmpty
                    ? "no difference: the same probes, arguments, sites and semaphores"
                    : "\(diff.changes.count) \(diff.changes.count == 1 ? "difference" : "differences"); "
                        + "\(diff.unchanged.count) \(diff.unchanged.count == 1 ? "probe" : "probes") unchanged")
            }
            return diff.isEmpty
        }
    }

    /// One line for an error.
    static func message(_ error: any Error) -> String {
        switch error {
        case let error as CustomStringConvertible: error.description
        default: String(describing: error)
        }
    }
}

/// The three-way report as text: per tracepoint its sites and calls, its
/// arguments side by side, and its disagreements.
struct ConformanceAuditText {
    var audit: ConformanceAudit
    var document: TracingDocument?

    func lines() -> [String] {
        var lines: [String] = []
        var inputs: [String] = []
        if let path = audit.inputs.document { inputs.append("document \(path): \(document?.tracepoints.count ?? 0) tracepoints") }
        if let path = audit.inputs.binary {
            let sites = audit.tracepoints.reduce(0) { $0 + $1.sites.count }
            inputs.append("binary \(path): \(audit.tracepoints.filter { !$0.sites.isEmpty }.count) probes, \(sites) sites")
        }
        if let path = audit.inputs.source {
            let calls = audit.tracepoints.reduce(0) { $0 + $1.calls.count }
            inputs.append("source \(path): \(calls) calls of \(audit.tracepoints.filter { !$0.calls.isEmpty }.count) probes")
        }
        lines.append(inputs.joined(separator: "; "))
        if audit.inputs.binary != nil {
            if let problem = audit.inputs.lineTableProblem {
                lines.append("sites have no source lines (\(problem))" + (audit.inputs.source != nil ? "; they are paired with calls by argument sizes and order" : ""))
            } else {
                lines.append("site lines from the binary's line table")
            }
        }
        for tracepoint in audit.tracepoints {
            lines.append("")
            lines += self.lines(for: tracepoint)
        }
        lines.append("")
        let disagreeing = audit.tracepoints.filter { !$0.disagreements.isEmpty }.count
        lines.append(audit.conforms
            ? "\(audit.tracepoints.count) tracepoints: everything agrees"
            : "\(audit.tracepoints.count) tracepoints: \(audit.disagreements.count) \(audit.disagreements.count == 1 ? "disagreement" : "disagreements") in \(disagreeing) of them")
        return lines
    }

    private func lines(for tracepoint: ConformanceAudit.TracepointReport) -> [String] {
        var lines: [String] = []
        let count = tracepoint.disagreements.count
        lines.append("\(tracepoint.probe)" + (count == 0 ? ": agrees" : ": \(count) \(count == 1 ? "disagreement" : "disagreements")"))
        var header: [[String]] = []
        if let documentation = tracepoint.documentation {
            let count = documentation.arguments.count
            header.append(["  document", "line \(documentation.line)", "\(count) \(count == 1 ? "argument" : "arguments")"])
        }
        for (index, site) in tracepoint.sites.enumerated() {
            header.append(["  site \(index + 1)", "0x\(String(site.address, radix: 16))", site.location?.description ?? "-",
                           site.arguments.joined(separator: " ") + (site.semaphore != 0 ? "  semaphore 0x\(String(site.semaphore, radix: 16))" : "")])
        }
        for (index, call) in tracepoint.calls.enumerated() {
            header.append(["  call \(index + 1)", call.location.description, call.macro])
        }
        lines += Baseline.table(header)
        guard !tracepoint.arguments.isEmpty else { return lines + disagreementLines(tracepoint) }
        var rows: [[String]] = [["  arg", "document", "notes", "calls"]]
        for row in tracepoint.arguments {
            let documented = row.documented.map { number in
                "#\(number) " + ScreenText.fit(row.documentedName ?? "", 36).trimmingCharacters(in: .whitespaces)
                    + (row.documentedType.map { ": " + ScreenText.fit($0, 28).trimmingCharacters(in: .whitespaces) } ?? ": (no type)")
            } ?? "-"
            let notes = row.layouts.map { $0?.description ?? "-" }.joined(separator: " ")
            let expressions = row.expressions.map { $0?.expression ?? "-" }
            let calls = Set(expressions).count <= 1 ? (expressions.first ?? "") : expressions.enumerated().map { "\($0 + 1): \($1)" }.joined(separator: " | ")
            rows.append(["  " + (row.position.map { "arg\($0)" } ?? "-"), documented, notes, ScreenText.fit(calls, 72).trimmingCharacters(in: .whitespaces)])
        }
        return lines + Baseline.table(rows) + disagreementLines(tracepoint)
    }

    private func disagreementLines(_ tracepoint: ConformanceAudit.TracepointReport) -> [String] {
        tracepoint.disagreements.map { "  ✗ \($0.kind.rawValue): \($0.message)" }
    }
}

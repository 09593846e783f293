import Foundation
import TraceHarness

/// One path through the code that fires a tracepoint, or one value an
/// enum-like argument of it can take, and whether the suite drives tapyrusd
/// into it.
///
/// A scenario declares, in ``Scenario/coverage``, the paths it exercises
/// (`reachable` true) and, where it is the natural home for them, the paths
/// of its tracepoints that a dev-mode node cannot be driven into
/// (`reachable` false, with the `reason`). `check --json` prints each
/// scenario's list with its verdict; docs/suite.md ("Behaviour coverage")
/// shows the same data as a table per tracepoint.
public struct PathCoverage: Sendable, Codable, Equatable {
    /// The tracepoint, `provider:name` (`mempool:removed`).
    public var tracepoint: String
    /// The path or value (`reason "expiry"`, `algorithm "bnb"`, `fee_info at wallet.cpp:2980`).
    public var path: String
    /// Whether the scenario drives the node into it.
    public var reachable: Bool
    /// Why a path cannot be reached in dev mode; nil for a reached one.
    public var reason: String?

    public init(tracepoint: String, path: String, reachable: Bool, reason: String?) {
        (self.tracepoint, self.path, self.reachable, self.reason) = (tracepoint, path, reachable, reason)
    }

    /// A path the scenario drives `probe` into.
    public static func exercised(_ probe: ProbeName, _ path: String) -> PathCoverage {
        PathCoverage(tracepoint: probe.description, path: path, reachable: true, reason: nil)
    }

    /// A path of `probe` no dev-mode node can be driven into, with why.
    public static func unreachable(_ probe: ProbeName, _ path: String, reason: String) -> PathCoverage {
        PathCoverage(tracepoint: probe.description, path: path, reachable: false, reason: reason)
    }
}

extension Scenario {
    /// By default a scenario declares no paths.
    public var coverage: [PathCoverage] { [] }
}

/// The paths the given scenarios declare, merged per tracepoint and path:
/// the table docs/suite.md shows.
public struct BehaviourCoverage: Sendable, Codable, Equatable {
    /// One path of one tracepoint, with the scenarios that exercise it.
    public struct Row: Sendable, Codable, Equatable {
        public var tracepoint: String
        public var path: String
        /// The scenarios that drive the node into it; empty for an unreachable path.
        public var scenarios: [String]
        /// Why it cannot be reached; nil once a scenario reaches it.
        public var reason: String?
    }

    /// Rows by tracepoint, then in the order the scenarios declare them.
    public var rows: [Row]

    /// Merges the declarations of `scenarios`.
    public init(_ scenarios: [any Scenario]) {
        var rows: [Row] = []
        for scenario in scenarios {
            for path in scenario.coverage {
                if let index = rows.firstIndex(where: { $0.tracepoint == path.tracepoint && $0.path == path.path }) {
                    guard path.reachable else { continue }
                    rows[index].scenarios.append(scenario.name)
                    rows[index].reason = nil
                } else {
                    rows.append(Row(tracepoint: path.tracepoint, path: path.path,
                                    scenarios: path.reachable ? [scenario.name] : [], reason: path.reason))
                }
            }
        }
        self.rows = rows.enumerated().sorted { lhs, rhs in
            (lhs.element.tracepoint, lhs.offset) < (rhs.element.tracepoint, rhs.offset)
        }.map(\.element)
    }

    /// The rows of the tracepoints for which `include` holds, as the lines
    /// of docs/suite.md's Markdown table: tracepoint, path, and the
    /// scenarios that exercise it or why none can.
    public func markdownRows(where include: (String) -> Bool = { _ in true }) -> [String] {
        rows.filter { include($0.tracepoint) }.map { row in
            let by = row.scenarios.isEmpty ? "unreachable: \(row.reason ?? "")" : row.scenarios.map { "`\($0)`" }.joined(separator: ", ")
            return "| `\(row.tracepoint)` | \(row.path) | \(by) |"
        }
    }
}

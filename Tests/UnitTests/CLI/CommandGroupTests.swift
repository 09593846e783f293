import ArgumentParser
@testable import TapyrusTraceCLI
import Testing

@Suite("The command line's help groups the commands")
struct CommandGroupTests {
    /// Each group's heading in `--help` and the commands listed under it, in order.
    static let groups: [(heading: String, commands: [String])] = [
        ("INSPECT SUBCOMMANDS:", ["probes", "verify", "log"]),
        ("TEST SUBCOMMANDS:", ["check"]),
        ("TOOLS SUBCOMMANDS:", ["p2p-log", "p2p-monitor", "raw-p2p", "flush-log", "utxo-log", "coin-selection-log",
                                "mempool-monitor", "connectblock"]),
        ("BENCH SUBCOMMANDS:", ["bench"]),
        ("BASELINE SUBCOMMANDS:", ["baseline"]),
    ]

    @Test("--help lists inspect, test, tools, bench and baseline, each with its commands and no other")
    func helpGroups() throws {
        let lines = TapyrusTrace.helpMessage(columns: 200).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var listed: [String: [String]] = [:]
        var heading: String?
        for line in lines {
            if line.hasSuffix("SUBCOMMANDS:") {
                heading = line
            } else if let current = heading, line.hasPrefix("  "), let name = line.split(separator: " ").first {
                listed[current, default: []].append(String(name))
            } else if line.isEmpty || !line.hasPrefix(" ") {
                heading = nil
            }
        }
        #expect(lines.filter { $0.hasSuffix("SUBCOMMANDS:") } == Self.groups.map(\.heading), "the groups, in order")
        for group in Self.groups {
            #expect(listed[group.heading] == group.commands, "\(group.heading)")
        }
        // Every subcommand is in exactly one group.
        let all = TapyrusTrace.configuration.subcommands.map { $0._commandName }
        #expect(all.sorted() == Self.groups.flatMap(\.commands).sorted())
    }
}

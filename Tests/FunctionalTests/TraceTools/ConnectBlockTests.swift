import BenchStore
import Foundation
import NodeControl
import Testing
import TraceHarness

@Suite("connectblock against a real tapyrusd reindexing", .serialized, .enabled(if: toolTestsUnavailableReason == nil, "\(toolTestsUnavailableReason ?? "")"))
struct ConnectBlockTests {
    @Test("attached by binary path before tapyrusd -reindex, it reports every height from 1 to 30 with its hash, then the total and a histogram")
    func reindex() async throws {
        // A private copy of tapyrusd, so that only this test's node runs the
        // binary traced (uprobes follow the file, not the path).
        let tapyrusd = try PrivateTapyrusd("connectblock")
        let copy = tapyrusd.path, binaries = tapyrusd.binaries
        let directory = URL(fileURLWithPath: tapyrusd.folder.path)

        try await withToolNode("connectblock", binaries: binaries) { node in
            let address = try await node.rpc.getNewAddress()
            _ = try await node.rpc.generateToAddress(30, address: address)
            var hashes: [Int: String] = [:]
            for height in 1...30 { hashes[height] = try await node.rpc.getBlockHash(height: height) }

            let database = directory.appendingPathComponent("baselines.sqlite").path
            let tool = try await ToolProcess(["connectblock", "1", "30", "0", "--tapyrusd", copy,
                                              "--store", database, "--chain", "reindex-30", "--label", "test build"])
            try await node.restart(arguments: ["-reindex"])
            let result = try await tool.finish(timeout: .seconds(120))
            expectCleanSummary(result, reason: "height 30 connected")

            // By binary path every line after the header starts with the pid
            // of the process that connected the blocks: the restarted node.
            let pid = try #require(await node.pid)
            #expect(result.lines.first == "ConnectBlock benchmark between height 1 and 30 inclusive, one per process")
            #expect(result.lines.dropFirst().filter { !$0.isEmpty }.allSatisfy { pidColumn(of: $0) == pid }, "\(result.lines)")
            let lines = result.lines.map { pidColumn(of: $0) == pid ? withoutPIDColumn($0) : $0 }
            #expect(lines.contains("Starting Connect Block Benchmark between height 1 and 30."))
            for height in 1...30 {
                let hash = try #require(hashes[height])
                let line = lines.first { $0.hasPrefix("Block \(height) (") }
                #expect(line?.hasPrefix("Block \(height) (\(hash))    1 tx     1 ins ") == true, "height \(height): \(line ?? "missing")")
                #expect(line?.hasSuffix(" ms") == true)
            }
            #expect(lines.filter { $0.hasPrefix("Block ") }.count == 30)
            #expect(lines.contains { $0.range(of: #"^Took \d+ ms to connect the blocks between height 1 and 30\.$"#, options: .regularExpression) != nil })
            #expect(lines.contains("30 blocks, 30 transactions, 30 inputs, 30 sigops; no height missing") || lines.contains { $0.hasPrefix("30 blocks, 30 transactions, 30 inputs, ") && $0.hasSuffix("; no height missing") })
            let histogram = lines.drop { $0 != "@durations: " }.dropFirst().filter { $0.hasPrefix("[") }
            let counted = histogram.compactMap { Int($0.dropFirst(16).prefix(8).trimmingCharacters(in: .whitespaces)) }.reduce(0, +)
            #expect(counted == 30, "\(histogram)")
            // BENCH lines, if the reindex took long enough to print any, count blocks in range only.
            let benched = lines.filter { $0.hasPrefix("BENCH ") }.compactMap { $0.split(separator: " ").dropFirst().first.flatMap { Int($0) } }.reduce(0, +)
            #expect(benched == 30, "\(lines.filter { $0.hasPrefix("BENCH ") })")

            // --store: the run, its 30 blocks and the build are in the database.
            #expect(result.standardError.contains("process \(pid): stored as run 1 in \(database)"))
            let store = try BaselineStore(path: database)
            let runs = try await store.runs()
            try #require(runs.count == 1)
            #expect(runs[0].run.status == .complete)
            #expect(runs[0].chain.name == "reindex-30")
            #expect(runs[0].build.label == "test build")
            let stored = try await store.blocks(run: runs[0].run.id)
            #expect(stored.map(\.height) == Array(1...30))
            #expect(stored.map(\.hash) == (1...30).map { hashes[$0] ?? "" })
            #expect(stored.allSatisfy { $0.transactions == 1 && $0.inputs == 1 && $0.durationMicros >= 0 })
            let digest = try Fixture.run("/usr/bin/sha256sum", [copy]).standardOutput.prefix(64)
            #expect(runs[0].build.sha256 == String(digest))
        }
    }

    @Test("--store with a file that is not a database fails at once and leaves the file as it was")
    func storeIntoBadDatabase() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-database-\(getpid()).sqlite").path
        let contents = Data(repeating: 0x41, count: 4096)
        try contents.write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try Fixture.run(try #require(CLI.path), ["connectblock", "1", "2", "0", "--store", file])
        #expect(result.status != 0)
        #expect(result.standardError.contains("is not a tapyrus-trace database"), "\(result.standardError)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == contents)
        let orphan = try Fixture.run(try #require(CLI.path), ["connectblock", "1", "2", "0", "--label", "x"])
        #expect(orphan.status != 0)
        #expect(orphan.standardError.contains("give --store too"))
    }
}

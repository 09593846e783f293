@testable import BenchStore
import ConnectBlockBench
import Foundation
import Testing
import TraceHarness

/// A temporary baselines database filled with synthetic runs through BenchStore.
final class SyntheticDatabase {
    let directory: String
    let path: String
    let store: BaselineStore
    private var builds: [String: Int64] = [:]
    private var machines: [String: Int64] = [:]
    private var chains: [String: Int64] = [:]
    private var runCount = 0

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("baseline-cli-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/baselines.sqlite"
        store = try BaselineStore(path: path)
    }

    deinit {
        try? store.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A block's cost: spread over more than an order of magnitude along the chain.
    static func cost(_ height: Int) -> Double {
        800 * exp(1.5 * sin(Double(height) * 0.7) + Double(height % 7) * 0.2)
    }

    /// Stores a run of `build` whose blocks take `factor` times the chain's
    /// costs, with 5% multiplicative noise drawn from `seed`.
    @discardableResult
    func addRun(build label: String, chain: String = "synthetic", host: String = "bench-1", seed: UInt64,
                factor: Double = 1, heights: ClosedRange<Int> = 1...60, complete: Bool = true, withBlocks: Bool = true) async throws -> Int64 {
        let build = try await buildId(label)
        let machine = try await machineId(host)
        let chainId = try await chainId(chain, blocks: heights.count)
        runCount += 1
        let run = try await store.beginRun(build: build, machine: machine, chain: chainId, parameters: ["seed": "\(seed)"],
                                           started: Date(timeIntervalSince1970: 1_700_000_000 + Double(runCount) * 3600))
        if withBlocks {
            var random = Xoshiro256StarStar(seed: seed)
            let blocks = heights.map { height in
                BlockMeasurement(height: height, hash: String(format: "%064x", height), transactions: height % 50 + 1,
                                 inputs: height % 200, sigops: height % 400,
                                 durationMicros: Int64((Self.cost(height) * factor * exp(0.05 * random.normal())).rounded()))
            }
            try await store.appendBlocks(run: run, blocks)
            if complete { try await store.completeRun(run, wallSeconds: 12.5) }
        }
        return run
    }

    private func buildId(_ label: String) async throws -> Int64 {
        if let id = builds[label] { return id }
        let sha = String(repeating: String(format: "%02x", builds.count + 0xa0), count: 32)
        let id = try await store.recordBuild(Build.Draft(sha256: sha, version: "v0.6.\(builds.count)", label: label)).id
        builds[label] = id
        return id
    }

    private func machineId(_ host: String) async throws -> Int64 {
        if let id = machines[host] { return id }
        let id = try await store.recordMachine(Machine.Draft(host: host, cpuModel: "Synthetic CPU", cores: 2, kernel: "6.8.0")).id
        machines[host] = id
        return id
    }

    private func chainId(_ name: String, blocks: Int) async throws -> Int64 {
        if let id = chains[name] { return id }
        let id = try await store.recordChain(Chain.Draft(name: name, generatorVersion: "1", blockCount: blocks)).id
        chains[name] = id
        return id
    }

    /// What the database holds (every build, machine, chain, run and block).
    func snapshot() async throws -> Data {
        try await Self.snapshot(of: path)
    }

    /// What the database at `path` holds (every build, machine, chain, run
    /// and block); the file's bytes when it cannot be opened (corrupt, newer).
    /// SQLite may move pages on open, so an openable file is compared by content.
    static func snapshot(of path: String) async throws -> Data {
        guard let reader = try? BaselineStore(path: path, forReading: true) else { return try Data(contentsOf: URL(fileURLWithPath: path)) }
        defer { try? reader.close() }
        var document = try await reader.export()
        document.exported = Date(timeIntervalSince1970: 0)
        return try document.jsonData()
    }

    /// Copies the database file, with its write-ahead log if it has one, to a
    /// new name in the same directory and returns the copy's path: the
    /// database as it was, to compare with after a command.
    func copy() throws -> String {
        let copy = "\(directory)/before-\(UUID().uuidString.prefix(8)).sqlite"
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        if FileManager.default.fileExists(atPath: path + "-wal") {
            try FileManager.default.copyItem(atPath: path + "-wal", toPath: copy + "-wal")
        }
        return copy
    }

    /// Runs `tapyrus-trace baseline arguments… --db PATH` to its end.
    func baseline(_ arguments: [String], environment: [String: String] = [:]) async throws -> Fixture.Output {
        try await CLI.runAsync(["baseline"] + arguments + ["--db", path], environment: environment)
    }
}

@Suite("tapyrus-trace baseline", .serialized, .enabled(if: CLI.path != nil, "tapyrus-trace executable not built"))
struct BaselineCommandTests {
    @Test("an A/A pair (same build, different seeds) says no change and exits 0")
    func aaNoChange() async throws {
        let db = try SyntheticDatabase()
        let first = try await db.addRun(build: "release", seed: 1)
        let second = try await db.addRun(build: "release", seed: 2)
        let result = try await db.baseline(["compare", "--baseline", "\(first)", "--candidate", "\(second)"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("no change: the typical block changed by"))
        #expect(result.standardOutput.contains("paired heights"))
        #expect(result.standardOutput.contains("p (Wilcoxon"))
        #expect(result.standardOutput.contains("verdict"))
        #expect(!result.standardOutput.contains("regression"))
        #expect(result.standardError.isEmpty)
    }

    @Test("a candidate 20% slower on every block is a regression and exits 1")
    func slowerIsRegression() async throws {
        let db = try SyntheticDatabase()
        let base = try await db.addRun(build: "release", seed: 1)
        let slow = try await db.addRun(build: "debug", seed: 3, factor: 1.2)
        let result = try await db.baseline(["compare", "--baseline", "\(base)", "--candidate", "\(slow)"])
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("regression: the typical block changed by +"))
        #expect(result.standardError.isEmpty)

        let json = try await db.baseline(["compare", "--baseline", "\(base)", "--candidate", "\(slow)", "--json"])
        #expect(json.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        #expect(object["verdict"] as? String == "regression")
        let comparison = try #require(object["comparison"] as? [String: Any])
        #expect(comparison["paired_heights"] as? Int == 60)

        // A threshold above the slowdown does not flag it.
        let lenient = try await db.baseline(["compare", "--baseline", "\(base)", "--candidate", "\(slow)", "--threshold", "30"])
        #expect(lenient.status == 0)
        #expect(lenient.standardOutput.contains("no change"))
        // Swapped, it is an improvement, exit 0.
        let swapped = try await db.baseline(["compare", "--baseline", "\(slow)", "--candidate", "\(base)"])
        #expect(swapped.status == 0)
        #expect(swapped.standardOutput.contains("improvement:"))
    }

    @Test("report writes one self-contained HTML page with every build, both runs' heights and the verdict")
    func report() async throws {
        let db = try SyntheticDatabase()
        let base = try await db.addRun(build: "release", seed: 1)
        try await db.addRun(build: "release", seed: 2)
        let slow = try await db.addRun(build: "debug", seed: 3, factor: 1.2)
        let file = db.directory + "/report.html"
        let result = try await db.baseline(["report", "--baseline", "\(base)", "--candidate", "\(slow)", "--html", file])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("wrote \(file): 2 builds"))
        #expect(result.standardOutput.contains("regression"))
        let page = try String(contentsOfFile: file, encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>") || page.hasPrefix("<!doctype html>"))
        #expect(!page.contains("<script") && !page.contains("http://") && !page.contains("https://"))
        #expect(page.contains("release") && page.contains("debug") && page.contains("regression"))
        // 60 heights on each side: one polyline of 60 points per run.
        let polylines = page.components(separatedBy: "<polyline").dropFirst().map { $0.prefix { $0 != ">" } }
        let pointCounts = polylines.compactMap { attributes -> Int? in
            guard let range = attributes.range(of: "points=\"") else { return nil }
            return attributes[range.upperBound...].prefix { $0 != "\"" }.split(separator: " ").count
        }
        #expect(pointCounts.filter { $0 == 60 }.count == 2, "\(pointCounts)")

        let missing = try await db.baseline(["report", "--candidate", "\(slow)", "--baseline", "999", "--html", file + ".2"])
        #expect(missing.status == 2)
        #expect(!FileManager.default.fileExists(atPath: file + ".2"))
    }

    @Test("by default the candidate is the latest complete run and the baseline the stored one; builds are repetitions")
    func defaultsAndBuilds() async throws {
        let db = try SyntheticDatabase()
        try await db.addRun(build: "release", seed: 1)
        let latestRelease = try await db.addRun(build: "release", seed: 2)
        try await db.addRun(build: "debug", seed: 3, factor: 1.2)
        let latestDebug = try await db.addRun(build: "debug", seed: 4, factor: 1.2)
        try await db.addRun(build: "debug", seed: 5, factor: 1.2, complete: false)  // crashed: never a candidate

        let none = try await db.baseline(["compare"])
        #expect(none.status == 2)
        #expect(none.standardError.contains("no baseline is set for chain synthetic on bench-1"))

        let set = try await db.baseline(["set-baseline", "release"])
        #expect(set.status == 0, "\(set.standardError)")
        #expect(set.standardOutput.contains("run \(latestRelease) (build release"))

        let result = try await db.baseline(["compare"])
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("baseline:  run \(latestRelease) (build release"))
        #expect(result.standardOutput.contains("candidate: run \(latestDebug) (build debug"))
        #expect(result.standardOutput.contains("regression:"))

        let builds = try await db.baseline(["compare", "--baseline", "release", "--candidate", "debug"])
        #expect(builds.status == 1)
        #expect(builds.standardOutput.contains("baseline:  runs 1, 2 (build release"))
        #expect(builds.standardOutput.contains("candidate: runs 3, 4 (build debug"))
        #expect(builds.standardOutput.contains("120 baseline and 120 candidate durations"))

        let aa = try await db.baseline(["compare", "--baseline", "run:1", "--candidate", "run:2"])
        #expect(aa.status == 0)
        #expect(aa.standardOutput.contains("no change"))
    }

    @Test("list shows every run with its build, host, chain, blocks, status and the baseline marker")
    func list() async throws {
        let db = try SyntheticDatabase()
        let first = try await db.addRun(build: "release", seed: 1)
        try await db.addRun(build: "debug", seed: 2, complete: false)
        try await db.store.setBaseline(run: first)
        let result = try await db.baseline(["list"])
        #expect(result.status == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        try #require(lines.count == 3)
        #expect(lines[0].hasPrefix("ID  BUILD"))
        #expect(lines[1].hasPrefix("1   release  v0.6.0   bench-1  synthetic  2023-11-14T"))
        #expect(lines[1].hasSuffix("60      complete    *"))
        #expect(lines[2].contains("debug"))
        #expect(lines[2].hasSuffix("60      incomplete"))

        let json = try await db.baseline(["list", "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [[String: Any]])
        #expect(rows.count == 2)
        #expect(rows[0]["baseline"] as? Bool == true)
        #expect(rows[1]["status"] as? String == "incomplete")
        #expect((rows[1]["build"] as? [String: Any])?["label"] as? String == "debug")
    }

    @Test("show gives a run's details and its blocks' count, total, median and p90")
    func show() async throws {
        let db = try SyntheticDatabase()
        let run = try await db.addRun(build: "release", seed: 1)
        let result = try await db.baseline(["show", "\(run)"])
        #expect(result.status == 0, "\(result.standardError)")
        for expected in ["build", "release, v0.6.0, sha256 a0a0", "machine    bench-1: Synthetic CPU, 2 cores", "chain      synthetic",
                         "blocks     60, heights 1 to 60", "total", "median", "p90", "slowest blocks:"] {
            #expect(result.standardOutput.contains(expected), "\(expected)")
        }
        let json = try await db.baseline(["show", "\(run)", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        let summary = try #require(object["block_summary"] as? [String: Any])
        #expect(summary["count"] as? Int == 60)
        let blocks = try await db.store.blocks(run: run).map(\.durationMicros)
        #expect((summary["total_micros"] as? NSNumber)?.int64Value == blocks.reduce(0, +))
    }

    @Test("set-baseline by run id and by build label, id or SHA-256 prefix")
    func setBaseline() async throws {
        let db = try SyntheticDatabase()
        let first = try await db.addRun(build: "release", seed: 1)
        let second = try await db.addRun(build: "release", seed: 2)
        let debug = try await db.addRun(build: "debug", seed: 3)
        func baselineId() async throws -> Int64? { try await db.store.baseline(chain: 1, machine: 1)?.id }

        #expect(try await db.baseline(["set-baseline", "\(first)"]).status == 0)
        #expect(try await baselineId() == first)
        #expect(try await db.baseline(["set-baseline", "a1a1a1a1"]).status == 0)  // debug's SHA-256 prefix
        #expect(try await baselineId() == debug)
        #expect(try await db.baseline(["set-baseline", "release"]).status == 0)
        #expect(try await baselineId() == second)
        #expect(try await db.baseline(["set-baseline", "build:2"]).status == 0)
        #expect(try await baselineId() == debug)
    }

    @Test("export then import into a fresh database reproduces the runs; a second import skips them")
    func exportImport() async throws {
        let db = try SyntheticDatabase()
        let first = try await db.addRun(build: "release", seed: 1)
        try await db.addRun(build: "debug", seed: 2, factor: 1.2)
        try await db.addRun(build: "debug", seed: 3, complete: false)
        try await db.store.setBaseline(run: first)
        let file = db.directory + "/export.json"
        let exported = try await db.baseline(["export", file])
        #expect(exported.status == 0, "\(exported.standardError)")
        #expect(exported.standardOutput.contains("exported 3 runs (180 blocks), 2 builds, 1 machines and 1 chains to \(file)"))

        let target = db.directory + "/other.sqlite"
        let imported = try await CLI.runAsync(["baseline", "import", file, "--db", target])
        #expect(imported.status == 0, "\(imported.standardError)")
        #expect(imported.standardOutput.contains("3 runs added (180 blocks), 0 skipped"))
        let again = try await CLI.runAsync(["baseline", "import", file, "--db", target])
        #expect(again.status == 0)
        #expect(again.standardOutput.contains("0 runs added (0 blocks), 3 skipped"))

        let original = try await db.baseline(["list"]).standardOutput
        let copy = try await CLI.runAsync(["baseline", "list", "--db", target]).standardOutput
        #expect(copy == original)
        let compared = try await CLI.runAsync(["baseline", "compare", "--db", target, "--candidate", "2"])
        #expect(compared.status == 1)
    }

    @Test("a different machine is a warning on standard error, not a refusal")
    func differentMachines() async throws {
        let db = try SyntheticDatabase()
        let here = try await db.addRun(build: "release", seed: 1)
        let there = try await db.addRun(build: "release", host: "bench-2", seed: 2)
        let result = try await db.baseline(["compare", "--baseline", "\(here)", "--candidate", "\(there)"])
        #expect(result.status == 0)
        #expect(result.standardError.contains("warning: runs \(here) and \(there) ran on different machines (bench-1"))
        #expect(result.standardOutput.contains("no change"))
    }

    /// Runs `arguments` against `db` and expects one line with `message`, a
    /// non-zero exit, and the database holding what a copy of its file made
    /// before the command holds.
    func expectFailure(_ db: SyntheticDatabase, _ arguments: [String], _ message: String,
                       environment: [String: String] = [:],
                       sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let copy = try db.copy()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: copy + suffix) } }
        let result = try await db.baseline(arguments, environment: environment)
        expectOneLineError(result, containing: message, sourceLocation: sourceLocation)
        #expect(try await db.snapshot() == SyntheticDatabase.snapshot(of: copy), "\(arguments) changed the database", sourceLocation: sourceLocation)
    }

    /// Expects exit status 2 and exactly one line on standard error, with `message`.
    func expectOneLineError(_ result: Fixture.Output, containing message: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 2, "stdout: \(result.standardOutput) stderr: \(result.standardError)", sourceLocation: sourceLocation)
        #expect(result.standardError.contains(message), "\(result.standardError)", sourceLocation: sourceLocation)
        #expect(result.standardError.hasPrefix("Error: ") && result.standardError.hasSuffix("\n"), "\(result.standardError)", sourceLocation: sourceLocation)
        #expect(result.standardError.split(separator: "\n").count == 1, "\(result.standardError)", sourceLocation: sourceLocation)
    }

    @Test("bad input: unknown run or build, a run without blocks, other chains, too few heights, a bad import file")
    func badReferences() async throws {
        let db = try SyntheticDatabase()
        let run = try await db.addRun(build: "release", seed: 1)
        let empty = try await db.addRun(build: "release", seed: 2, withBlocks: false)
        let other = try await db.addRun(build: "release", chain: "other", seed: 3)
        let short = try await db.addRun(build: "debug", seed: 4, heights: 1...5)
        try db.store.close()

        try await expectFailure(db, ["show", "99"], "no run 99 in \(db.path)")
        try await expectFailure(db, ["set-baseline", "99"], "no run or build 99 in \(db.path)")
        try await expectFailure(db, ["set-baseline", "nosuchbuild"], "no build nosuchbuild in \(db.path)")
        try await expectFailure(db, ["set-baseline", "\(empty)"], "run \(empty) is running (incomplete); only a complete run can be a baseline")
        try await expectFailure(db, ["compare", "--baseline", "nosuchbuild", "--candidate", "\(run)"], "no build nosuchbuild")
        try await expectFailure(db, ["compare", "--baseline", "\(empty)", "--candidate", "\(run)"], "run \(empty) has no blocks")
        try await expectFailure(db, ["compare", "--baseline", "\(run)", "--candidate", "\(other)"],
                          "runs \(run) and \(other) connected different chains (synthetic vs other); compare runs of the same chain")
        try await expectFailure(db, ["compare", "--baseline", "\(run)", "--candidate", "\(short)"],
                          "only 5 heights are measured in both the baseline and the candidate; a comparison needs at least 10")
        try await expectFailure(db, ["import", db.directory + "/missing.json"], "cannot read \(db.directory)/missing.json: no such readable file")

        // compare and report share the selection, and report writes no page when it fails.
        try await expectFailure(db, ["compare", "--candidate", "99"], "no run or build 99 in \(db.path)")
        try await expectFailure(db, ["set-baseline", "run:first"], "'run:first': run: must be followed by a run id")
        let page = db.directory + "/report.html"
        try await expectFailure(db, ["report", "--baseline", "\(empty)", "--candidate", "\(run)", "--html", page], "run \(empty) has no blocks")
        try await expectFailure(db, ["report", "--baseline", "nosuchbuild", "--candidate", "\(run)", "--html", page], "no build nosuchbuild")
        try await expectFailure(db, ["report", "--baseline", "\(run)", "--candidate", "99", "--html", page], "no run or build 99")
        #expect(!FileManager.default.fileExists(atPath: page))
        // A run without blocks can still be shown.
        let shown = try await db.baseline(["show", "\(empty)"])
        #expect(shown.status == 0, "\(shown.standardError)")
        #expect(shown.standardOutput.contains("blocks     none"))

        // Import files that are not an export, or are of a newer schema, or are directories.
        let notExport = db.directory + "/not-export.json"
        try Data(#"{"hello": "world"}"#.utf8).write(to: URL(fileURLWithPath: notExport))
        try await expectFailure(db, ["import", notExport], "\(notExport) is not a tapyrus-trace baseline export")
        let exported = db.directory + "/export.json"
        #expect(try await db.baseline(["export", exported]).status == 0)
        var document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: exported))) as? [String: Any])
        document["schemaVersion"] = 9
        let newer = db.directory + "/newer.json"
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: newer))
        try await expectFailure(db, ["import", newer], "\(newer): export schema v9 is newer than this tapyrus-trace (knows up to v1); upgrade tapyrus-trace")
        try await expectFailure(db, ["import", db.directory], "cannot read \(db.directory): it is a directory")
    }

    @Test("bad input: a corrupt, read-only or newer database is refused in one line and left as it was")
    func badDatabases() async throws {
        let corrupt = try SyntheticDatabase()
        try await corrupt.addRun(build: "release", seed: 1)
        try corrupt.store.close()
        try Data(repeating: 0x5a, count: 8192).write(to: URL(fileURLWithPath: corrupt.path))
        try await expectFailure(corrupt, ["list"], "\(corrupt.path) is not a tapyrus-trace database")
        try await expectFailure(corrupt, ["compare"], "is not a tapyrus-trace database")
        try await expectFailure(corrupt, ["set-baseline", "1"], "is not a tapyrus-trace database")
        let export = try SyntheticDatabase()
        try await export.addRun(build: "debug", seed: 2)
        let exportFile = export.directory + "/export.json"
        #expect(try await export.baseline(["export", exportFile]).status == 0)
        try await expectFailure(corrupt, ["import", exportFile], "is not a tapyrus-trace database")

        let readOnly = try SyntheticDatabase()
        let run = try await readOnly.addRun(build: "release", seed: 1)
        try readOnly.store.close()
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: readOnly.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: readOnly.path) }
        try await expectFailure(readOnly, ["set-baseline", "\(run)"], "cannot write \(readOnly.path): file is read-only; make it writable or pass another --db")
        #expect(try await readOnly.baseline(["export", readOnly.directory + "/export.json"]).status == 0)
        try await expectFailure(readOnly, ["import", exportFile], "cannot write \(readOnly.path): file is read-only; make it writable or pass another --db")
        let listed = try await readOnly.baseline(["list"])
        #expect(listed.status == 0)
        #expect(listed.standardOutput.contains("release"))

        let newer = try SyntheticDatabase()
        try await newer.addRun(build: "release", seed: 1)
        try await newer.store.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v2'), ('v3')")
        try newer.store.close()
        try await expectFailure(newer, ["list"], "\(newer.path): database schema v3 is newer than this tapyrus-trace (knows up to v1); upgrade tapyrus-trace")
        try await expectFailure(newer, ["show", "1"], "is newer than this tapyrus-trace")
        try await expectFailure(newer, ["set-baseline", "1"], "is newer than this tapyrus-trace")
        try await expectFailure(newer, ["import", exportFile], "is newer than this tapyrus-trace")

        let missing = try SyntheticDatabase()
        try missing.store.close()
        let result = try await CLI.runAsync(["baseline", "show", "1", "--db", missing.directory + "/none.sqlite"])
        expectOneLineError(result, containing: "no baselines database at \(missing.directory)/none.sqlite; store runs with")
        #expect(!FileManager.default.fileExists(atPath: missing.directory + "/none.sqlite"))
    }
}

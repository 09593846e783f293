import Foundation
import GRDB
import Testing
@testable import BenchStore

/// A temporary directory for one test's database files, removed by ``remove()``.
private struct Scratch {
    let directory: URL

    init() throws {
        directory = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("baseline-store-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func path(_ name: String = "baselines.sqlite") -> String { directory.appendingPathComponent(name).path }

    func remove() {
        try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Blocks with varied, reproducible figures.
private func makeBlocks(_ heights: Range<Int>, seed: Int = 0) -> [BlockMeasurement] {
    heights.map { height in
        BlockMeasurement(
            height: height, hash: String(format: "%064x", height &* 2_654_435_761 &+ seed),
            transactions: 1 + height % 50, inputs: 2 * (height % 50), sigops: 4 * (height % 50),
            durationMicros: Int64(100 + (height * 37 + seed) % 900))
    }
}

/// A build, machine and chain stored in `store`.
private struct Fixture {
    var build: Build
    var machine: Machine
    var chain: Chain

    init(_ store: BaselineStore, sha: String = String(repeating: "ab", count: 32), label: String? = "release") async throws {
        build = try await store.recordBuild(Build.Draft(sha256: sha, version: "Tapyrus Core v0.6.1", flags: "Release", label: label))
        machine = try await store.recordMachine(Machine.Draft(host: "bench-1", cpuModel: "Test CPU @ 3.0GHz", cores: 2, kernel: "6.1.0"))
        chain = try await store.recordChain(Chain.Draft(name: "mixed-1k", generatorVersion: "1", parameters: ["blocks": "1000", "seed": "7"], blockCount: 1000))
    }

    /// Stores a run of `blocks` blocks, completed unless `complete` is false.
    func run(_ store: BaselineStore, blocks: Int, build: Build? = nil, complete: Bool = true, batch: Int = 100) async throws -> Int64 {
        let id = try await store.beginRun(build: (build ?? self.build).id, machine: machine.id, chain: chain.id, parameters: ["from": "0", "to": "\(blocks)"])
        let all = makeBlocks(0..<blocks, seed: Int(id))
        for start in stride(from: 0, to: all.count, by: batch) {
            try await store.appendBlocks(run: id, Array(all[start..<min(start + batch, all.count)]))
        }
        if complete { try await store.completeRun(id, wallSeconds: Double(blocks) / 1000) }
        return id
    }
}

/// Everything a database holds, minus the export time, for before/after comparisons.
private func contents(of path: String) async throws -> BaselineExport {
    let store = try BaselineStore(path: path)
    defer { try? store.close() }
    var document = try await store.export()
    document.exported = Date(timeIntervalSince1970: 0)
    return document
}

private func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

/// Expects `body` to throw a ``BaselineStoreError`` of `kind` whose message contains `text`.
private func expectStoreError(_ kind: BaselineStoreError.Kind, _ text: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected a \(kind) error, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as BaselineStoreError {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        #expect(error.description.contains(text), "\(error)", sourceLocation: sourceLocation)
        #expect(!error.description.contains("\n"), "one line: \(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a \(kind) error, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
}

@Suite("Baseline store in SQLite")
struct BaselineStoreTests {
    @Test("a new database gets schema v1: five tables, WAL, foreign keys on")
    func migrationsCreateSchema() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try BaselineStore(path: scratch.path())
        defer { try? store.close() }
        #expect(try await store.schemaVersion() == 1)
        let tables = try await store.tableNames()
        for table in ["blocks", "builds", "chains", "machines", "runs"] { #expect(tables.contains(table)) }
        #expect(try await store.columnNames("builds") == ["id", "sha256", "version", "flags", "label", "created"])
        #expect(try await store.columnNames("machines") == ["id", "host", "cpu_model", "cores", "kernel"])
        #expect(try await store.columnNames("chains") == ["id", "name", "generator_version", "parameters", "block_count"])
        #expect(try await store.columnNames("runs") == [
            "id", "uid", "build_id", "machine_id", "chain_id", "parameters", "started", "wall_seconds", "status", "is_baseline", "notes",
        ])
        #expect(try await store.columnNames("blocks") == ["run_id", "height", "hash", "transactions", "inputs", "sigops", "duration_micros"])
        #expect(try await store.pragma("journal_mode") == "wal")
        #expect(try await store.pragma("foreign_keys") == "1")

        // Reopening an up-to-date database changes nothing.
        try store.close()
        let again = try BaselineStore(path: scratch.path())
        #expect(try await again.schemaVersion() == 1)
        try again.close()
    }

    @Test("builds, machines and chains are get-or-insert; a missing label is filled in")
    func getOrInsert() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try BaselineStore(path: scratch.path())
        defer { try? store.close() }
        let first = try await Fixture(store, label: nil)
        let second = try await Fixture(store, label: "master")
        #expect(first.build.id == second.build.id)
        #expect(first.machine.id == second.machine.id)
        #expect(first.chain.id == second.chain.id)
        #expect(try await store.builds().count == 1)
        #expect(try await store.build(first.build.id).label == "master")
        #expect(try await store.build(matching: "master").id == first.build.id)
        #expect(try await store.build(matching: "ababab").id == first.build.id)
        let other = try await store.recordMachine(Machine.Draft(host: "bench-1", cpuModel: "Test CPU @ 3.0GHz", cores: 4, kernel: "6.1.0"))
        #expect(other.id != first.machine.id)
    }

    @Test("a run of 1000 blocks comes back exactly, with its totals, build, machine and chain")
    func roundTripThousandBlocks() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try BaselineStore(path: scratch.path())
        defer { try? store.close() }
        let fixture = try await Fixture(store)
        let id = try await fixture.run(store, blocks: 1000)

        let blocks = try await store.blocks(run: id)
        #expect(blocks == makeBlocks(0..<1000, seed: Int(id)))
        let summary = try await store.run(id)
        #expect(summary.run.status == .complete)
        #expect(!summary.isIncomplete)
        #expect(summary.run.wallSeconds == 1.0)
        #expect(summary.run.parameters == ["from": "0", "to": "1000"])
        #expect(summary.blockCount == 1000)
        #expect(summary.totalMicros == blocks.reduce(0) { $0 + $1.durationMicros })
        #expect(summary.build.sha256 == fixture.build.sha256)
        #expect(summary.machine == fixture.machine)
        #expect(summary.chain == fixture.chain)
        #expect(try await store.runs().map(\.id) == [id])
    }

    @Test("two stores on one file write runs at the same time and both succeed")
    func concurrentWriters() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = scratch.path()
        let first = try BaselineStore(path: path)
        let second = try BaselineStore(path: path)
        let fixture = try await Fixture(first)
        async let a = fixture.run(first, blocks: 500, batch: 25)
        async let b = fixture.run(second, blocks: 500, batch: 25)
        let ids = try await [a, b]
        try first.close()
        try second.close()

        let store = try BaselineStore(path: path)
        defer { try? store.close() }
        let runs = try await store.runs()
        #expect(Set(runs.map(\.id)) == Set(ids))
        for run in runs {
            #expect(run.run.status == .complete)
            #expect(run.blockCount == 500)
            #expect(try await store.blocks(run: run.id) == makeBlocks(0..<500, seed: Int(run.id)))
        }
    }

    @Test("a crashed run (begun, some blocks, never completed) is listed as incomplete and is never a baseline")
    func crashedRunStaysIncomplete() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = scratch.path()
        var store = try BaselineStore(path: path)
        let fixture = try await Fixture(store)
        let good = try await fixture.run(store, blocks: 50, batch: 10)
        let crashed = try await fixture.run(store, blocks: 30, complete: false, batch: 10)
        try store.close()  // the process "dies" here: nothing completes the run

        store = try BaselineStore(path: path)
        defer { try? store.close() }
        let listed = try await store.runs()
        #expect(listed.map(\.id) == [good, crashed])
        let incomplete = try #require(listed.last)
        #expect(incomplete.isIncomplete)
        #expect(incomplete.run.status == .running)
        #expect(incomplete.blockCount == 30)
        #expect(try await store.runs(status: .complete).map(\.id) == [good])

        await expectStoreError(.runNotComplete, "run \(crashed) is running (incomplete)") {
            try await store.setBaseline(run: crashed)
        }
        // The build's latest complete run is the good one, though the crashed one is newer.
        #expect(try await store.setBaseline(build: fixture.build.id).id == good)
        #expect(try await store.baseline(chain: fixture.chain.id, machine: fixture.machine.id)?.id == good)
        #expect(try await store.run(crashed).run.isBaseline == false)
    }

    @Test("setting a baseline replaces the previous one of the same chain and machine")
    func baselineReplaces() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try BaselineStore(path: scratch.path())
        defer { try? store.close() }
        let fixture = try await Fixture(store)
        #expect(try await store.baseline(chain: fixture.chain.id, machine: fixture.machine.id) == nil)
        let one = try await fixture.run(store, blocks: 5)
        let two = try await fixture.run(store, blocks: 5)
        try await store.setBaseline(run: one)
        #expect(try await store.baseline(chain: fixture.chain.id, machine: fixture.machine.id)?.id == one)
        try await store.setBaseline(run: two)
        #expect(try await store.baseline(chain: fixture.chain.id, machine: fixture.machine.id)?.id == two)
        #expect(try await store.runs().filter(\.run.isBaseline).map(\.id) == [two])
    }

    @Test("a file that is not a database is refused and left byte for byte")
    func notADatabase() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = scratch.path()
        try Data(String(repeating: "not a database, just some text\n", count: 200).utf8).write(to: URL(fileURLWithPath: path))
        let before = try bytes(path)
        await expectStoreError(.notADatabase, "\(path) is not a tapyrus-trace database (file is not a database)") {
            _ = try BaselineStore(path: path)
        }
        #expect(try bytes(path) == before)
    }

    @Test("an SQLite database of another program is refused, named by its tables, and left byte for byte")
    func foreignDatabase() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = scratch.path()
        let other = try DatabaseQueue(path: path)
        try await other.write { db in try db.execute(sql: "CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)") }
        try other.close()
        let before = try bytes(path)
        await expectStoreError(.notADatabase, "\(path) is not a tapyrus-trace database (it holds tables photos)") {
            _ = try BaselineStore(path: path)
        }
        #expect(try bytes(path) == before)
    }

    @Test("an empty read-only file is refused: its schema cannot be created")
    func emptyReadOnlyFile() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = scratch.path()
        #expect(FileManager.default.createFile(atPath: path, contents: Data(), attributes: [.posixPermissions: 0o444]))
        await expectStoreError(.readOnly, "\(path) is empty and file is read-only") {
            _ = try BaselineStore(path: path)
        }
        #expect(try bytes(path).isEmpty)
    }

    @Test("this machine describes itself: host, CPU model, cores, kernel")
    func currentMachine() {
        let machine = Machine.current()
        #expect(!machine.host.isEmpty)
        #expect(!machine.cpuModel.isEmpty)
        #expect(machine.cores > 0)
        #expect(machine.kernel.first?.isNumber == true)
    }

    @Test("a database whose header is damaged is refused and left byte for byte")
    func damagedDatabase() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = scratch.path()
        let store = try BaselineStore(path: path)
        _ = try await Fixture(store).run(store, blocks: 20)
        try store.close()
        var data = try bytes(path)
        data.replaceSubrange(0..<16, with: Data(repeating: 0x41, count: 16))
        try data.write(to: URL(fileURLWithPath: path))
        await expectStoreError(.notADatabase, "is not a tapyrus-trace database") {
            _ = try BaselineStore(path: path)
        }
        #expect(try bytes(path) == data)
    }

    @Test("a database of a newer schema is refused with the versions, and left byte for byte")
    func newerSchema() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = scratch.path()
        let store = try BaselineStore(path: path)
        _ = try await Fixture(store).run(store, blocks: 20)
        try await store.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v2'), ('v3')")
        try store.close()
        let before = try bytes(path)
        await expectStoreError(.schemaTooNew, "database schema v3 is newer than this tapyrus-trace (knows up to v1); upgrade tapyrus-trace") {
            _ = try BaselineStore(path: path)
        }
        #expect(try bytes(path) == before)
    }

    @Test("a read-only database file can be read but every write is refused, and it is left byte for byte")
    func readOnlyFile() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = scratch.path()
        var store = try BaselineStore(path: path)
        let fixture = try await Fixture(store)
        let run = try await fixture.run(store, blocks: 20)
        try store.close()
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: path)
        let before = try bytes(path)

        store = try BaselineStore(path: path)
        #expect(store.isReadOnly)
        #expect(try await store.runs().map(\.id) == [run])
        #expect(try await store.blocks(run: run).count == 20)
        await expectStoreError(.readOnly, "cannot write \(path): file is read-only") {
            _ = try await store.beginRun(build: fixture.build.id, machine: fixture.machine.id, chain: fixture.chain.id)
        }
        await expectStoreError(.readOnly, "file is read-only") {
            _ = try await store.recordBuild(Build.Draft(sha256: String(repeating: "cd", count: 32), version: "v0.6.2"))
        }
        await expectStoreError(.readOnly, "file is read-only") { try await store.setBaseline(run: run) }
        try store.close()
        #expect(try bytes(path) == before)
    }

    @Test("a database cannot be created in a read-only directory; one already there is read-only")
    func readOnlyDirectory() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let existing = scratch.path("existing.sqlite")
        var store = try BaselineStore(path: existing)
        let fixture = try await Fixture(store)
        _ = try await fixture.run(store, blocks: 10)
        try store.close()
        let before = try bytes(existing)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: scratch.directory.path)

        let fresh = scratch.path("new.sqlite")
        await expectStoreError(.readOnly, "cannot create \(fresh): directory \(scratch.directory.path) is read-only") {
            _ = try BaselineStore(path: fresh)
        }
        #expect(!FileManager.default.fileExists(atPath: fresh))

        store = try BaselineStore(path: existing)
        #expect(store.isReadOnly)
        #expect(try await store.runs().count == 1)
        await expectStoreError(.readOnly, "is read-only") {
            _ = try await fixture.run(store, blocks: 1)
        }
        try store.close()
        #expect(try bytes(existing) == before)
    }

    @Test("a write that waits longer than the busy timeout for another writer fails as locked; earlier runs stay intact")
    func lockedTooLong() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = scratch.path()
        let holder = try BaselineStore(path: path)
        let fixture = try await Fixture(holder)
        _ = try await fixture.run(holder, blocks: 100)
        let before = try await contents(of: path)

        let impatient = try BaselineStore(path: path, busyTimeout: 0.2)
        let started = Flag()
        let gaveUp = DispatchSemaphore(value: 0)
        // Another writer holds the write lock until the impatient one has
        // given up: however slow the machine, the lock is never free while
        // the impatient writer waits for it.
        let holding = Task {
            try await holder.write { _ in
                started.set()
                gaveUp.wait()
            }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while !started.isSet {
            try #require(ContinuousClock.now < deadline, "the other writer never took the lock")
            try await Task.sleep(for: .milliseconds(5))
        }
        let attempt = ContinuousClock.now
        await expectStoreError(.locked, "\(path) is locked by another writer for more than 0.2 s") {
            _ = try await fixture.run(impatient, blocks: 10)
        }
        // It gave up after its own busy timeout, not at once (a lower bound
        // only: a loaded machine may take longer, never shorter).
        #expect(ContinuousClock.now - attempt >= .milliseconds(200), "the writer gave up before its busy timeout")
        gaveUp.signal()
        try await holding.value
        try impatient.close()
        try holder.close()
        #expect(try await contents(of: path) == before)
    }

    @Test("a store opened for reading does not wait for a writer holding the lock, and refuses writes; the writer's change stays invisible")
    func readerDoesNotWaitForWriter() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = scratch.path()
        let store = try BaselineStore(path: path)
        let fixture = try await Fixture(store)
        let id = try await fixture.run(store, blocks: 50)
        try store.close()
        let before = try await contents(of: path)

        // Another connection holds the write lock, with an uncommitted change,
        // the write-ahead log empty (as the sqlite3 shell leaves it): a
        // connection opened for writing would need the lock to set it up.
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        let holder = try DatabaseQueue(path: path, configuration: configuration)
        try await holder.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            try db.execute(sql: "BEGIN IMMEDIATE")
            try db.execute(sql: "DELETE FROM blocks")
        }
        #expect(try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int == 0)
        let reader = try BaselineStore(path: path, busyTimeout: 2, forReading: true)
        #expect(reader.isReadOnly)
        #expect(try await reader.blocks(run: id).count == 50)
        #expect(try await reader.runs().count == 1)
        // The reads are in while the holder still has the lock and its
        // uncommitted change: a reader that needed the lock would have
        // failed as locked after its busy timeout instead (the lock is only
        // released below), whatever the load.
        #expect(try await holder.writeWithoutTransaction { $0.isInsideTransaction }, "the holder still holds the write lock")
        await expectStoreError(.readOnly, "cannot write \(path): it was opened for reading only") {
            try await reader.setBaseline(run: id)
        }
        // A writer waits for the lock, and gives up after its busy timeout.
        await expectStoreError(.locked, "\(path) is locked by another writer for more than 0.2 s") {
            let writer = try BaselineStore(path: path, busyTimeout: 0.2)
            defer { try? writer.close() }
            try await writer.setBaseline(run: id)
        }
        try await holder.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
        try holder.close()
        try reader.close()
        #expect(try await contents(of: path) == before)

        // A new database is still created, writable, when opened for reading.
        let fresh = try BaselineStore(path: scratch.path("fresh.sqlite"), forReading: true)
        defer { try? fresh.close() }
        #expect(!fresh.isReadOnly)
        #expect(try await fresh.schemaVersion() == 1)
    }

    @Test("an unknown run or build is a one-line error that changes nothing")
    func unknownRunAndBuild() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = scratch.path()
        let store = try BaselineStore(path: path)
        let fixture = try await Fixture(store)
        _ = try await fixture.run(store, blocks: 10)
        let before = try await contents(of: path)

        await expectStoreError(.unknownRun, "no run 42 in \(path)") { _ = try await store.run(42) }
        await expectStoreError(.unknownRun, "no run 42") { _ = try await store.blocks(run: 42) }
        await expectStoreError(.unknownRun, "no run 42") { try await store.appendBlocks(run: 42, makeBlocks(0..<3)) }
        await expectStoreError(.unknownRun, "no run 42") { try await store.completeRun(42, wallSeconds: 1) }
        await expectStoreError(.unknownRun, "no run 42") { try await store.setBaseline(run: 42) }
        await expectStoreError(.unknownBuild, "no build 7 in \(path)") { try await store.setBaseline(build: 7) }
        await expectStoreError(.unknownBuild, "no build nightly") { _ = try await store.build(matching: "nightly") }
        await expectStoreError(.unknownBuild, "no build 7") {
            _ = try await store.beginRun(build: 7, machine: fixture.machine.id, chain: fixture.chain.id)
        }
        try store.close()
        #expect(try await contents(of: path) == before)
    }

    @Test("a run with no blocks cannot be completed; it stays running and earlier runs stay intact")
    func runWithNoBlocks() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = scratch.path()
        let store = try BaselineStore(path: path)
        let fixture = try await Fixture(store)
        let earlier = try await fixture.run(store, blocks: 10)
        let empty = try await store.beginRun(build: fixture.build.id, machine: fixture.machine.id, chain: fixture.chain.id)
        let before = try await contents(of: path)

        await expectStoreError(.noBlocks, "run \(empty) has no blocks") { try await store.completeRun(empty, wallSeconds: 1) }
        #expect(try await store.run(empty).run.status == .running)
        // A failed run may have no blocks, and is then no longer incomplete.
        try await store.failRun(empty, reason: "tapyrusd -reindex exited with status 1")
        #expect(try await store.run(empty).run.status == .failed)
        await expectStoreError(.runNotRunning, "run \(earlier) is already complete") { try await store.completeRun(earlier, wallSeconds: 2) }
        await expectStoreError(.runNotRunning, "run \(earlier) is complete") { try await store.appendBlocks(run: earlier, makeBlocks(10..<11)) }
        try store.close()
        let after = try await contents(of: path)
        #expect(after.runs.filter { $0.id != empty } == before.runs.filter { $0.id != empty })
        #expect(after.blocks == before.blocks)
    }

    @Test("a batch with a height already stored is refused whole")
    func duplicateHeightRollsBackBatch() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try BaselineStore(path: scratch.path())
        defer { try? store.close() }
        let fixture = try await Fixture(store)
        let run = try await fixture.run(store, blocks: 10, complete: false)
        await expectStoreError(.duplicateBlock, "run \(run) already has a block at height 9") {
            try await store.appendBlocks(run: run, makeBlocks(9..<20))
        }
        #expect(try await store.run(run).blockCount == 10)
    }

    @Test("export then import into a fresh database reproduces the runs, renumbered, with their blocks")
    func exportImportRoundTrip() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let source = try BaselineStore(path: scratch.path("source.sqlite"))
        defer { try? source.close() }
        let fixture = try await Fixture(source)
        let debug = try await source.recordBuild(Build.Draft(sha256: String(repeating: "de", count: 32), version: "Tapyrus Core v0.6.1", flags: "Debug"))
        let one = try await fixture.run(source, blocks: 200)
        _ = try await fixture.run(source, blocks: 200, build: debug)
        _ = try await fixture.run(source, blocks: 7, complete: false)
        try await source.setBaseline(run: one)
        let file = scratch.directory.appendingPathComponent("export.json")
        try await source.exportJSON(to: file)

        // The target already has a run of its own, so imported ids must move.
        let target = try BaselineStore(path: scratch.path("target.sqlite"))
        defer { try? target.close() }
        let local = try await Fixture(target, sha: String(repeating: "01", count: 32))
        _ = try await local.run(target, blocks: 3)
        let summary = try await target.importJSON(from: file)
        #expect(summary.runsAdded == 3)
        #expect(summary.blocksAdded == 407)
        #expect(summary.buildsAdded == 2)
        #expect(summary.machinesAdded == 0)
        #expect(summary.chainsAdded == 0)

        let exported = try await source.runs()
        let imported = Dictionary(uniqueKeysWithValues: try await target.runs().map { ($0.run.uid, $0) })
        #expect(imported.count == 4)
        for run in exported {
            let copy = try #require(imported[run.run.uid])
            #expect(copy.id == summary.runIds[run.id])
            #expect(copy.id != run.id)
            #expect(copy.run.status == run.run.status)
            #expect(copy.run.isBaseline == run.run.isBaseline)
            #expect(copy.run.parameters == run.run.parameters)
            #expect(abs(copy.run.started.timeIntervalSince(run.run.started)) < 0.002)
            #expect(copy.run.wallSeconds == run.run.wallSeconds)
            #expect(copy.build.sha256 == run.build.sha256)
            #expect(copy.build.flags == run.build.flags)
            #expect(copy.chain.parameters == run.chain.parameters)
            #expect(copy.machine.host == run.machine.host)
            #expect(try await target.blocks(run: copy.id) == (try await source.blocks(run: run.id)))
        }
        #expect(try await target.baseline(chain: local.chain.id, machine: local.machine.id)?.run.uid == (try await source.run(one)).run.uid)
    }

    @Test("importing the same export twice adds no build, machine, chain or run the second time")
    func importTwiceDoesNotDuplicate() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let source = try BaselineStore(path: scratch.path("source.sqlite"))
        defer { try? source.close() }
        let fixture = try await Fixture(source)
        _ = try await fixture.run(source, blocks: 50)
        _ = try await fixture.run(source, blocks: 50)
        let document = try await source.export()

        let target = try BaselineStore(path: scratch.path("target.sqlite"))
        defer { try? target.close() }
        let first = try await target.import(document)
        #expect(first.runsAdded == 2)
        let afterFirst = try await target.export()
        let second = try await target.import(BaselineExport.decode(document.jsonData(), source: "export.json"))
        #expect(second.runsAdded == 0)
        #expect(second.runsSkipped == 2)
        #expect(second.buildsAdded + second.machinesAdded + second.chainsAdded == 0)
        let afterSecond = try await target.export()
        #expect(afterSecond.builds == afterFirst.builds)
        #expect(afterSecond.machines == afterFirst.machines)
        #expect(afterSecond.chains == afterFirst.chains)
        #expect(afterSecond.runs == afterFirst.runs)
        #expect(afterSecond.blocks.count == 100)
    }

    @Test("an import file that is not an export, or is inconsistent, is refused and changes nothing")
    func badImport() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = scratch.path()
        let store = try BaselineStore(path: path)
        let fixture = try await Fixture(store)
        _ = try await fixture.run(store, blocks: 10)
        let before = try await contents(of: path)

        let garbage = scratch.directory.appendingPathComponent("garbage.json")
        try Data("{\"hello\": 1}".utf8).write(to: garbage)
        await expectStoreError(.badExport, "\(garbage.path) is not a tapyrus-trace baseline export") {
            try await store.importJSON(from: garbage)
        }
        var document = try await store.export()
        document.blocks.append(StoredBlock(runId: 99, makeBlocks(0..<1)[0]))
        document.runs[0].uid = "other"
        await expectStoreError(.badExport, "refers to run 99, which it does not contain") {
            try await store.import(document)
        }
        try store.close()
        #expect(try await contents(of: path) == before)
    }
}

/// A flag one thread sets and another polls.
private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

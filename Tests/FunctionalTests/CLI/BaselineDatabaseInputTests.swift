import Foundation
import GRDB
import Testing
@testable import BenchStore

/// Another writer of a baselines database, as SQLite sees it: a second
/// connection that holds the file's write lock, with an uncommitted change,
/// until ``release()`` rolls it back. The lock is SQLite's file lock, so
/// `tapyrus-trace` processes started meanwhile wait for it like for any
/// other process.
final class DatabaseLockHolder {
    private let queue: DatabaseQueue
    private var held = true

    /// Takes the write lock of the database at `path` (`BEGIN IMMEDIATE`);
    /// with `exclusive`, SQLite's exclusive locking mode, which keeps even
    /// readers out. With `emptyLog`, the write-ahead log is first checkpointed
    /// and truncated, as a program that deletes it on close (the `sqlite3`
    /// shell, say) leaves it; a connection opened for writing then needs the
    /// lock to set the log up.
    init(path: String, exclusive: Bool = false, emptyLog: Bool = false) throws {
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        configuration.busyMode = .timeout(5)
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in
            if emptyLog {
                let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                guard row?[0] as Int? == 0 else { throw FixtureError("the write-ahead log of \(path) could not be truncated") }
            }
            if exclusive { try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE") }
            try db.execute(sql: exclusive ? "BEGIN EXCLUSIVE" : "BEGIN IMMEDIATE")
            try db.execute(sql: "UPDATE runs SET notes = 'an uncommitted change of the lock holder'")
        }
    }

    /// Rolls the change back and closes the connection, freeing the lock; a second call does nothing.
    func release() throws {
        guard held else { return }
        held = false
        try queue.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
        try queue.close()
    }

    deinit { try? release() }
}

extension BaselineCommandTests {
    @Test("bad input: a write lock held past --busy-timeout fails set-baseline and import in one line, in bounded time; reads go on; nothing is lost",
          arguments: [false, true])
    func lockedTooLong(emptyLog: Bool) async throws {
        let db = try SyntheticDatabase()
        let first = try await db.addRun(build: "release", seed: 1)
        let second = try await db.addRun(build: "release", seed: 2)
        try await db.store.setBaseline(run: first)
        try db.store.close()
        let other = try SyntheticDatabase()
        try await other.addRun(build: "debug", seed: 3, factor: 1.2)
        let exportFile = other.directory + "/export.json"
        try await other.store.export().jsonData().write(to: URL(fileURLWithPath: exportFile))
        let copy = try db.copy()

        let holder = try DatabaseLockHolder(path: db.path, emptyLog: emptyLog)
        defer { try? holder.release() }
        if emptyLog {
            let log = try FileManager.default.attributesOfItem(atPath: db.path + "-wal")[.size] as? Int
            try #require(log == 0, "the write-ahead log holds \(log ?? -1) bytes")
        }
        let locked = "Error: \(db.path) is locked by another writer for more than 0.5 s; try again when the other run has finished, or raise --busy-timeout\n"
        for arguments in [["set-baseline", "\(second)"], ["import", exportFile]] {
            let started = ContinuousClock.now
            let result = try await db.baseline(arguments + ["--busy-timeout", "0.5"])
            let elapsed = ContinuousClock.now - started
            #expect(result.status == 2, "\(arguments): \(result.standardOutput)")
            #expect(result.standardError == locked)
            // It waited for the lock; the message says for --busy-timeout's 0.5 s, not
            // the default 5 s. (A lower bound only: a loaded machine can take seconds
            // to start the process; the run's own deadline guards against a hang.)
            #expect(elapsed >= .milliseconds(500), "\(arguments) gave up after \(elapsed), before its busy timeout")
        }
        // --busy-timeout 0: the message names no wait (the run's own deadline guards against a hang).
        let impatient = try await db.baseline(["import", exportFile, "--busy-timeout", "0"])
        #expect(impatient.standardError == "Error: \(db.path) is locked by another writer; try again when the other run has finished, or raise --busy-timeout\n")
        #expect(impatient.status == 2)

        // Reading commands do not wait for a writer.
        let listed = try await db.baseline(["list", "--busy-timeout", "0.5"])
        #expect(listed.status == 0, "\(listed.standardError)")
        #expect(listed.standardOutput.split(separator: "\n").count == 3)
        let shown = try await db.baseline(["show", "\(first)", "--busy-timeout", "0.5"])
        #expect(shown.status == 0, "\(shown.standardError)")
        #expect(shown.standardOutput.contains("complete, baseline of its chain and machine"))

        try holder.release()
        #expect(try await db.snapshot() == SyntheticDatabase.snapshot(of: copy), "a command changed the database while it was locked")
        // Freed, the same commands succeed.
        let set = try await db.baseline(["set-baseline", "\(second)"])
        #expect(set.status == 0, "\(set.standardError)")
        let imported = try await db.baseline(["import", exportFile])
        #expect(imported.status == 0, "\(imported.standardError)")
        let store = try BaselineStore(path: db.path, forReading: true)
        defer { try? store.close() }
        // The two runs from before and the imported one (seeds 1, 2 and 3).
        #expect(try await store.runs().compactMap { $0.run.parameters["seed"] }.sorted() == ["1", "2", "3"])
        #expect(try await store.baseline(chain: 1, machine: 1)?.id == second)
    }

    @Test("bad input: a database held in exclusive locking mode fails even reads in one line, and is left intact")
    func lockedExclusively() async throws {
        let db = try SyntheticDatabase()
        try await db.addRun(build: "release", seed: 1)
        try db.store.close()
        let copy = try db.copy()
        let holder = try DatabaseLockHolder(path: db.path, exclusive: true)
        defer { try? holder.release() }
        for arguments in [["list"], ["show", "1"], ["set-baseline", "1"]] {
            let result = try await db.baseline(arguments + ["--busy-timeout", "0.3"])
            // The message names the timeout used; the run's own deadline guards against a hang.
            expectOneLineError(result, containing: "\(db.path) is locked by another writer for more than 0.3 s")
        }
        try holder.release()
        #expect(try await db.snapshot() == SyntheticDatabase.snapshot(of: copy))
        #expect(try await db.baseline(["list"]).status == 0)
    }

    @Test("bad input: --db naming a directory, a path in a missing directory or under a file, or nothing; a bad --busy-timeout")
    func badDatabasePaths() async throws {
        let db = try SyntheticDatabase()
        try await db.addRun(build: "release", seed: 1)
        try db.store.close()
        let exportFile = db.directory + "/export.json"
        #expect(try await db.baseline(["export", exportFile]).status == 0)
        let missing = db.directory + "/no-such-directory"
        let cases: [(arguments: [String], message: String)] = [
            (["list", "--db", db.directory], "\(db.directory) is a directory; pass the path of a database file"),
            (["show", "1", "--db", db.directory], "\(db.directory) is a directory; pass the path of a database file"),
            (["import", exportFile, "--db", db.directory], "\(db.directory) is a directory; pass the path of a database file"),
            (["list", "--db", missing + "/baselines.sqlite"],
             "\(missing)/baselines.sqlite: directory \(missing) does not exist; check the path or pass another --db"),
            (["set-baseline", "1", "--db", missing + "/baselines.sqlite"], "directory \(missing) does not exist"),
            (["import", exportFile, "--db", missing + "/baselines.sqlite"], "directory \(missing) does not exist"),
            (["import", exportFile, "--db", db.path + "/baselines.sqlite"],
             "\(db.path)/baselines.sqlite: \(db.path) is a file, not a directory; check the path or pass another --db"),
            (["list", "--db", ""], "--db is empty; give the path of a baselines database file"),
            (["list", "--db", db.path, "--busy-timeout=-1"], "--busy-timeout must be a number of seconds, 0 or more"),
            (["list", "--db", db.path, "--busy-timeout", "nan"], "--busy-timeout must be a number of seconds, 0 or more"),
        ]
        let before = try await db.snapshot()
        for (arguments, message) in cases {
            let result = try await CLI.runAsync(["baseline"] + arguments)
            expectOneLineError(result, containing: message)
        }
        #expect(!FileManager.default.fileExists(atPath: missing))
        #expect(try await db.snapshot() == before)
    }

    @Test("$TAPYRUS_TRACE_DB names the database when --db is not given; a bad one is refused in one line that names the variable")
    func environmentVariable() async throws {
        let db = try SyntheticDatabase()
        try await db.addRun(build: "release", seed: 1)
        try db.store.close()
        let exportFile = db.directory + "/export.json"
        #expect(try await db.baseline(["export", exportFile]).status == 0)
        let variable = "TAPYRUS_TRACE_DB"

        let listed = try await CLI.runAsync(["baseline", "list"], environment: [variable: db.path])
        #expect(listed.status == 0, "\(listed.standardError)")
        #expect(listed.standardOutput.contains("release"))
        // --db wins over the variable.
        let elsewhere = db.directory + "/elsewhere.sqlite"
        let overridden = try await CLI.runAsync(["baseline", "import", exportFile, "--db", elsewhere], environment: [variable: db.directory])
        #expect(overridden.status == 0, "\(overridden.standardError)")
        #expect(FileManager.default.fileExists(atPath: elsewhere))

        let before = try await db.snapshot()
        let missing = db.directory + "/no-such-directory"
        let cases: [(arguments: [String], value: String, message: String)] = [
            (["list"], db.directory, "\(db.directory) is a directory; pass the path of a database file (the path is $\(variable))"),
            (["import", exportFile], db.directory, "\(db.directory) is a directory; pass the path of a database file (the path is $\(variable))"),
            (["list"], missing + "/baselines.sqlite", "directory \(missing) does not exist; check the path or pass another --db (the path is $\(variable))"),
            (["import", exportFile], missing + "/baselines.sqlite", "directory \(missing) does not exist; check the path or pass another --db (the path is $\(variable))"),
            (["show", "1"], db.directory + "/none.sqlite", "no baselines database at \(db.directory)/none.sqlite; store runs with"),
        ]
        for (arguments, value, message) in cases {
            let result = try await CLI.runAsync(["baseline"] + arguments, environment: [variable: value])
            expectOneLineError(result, containing: message)
            #expect(result.standardError.hasSuffix("(the path is $\(variable))\n"), "\(result.standardError)")
        }
        #expect(!FileManager.default.fileExists(atPath: missing))
        #expect(!FileManager.default.fileExists(atPath: db.directory + "/none.sqlite"))
        #expect(try await db.snapshot() == before)

        // Set but empty, it is ignored: the default under $HOME is used.
        let home = db.directory + "/home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let byDefault = try await CLI.runAsync(["baseline", "list"], environment: [variable: "", "HOME": home])
        #expect(byDefault.status == 0, "\(byDefault.standardError)")
        #expect(byDefault.standardOutput == "no runs: no baselines database at \(home)/.local/share/tapyrus-trace/baselines.sqlite yet\n")
    }

    @Test("bad input: export and report to a missing directory, to a directory or to no name fail in one line before any work")
    func badOutputFiles() async throws {
        let db = try SyntheticDatabase()
        let base = try await db.addRun(build: "release", seed: 1)
        let candidate = try await db.addRun(build: "debug", seed: 2)
        try db.store.close()
        let missing = db.directory + "/no-such-directory"
        let selection = ["--baseline", "\(base)", "--candidate", "\(candidate)"]
        try await expectFailure(db, ["export", missing + "/export.json"], "cannot write \(missing)/export.json: directory \(missing) does not exist")
        try await expectFailure(db, ["export", db.directory], "cannot write \(db.directory): it is a directory; give the path of a file")
        try await expectFailure(db, ["export", db.path + "/export.json"], "cannot write \(db.path)/export.json: \(db.path) is a file, not a directory")
        try await expectFailure(db, ["export", ""], "an empty output file name")
        try await expectFailure(db, ["report"] + selection + ["--html", missing + "/report.html"],
                                "cannot write \(missing)/report.html: directory \(missing) does not exist")
        try await expectFailure(db, ["report"] + selection + ["--html", db.directory], "cannot write \(db.directory): it is a directory")
        #expect(!FileManager.default.fileExists(atPath: missing))
    }
}

import Foundation
import GRDB

/// The benchmark's runs and baselines, kept in one SQLite database file.
///
/// Several stores (in one process or several) may write to the same file at
/// once: the database is in WAL mode, each write is one immediate
/// transaction, and a writer waits up to `busyTimeout` for another. A run is
/// `running` from ``beginRun(build:machine:chain:parameters:notes:started:)``
/// until ``completeRun(_:wallSeconds:)`` or ``failRun(_:reason:)``; one that
/// crashed stays `running`, is listed as incomplete, and can never be a
/// baseline.
///
/// A file or directory without write permission bits is opened read-only,
/// even for root: reading works, and every write is refused with an error
/// before the file is touched.
public final class BaselineStore: Sendable {
    /// The database file.
    public let path: String
    /// True when the file or its directory is not writable, or the store was
    /// opened for reading: writes are refused.
    public let isReadOnly: Bool
    /// How long a write waits for another writer before giving up.
    public let busyTimeout: TimeInterval
    private let readOnlyReason: String
    private let openedForReading: Bool
    private let pool: DatabasePool

    /// Opens (creating it if needed) the database at `path`, migrating its
    /// schema to the newest this build knows.
    ///
    /// With `forReading`, an existing database that needs no schema change
    /// is opened read-only: opening then never takes the write lock, so it
    /// does not wait for another writer, and every write is refused.
    public init(path: String, busyTimeout: TimeInterval = 5, forReading: Bool = false) throws {
        self.path = path
        self.busyTimeout = busyTimeout
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = fileManager.fileExists(atPath: path, isDirectory: &isDirectory)
        if exists && isDirectory.boolValue {
            throw BaselineStoreError(.other, "\(path) is a directory; pass the path of a database file")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var directoryIsDirectory: ObjCBool = false
        if !fileManager.fileExists(atPath: directory, isDirectory: &directoryIsDirectory) {
            throw BaselineStoreError(.other, "cannot create \(path): directory \(directory) does not exist")
        }
        if !directoryIsDirectory.boolValue {
            throw BaselineStoreError(.other, "cannot create \(path): \(directory) is a file, not a directory; pass another --db")
        }
        var reason = ""
        if !Self.isWritable(directory) { reason = "directory \(directory) is read-only" }
        if exists && !Self.isWritable(path) { reason = "file is read-only" }
        if !exists && !reason.isEmpty {
            throw BaselineStoreError(.readOnly, "cannot create \(path): \(reason); make it writable or pass another --db")
        }

        // Inspect an existing file with a read-only connection first, so that
        // a foreign, damaged or newer database is refused without a write,
        // and one already migrated is opened without taking the write lock
        // (readers then never wait for another writer).
        let size = (try? fileManager.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        var needsMigration = true
        if exists && size == 0 && !reason.isEmpty {
            throw BaselineStoreError(.readOnly, "\(path) is empty and \(reason), so its schema cannot be created; make it writable or pass another --db")
        }
        if exists && size > 0 {
            do {
                var configuration = Configuration()
                configuration.readonly = true
                configuration.busyMode = .timeout(busyTimeout)
                let probe = try DatabaseQueue(path: path, configuration: configuration)
                let pending = try probe.read { db in try Self.checkSchema(db, path: path) }
                try probe.close()
                needsMigration = pending
                if pending && !reason.isEmpty {
                    throw BaselineStoreError(.readOnly, "\(path) needs its schema upgraded but \(reason); make it writable once or pass another --db")
                }
            } catch {
                throw BaselineStoreError.map(error, path: path, busyTimeout: busyTimeout, writing: false)
            }
        }

        openedForReading = reason.isEmpty && forReading && exists && !needsMigration
        if openedForReading { reason = "it was opened for reading only" }
        readOnlyReason = reason
        isReadOnly = !reason.isEmpty

        var configuration = Configuration()
        configuration.readonly = isReadOnly
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "BaselineStore"
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            if !isReadOnly && needsMigration {
                try Schema.migrator.migrate(pool)
            }
        } catch {
            throw BaselineStoreError.map(error, path: path, busyTimeout: busyTimeout, writing: !isReadOnly)
        }
    }

    /// Closes the database; the store cannot be used afterwards.
    public func close() throws {
        try pool.close()
    }

    /// The schema version of the open database.
    public func schemaVersion() async throws -> Int {
        try await read { db in
            try Schema.migrator.appliedIdentifiers(db).compactMap(Schema.version(of:)).max() ?? 0
        }
    }

    // MARK: Builds, machines, chains

    /// Returns the stored build with `build`'s SHA-256, inserting `build` if
    /// there is none; a label or flags the stored build lacks are filled in.
    public func recordBuild(_ build: Build.Draft) async throws -> Build {
        try await write { db in try Self.recordBuild(build, db) }
    }

    /// Returns the stored machine identical to `machine`, inserting it if there is none.
    public func recordMachine(_ machine: Machine.Draft) async throws -> Machine {
        try await write { db in try Self.recordMachine(machine, db) }
    }

    /// Returns the stored chain with `chain`'s name and generator version, inserting it if there is none.
    public func recordChain(_ chain: Chain.Draft) async throws -> Chain {
        try await write { db in try Self.recordChain(chain, db) }
    }

    /// Every build, oldest first.
    public func builds() async throws -> [Build] {
        try await read { db in try Build.order(Column("id")).fetchAll(db) }
    }

    /// The build with `id`.
    public func build(_ id: Int64) async throws -> Build {
        let path = path
        return try await read { db in
            guard let build = try Build.fetchOne(db, key: id) else { throw Self.unknownBuild("\(id)", path: path) }
            return build
        }
    }

    /// The build named by `reference`: its id, its label, or a prefix of its
    /// SHA-256 (at least 6 hex digits) that only it has.
    public func build(matching reference: String) async throws -> Build {
        let path = path
        return try await read { db in
            if let id = Int64(reference), let build = try Build.fetchOne(db, key: id) { return build }
            let byLabel = try Build.filter(Column("label") == reference).fetchAll(db)
            if byLabel.count == 1 { return byLabel[0] }
            if reference.count >= 6 {
                let prefix = reference.lowercased()
                let bySHA = try Build.filter(Column("sha256").like("\(prefix)%")).fetchAll(db)
                if bySHA.count == 1 { return bySHA[0] }
                if bySHA.count > 1 {
                    throw BaselineStoreError(.unknownBuild, "build \(reference) is ambiguous in \(path) (\(bySHA.count) builds); give more of its SHA-256")
                }
            }
            if byLabel.count > 1 {
                throw BaselineStoreError(.unknownBuild, "label \(reference) names \(byLabel.count) builds in \(path); give a build id or SHA-256")
            }
            throw Self.unknownBuild(reference, path: path)
        }
    }

    // MARK: Runs

    /// Starts a run: stores it with status `running` and returns its id.
    public func beginRun(
        build: Int64, machine: Int64, chain: Int64,
        parameters: BenchParameters = [:], notes: String = "", started: Date = Date()
    ) async throws -> Int64 {
        let path = path
        return try await write { db in
            guard try Build.exists(db, key: build) else { throw Self.unknownBuild("\(build)", path: path) }
            guard try Machine.exists(db, key: machine) else { throw BaselineStoreError(.other, "no machine \(machine) in \(path); record the machine first") }
            guard try Chain.exists(db, key: chain) else { throw BaselineStoreError(.other, "no chain \(chain) in \(path); record the chain first") }
            return try Run.Draft(buildId: build, machineId: machine, chainId: chain, parameters: parameters, started: started, notes: notes)
                .insertReturningID(db)
        }
    }

    /// Adds measured blocks to a running run, all of them in one transaction.
    public func appendBlocks(run: Int64, _ blocks: [BlockMeasurement]) async throws {
        let path = path
        try await write { db in
            let stored = try Self.fetchRun(run, db, path: path)
            guard stored.status == .running else {
                throw BaselineStoreError(.runNotRunning, "run \(run) is \(stored.status.rawValue); blocks can only be added to a running run")
            }
            try Self.insertBlocks(run: run, blocks, db, path: path)
        }
    }

    /// Marks a running run complete, with its wall time; it must have blocks.
    public func completeRun(_ run: Int64, wallSeconds: Double) async throws {
        let path = path
        try await write { db in
            var stored = try Self.fetchRun(run, db, path: path)
            guard stored.status == .running else {
                throw BaselineStoreError(.runNotRunning, "run \(run) is already \(stored.status.rawValue); only a running run can be completed")
            }
            let count = try StoredBlock.filter(Column("run_id") == run).fetchCount(db)
            guard count > 0 else {
                throw BaselineStoreError(.noBlocks, "run \(run) has no blocks; it cannot be completed (mark it failed instead)")
            }
            stored.status = .complete
            stored.wallSeconds = wallSeconds
            try stored.update(db)
        }
    }

    /// Marks a running run failed, adding `reason` to its notes; its blocks are kept.
    public func failRun(_ run: Int64, reason: String? = nil, wallSeconds: Double? = nil) async throws {
        let path = path
        try await write { db in
            var stored = try Self.fetchRun(run, db, path: path)
            guard stored.status == .running else {
                throw BaselineStoreError(.runNotRunning, "run \(run) is already \(stored.status.rawValue); only a running run can be failed")
            }
            stored.status = .failed
            stored.wallSeconds = wallSeconds
            if let reason, !reason.isEmpty {
                stored.notes = stored.notes.isEmpty ? reason : stored.notes + "\n" + reason
            }
            try stored.update(db)
        }
    }

    /// Runs with their build, machine and chain, oldest first; each filter
    /// given narrows the list. Incomplete (running or crashed) runs are included.
    public func runs(build: Int64? = nil, machine: Int64? = nil, chain: Int64? = nil, status: Run.Status? = nil) async throws -> [RunSummary] {
        try await read { db in
            var request = Run.order(Column("started"), Column("id"))
            if let build { request = request.filter(Column("build_id") == build) }
            if let machine { request = request.filter(Column("machine_id") == machine) }
            if let chain { request = request.filter(Column("chain_id") == chain) }
            if let status { request = request.filter(Column("status") == status) }
            return try Self.summaries(try request.fetchAll(db), db)
        }
    }

    /// The run with `id`, with its build, machine, chain and block totals.
    public func run(_ id: Int64) async throws -> RunSummary {
        let path = path
        return try await read { db in
            try Self.summaries([try Self.fetchRun(id, db, path: path)], db)[0]
        }
    }

    /// A run's blocks, by height.
    public func blocks(run: Int64) async throws -> [BlockMeasurement] {
        let path = path
        return try await read { db in
            _ = try Self.fetchRun(run, db, path: path)
            return try StoredBlock.filter(Column("run_id") == run).order(Column("height")).fetchAll(db).map(\.measurement)
        }
    }

    // MARK: Baselines

    /// Makes a complete run the baseline of its chain and machine (replacing the previous one).
    @discardableResult
    public func setBaseline(run: Int64) async throws -> RunSummary {
        let path = path
        try await write { db in
            let stored = try Self.fetchRun(run, db, path: path)
            guard stored.status == .complete else {
                let state = stored.status == .running ? "running (incomplete)" : stored.status.rawValue
                throw BaselineStoreError(.runNotComplete, "run \(run) is \(state); only a complete run can be a baseline")
            }
            try Self.makeBaseline(stored, db)
        }
        return try await self.run(run)
    }

    /// Makes the latest complete run of `build` the baseline of its chain and machine.
    @discardableResult
    public func setBaseline(build: Int64) async throws -> RunSummary {
        let path = path
        let id = try await write { db in
            guard try Build.exists(db, key: build) else { throw Self.unknownBuild("\(build)", path: path) }
            guard let latest = try Run
                .filter(Column("build_id") == build && Column("status") == Run.Status.complete)
                .order(Column("started").desc, Column("id").desc)
                .fetchOne(db)
            else {
                throw BaselineStoreError(.runNotComplete, "build \(build) has no complete run in \(path); benchmark it first")
            }
            try Self.makeBaseline(latest, db)
            return latest.id
        }
        return try await run(id)
    }

    /// The baseline run of `chain` on `machine`, if one was set.
    public func baseline(chain: Int64, machine: Int64) async throws -> RunSummary? {
        try await read { db in
            let runs = try Run
                .filter(Column("chain_id") == chain && Column("machine_id") == machine)
                .filter(Column("is_baseline") == true && Column("status") == Run.Status.complete)
                .order(Column("id").desc)
                .limit(1)
                .fetchAll(db)
            return try Self.summaries(runs, db).first
        }
    }

    // MARK: Access

    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        if isReadOnly {
            let advice = openedForReading ? "open it without forReading to write" : "make it writable or pass another --db"
            throw BaselineStoreError(.readOnly, "cannot write \(path): \(readOnlyReason); \(advice)")
        }
        do {
            return try await pool.write(updates)
        } catch {
            throw BaselineStoreError.map(error, path: path, busyTimeout: busyTimeout, writing: true)
        }
    }

    func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(value)
        } catch {
            throw BaselineStoreError.map(error, path: path, busyTimeout: busyTimeout, writing: false)
        }
    }

    // MARK: Helpers (inside a transaction)

    /// Refuses a database that is not ours or is newer; returns whether migrations are pending.
    private static func checkSchema(_ db: Database, path: String) throws -> Bool {
        let migrator = Schema.migrator
        if try !db.tableExists("grdb_migrations") {
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            if !tables.isEmpty {
                throw BaselineStoreError(.notADatabase, "\(path) is not a tapyrus-trace database (it holds tables \(tables.prefix(5).joined(separator: ", "))); pass another --db")
            }
            return true
        }
        let applied = try migrator.appliedIdentifiers(db)
        let unknown = applied.subtracting(migrator.migrations)
        if !unknown.isEmpty {
            let newest = unknown.compactMap(Schema.version(of:)).max().map { "v\($0)" } ?? unknown.sorted().joined(separator: ", ")
            throw BaselineStoreError(.schemaTooNew, "\(path): database schema \(newest) is newer than this tapyrus-trace (knows up to v\(Schema.latestVersion)); upgrade tapyrus-trace")
        }
        return try !migrator.hasCompletedMigrations(db)
    }

    static func recordBuild(_ build: Build.Draft, _ db: Database) throws -> Build {
        if var stored = try Build.filter(Column("sha256") == build.sha256).fetchOne(db) {
            var changed = false
            if stored.label == nil, build.label != nil { stored.label = build.label; changed = true }
            if stored.flags == nil, build.flags != nil { stored.flags = build.flags; changed = true }
            if changed { try stored.update(db) }
            return stored
        }
        let id = try build.insertReturningID(db)
        return Build(id: id, sha256: build.sha256, version: build.version, flags: build.flags, label: build.label, created: build.created)
    }

    static func recordMachine(_ machine: Machine.Draft, _ db: Database) throws -> Machine {
        if let stored = try Machine.filter(
            Column("host") == machine.host && Column("cpu_model") == machine.cpuModel
                && Column("cores") == machine.cores && Column("kernel") == machine.kernel
        ).fetchOne(db) {
            return stored
        }
        let id = try machine.insertReturningID(db)
        return Machine(id: id, host: machine.host, cpuModel: machine.cpuModel, cores: machine.cores, kernel: machine.kernel)
    }

    static func recordChain(_ chain: Chain.Draft, _ db: Database) throws -> Chain {
        if let stored = try Chain.filter(Column("name") == chain.name && Column("generator_version") == chain.generatorVersion).fetchOne(db) {
            return stored
        }
        let id = try chain.insertReturningID(db)
        return Chain(id: id, name: chain.name, generatorVersion: chain.generatorVersion, parameters: chain.parameters, blockCount: chain.blockCount)
    }

    static func insertBlocks(run: Int64, _ blocks: [BlockMeasurement], _ db: Database, path: String) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO blocks (run_id, height, hash, transactions, inputs, sigops, duration_micros)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        for block in blocks {
            do {
                try statement.execute(arguments: [run, block.height, block.hash, block.transactions, block.inputs, block.sigops, block.durationMicros])
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                throw BaselineStoreError(.duplicateBlock, "run \(run) already has a block at height \(block.height); none of this batch was stored")
            }
        }
    }

    static func fetchRun(_ id: Int64, _ db: Database, path: String) throws -> Run {
        guard let run = try Run.fetchOne(db, key: id) else {
            throw BaselineStoreError(.unknownRun, "no run \(id) in \(path); `tapyrus-trace baseline list` shows its runs")
        }
        return run
    }

    static func unknownBuild(_ reference: String, path: String) -> BaselineStoreError {
        BaselineStoreError(.unknownBuild, "no build \(reference) in \(path); `tapyrus-trace baseline list` shows its builds")
    }

    private static func makeBaseline(_ run: Run, _ db: Database) throws {
        try db.execute(
            sql: "UPDATE runs SET is_baseline = 0 WHERE chain_id = ? AND machine_id = ? AND is_baseline",
            arguments: [run.chainId, run.machineId])
        try db.execute(sql: "UPDATE runs SET is_baseline = 1 WHERE id = ?", arguments: [run.id])
    }

    static func summaries(_ runs: [Run], _ db: Database) throws -> [RunSummary] {
        if runs.isEmpty { return [] }
        let builds = Dictionary(uniqueKeysWithValues: try Build.fetchAll(db, keys: Set(runs.map(\.buildId))).map { ($0.id, $0) })
        let machines = Dictionary(uniqueKeysWithValues: try Machine.fetchAll(db, keys: Set(runs.map(\.machineId))).map { ($0.id, $0) })
        let chains = Dictionary(uniqueKeysWithValues: try Chain.fetchAll(db, keys: Set(runs.map(\.chainId))).map { ($0.id, $0) })
        var totals: [Int64: (Int, Int64)] = [:]
        let ids = runs.map(\.id)
        let rows = try Row.fetchAll(db, sql: """
            SELECT run_id, COUNT(*) AS count, COALESCE(SUM(duration_micros), 0) AS total FROM blocks
            WHERE run_id IN (\(ids.map { _ in "?" }.joined(separator: ","))) GROUP BY run_id
            """, arguments: StatementArguments(ids))
        for row in rows { totals[row["run_id"]] = (row["count"], row["total"]) }
        return try runs.map { run in
            // The schema's foreign keys keep every run's build, machine and chain.
            guard let build = builds[run.buildId], let machine = machines[run.machineId], let chain = chains[run.chainId] else {
                throw BaselineStoreError(.other, "run \(run.id) refers to a build, machine or chain that is not stored; the database is damaged")
            }
            let total = totals[run.id] ?? (0, 0)
            return RunSummary(run: run, build: build, machine: machine, chain: chain, blockCount: total.0, totalMicros: total.1)
        }
    }

    /// True if `path` may be written: by `access(2)` and, even for root, by its permission bits.
    static func isWritable(_ path: String) -> Bool {
        guard access(path, W_OK) == 0 else { return false }
        var status = stat()
        guard stat(path, &status) == 0 else { return false }
        return status.st_mode & 0o222 != 0
    }
}

extension Machine {
    /// This machine: its host name, CPU model, online cores and kernel release.
    public static func current() -> Machine.Draft {
        let info = ProcessInfo.processInfo
        var cpuModel = "unknown"
        if let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let colon = line.firstIndex(of: ":") {
            cpuModel = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var name = utsname()
        uname(&name)
        let kernel = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        return Machine.Draft(host: info.hostName, cpuModel: cpuModel, cores: info.activeProcessorCount, kernel: kernel)
    }
}

extension BaselineStore {
    /// The tables of the open database, by name (for tests and diagnostics).
    func tableNames() async throws -> [String] {
        try await read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        }
    }

    /// The columns of `table`, in order.
    func columnNames(_ table: String) async throws -> [String] {
        try await read { db in try db.columns(in: table).map(\.name) }
    }

    /// The value of `PRAGMA name` on a reading connection.
    func pragma(_ name: String) async throws -> String? {
        try await read { db in try String.fetchOne(db, sql: "PRAGMA \(name)") }
    }

    /// Runs raw SQL in a write transaction (tests use it to fake other schemas).
    func execute(sql: String) async throws {
        try await write { db in try db.execute(sql: sql) }
    }
}

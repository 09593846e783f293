import Foundation
import GRDB

/// Free-form parameters (a chain generator's, a run's), stored as JSON text.
public typealias BenchParameters = [String: String]

/// The column names of every table: snake_case for the records' camelCase properties.
/// (Public only because the records that adopt it are.)
public protocol SnakeCaseColumns: TableRecord {}

extension FetchableRecord where Self: SnakeCaseColumns {
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
}

extension EncodableRecord where Self: SnakeCaseColumns {
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }
}

/// A record not stored yet: its table's columns but the id, which the
/// database gives it when it is inserted.
protocol RecordDraft: Encodable, PersistableRecord, SnakeCaseColumns {}

extension RecordDraft {
    /// Inserts the draft and returns the id the database gave it.
    func insertReturningID(_ db: Database) throws -> Int64 {
        try insert(db)
        return db.lastInsertedRowID
    }
}

/// A tapyrusd binary, identified by its SHA-256.
public struct Build: Codable, Sendable, Hashable, Identifiable, FetchableRecord, PersistableRecord, SnakeCaseColumns {
    public var id: Int64
    /// Lowercase hex SHA-256 of the binary; unique in a database.
    public var sha256: String
    /// What `tapyrusd -version` says.
    public var version: String
    /// Build type and flags where the binary reveals them (`Debug`, `-O2`).
    public var flags: String?
    /// The user's own name for the build (`master`, `pr-1234`).
    public var label: String?
    public var created: Date

    public static let databaseTableName = "builds"

    /// A build to record with ``BaselineStore/recordBuild(_:)``.
    public struct Draft: Sendable, Hashable, RecordDraft {
        public var sha256: String
        public var version: String
        public var flags: String?
        public var label: String?
        public var created: Date

        public init(sha256: String, version: String, flags: String? = nil, label: String? = nil, created: Date = Date()) {
            self.sha256 = sha256
            self.version = version
            self.flags = flags
            self.label = label
            self.created = created
        }

        public static let databaseTableName = Build.databaseTableName
    }

    /// The user's label, else the first 12 digits of the SHA-256.
    public var displayName: String {
        if let label, !label.isEmpty { return label }
        return String(sha256.prefix(12))
    }

    var draft: Draft { Draft(sha256: sha256, version: version, flags: flags, label: label, created: created) }
}

/// The machine a run was measured on; runs are only compared within one.
public struct Machine: Codable, Sendable, Hashable, Identifiable, FetchableRecord, PersistableRecord, SnakeCaseColumns {
    public var id: Int64
    public var host: String
    public var cpuModel: String
    public var cores: Int
    public var kernel: String

    public static let databaseTableName = "machines"

    /// A machine to record with ``BaselineStore/recordMachine(_:)``.
    public struct Draft: Sendable, Hashable, RecordDraft {
        public var host: String
        public var cpuModel: String
        public var cores: Int
        public var kernel: String

        public init(host: String, cpuModel: String, cores: Int, kernel: String) {
            self.host = host
            self.cpuModel = cpuModel
            self.cores = cores
            self.kernel = kernel
        }

        public static let databaseTableName = Machine.databaseTableName
    }

    var draft: Draft { Draft(host: host, cpuModel: cpuModel, cores: cores, kernel: kernel) }
}

/// A generated chain, identified by its name and its generator's version.
public struct Chain: Codable, Sendable, Hashable, Identifiable, FetchableRecord, PersistableRecord, SnakeCaseColumns {
    public var id: Int64
    public var name: String
    public var generatorVersion: String
    /// The generator's parameters, enough to make the chain again bit for bit.
    public var parameters: BenchParameters
    public var blockCount: Int

    public static let databaseTableName = "chains"

    /// A chain to record with ``BaselineStore/recordChain(_:)``.
    public struct Draft: Sendable, Hashable, RecordDraft {
        public var name: String
        public var generatorVersion: String
        public var parameters: BenchParameters
        public var blockCount: Int

        public init(name: String, generatorVersion: String, parameters: BenchParameters = [:], blockCount: Int) {
            self.name = name
            self.generatorVersion = generatorVersion
            self.parameters = parameters
            self.blockCount = blockCount
        }

        public static let databaseTableName = Chain.databaseTableName
    }

    var draft: Draft { Draft(name: name, generatorVersion: generatorVersion, parameters: parameters, blockCount: blockCount) }
}

/// One benchmark run: one build connecting one chain on one machine.
public struct Run: Codable, Sendable, Hashable, Identifiable, FetchableRecord, PersistableRecord, SnakeCaseColumns {
    /// Where a run is: `running` until completed or failed; a run whose
    /// process crashed stays `running` (incomplete) for ever.
    public enum Status: String, Codable, Sendable, Hashable, DatabaseValueConvertible {
        case running, complete, failed
    }

    public var id: Int64
    /// A random identity that survives export and import (ids are renumbered).
    public var uid: String
    public var buildId: Int64
    public var machineId: Int64
    public var chainId: Int64
    /// The run's settings (heights, threshold, dbcache, par, ...).
    public var parameters: BenchParameters
    public var started: Date
    public var wallSeconds: Double?
    public var status: Status
    public var isBaseline: Bool
    public var notes: String

    public static let databaseTableName = "runs"

    /// A run to store: every column but the id.
    struct Draft: Sendable, Hashable, RecordDraft {
        var uid: String = UUID().uuidString.lowercased()
        var buildId: Int64
        var machineId: Int64
        var chainId: Int64
        var parameters: BenchParameters
        var started: Date
        var wallSeconds: Double?
        var status: Status = .running
        var isBaseline = false
        var notes: String

        static let databaseTableName = Run.databaseTableName
    }

    var draft: Draft {
        Draft(uid: uid, buildId: buildId, machineId: machineId, chainId: chainId, parameters: parameters, started: started,
              wallSeconds: wallSeconds, status: status, isBaseline: isBaseline, notes: notes)
    }
}

/// What the benchmark measured for one connected block.
public struct BlockMeasurement: Codable, Sendable, Hashable {
    public var height: Int
    public var hash: String
    public var transactions: Int
    public var inputs: Int
    public var sigops: Int
    /// How long ConnectBlock took, in microseconds.
    public var durationMicros: Int64

    public init(height: Int, hash: String, transactions: Int, inputs: Int, sigops: Int, durationMicros: Int64) {
        self.height = height
        self.hash = hash
        self.transactions = transactions
        self.inputs = inputs
        self.sigops = sigops
        self.durationMicros = durationMicros
    }
}

/// One stored block measurement of a run (a row of `blocks`).
public struct StoredBlock: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord, SnakeCaseColumns {
    public var runId: Int64
    public var height: Int
    public var hash: String
    public var transactions: Int
    public var inputs: Int
    public var sigops: Int
    public var durationMicros: Int64

    public init(runId: Int64, _ measurement: BlockMeasurement) {
        self.runId = runId
        self.height = measurement.height
        self.hash = measurement.hash
        self.transactions = measurement.transactions
        self.inputs = measurement.inputs
        self.sigops = measurement.sigops
        self.durationMicros = measurement.durationMicros
    }

    /// The measurement without its run.
    public var measurement: BlockMeasurement {
        BlockMeasurement(height: height, hash: hash, transactions: transactions, inputs: inputs, sigops: sigops, durationMicros: durationMicros)
    }

    public static let databaseTableName = "blocks"
}

/// A run with what it ran: its build, machine and chain, and its blocks' totals.
public struct RunSummary: Sendable, Hashable {
    public var run: Run
    public var build: Build
    public var machine: Machine
    public var chain: Chain
    public var blockCount: Int
    /// The sum of the blocks' ConnectBlock durations, in microseconds.
    public var totalMicros: Int64

    /// True for a run that never completed nor failed: still going, or crashed.
    public var isIncomplete: Bool { run.status == .running }
    public var id: Int64 { run.id }
}

import Foundation
import GRDB

/// Free-form parameters (a chain generator's, a run's), stored as JSON text.
public typealias BenchParameters = [String: String]

/// A tapyrusd binary, identified by its SHA-256.
public struct Build: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
    public var id: Int64?
    /// Lowercase hex SHA-256 of the binary; unique in a database.
    public var sha256: String
    /// What `tapyrusd -version` says.
    public var version: String
    /// Build type and flags where the binary reveals them (`Debug`, `-O2`).
    public var flags: String?
    /// The user's own name for the build (`master`, `pr-1234`).
    public var label: String?
    public var created: Date

    public init(id: Int64? = nil, sha256: String, version: String, flags: String? = nil, label: String? = nil, created: Date = Date()) {
        self.id = id
        self.sha256 = sha256
        self.version = version
        self.flags = flags
        self.label = label
        self.created = created
    }

    public static let databaseTableName = "builds"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// The machine a run was measured on; runs are only compared within one.
public struct Machine: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
    public var id: Int64?
    public var host: String
    public var cpuModel: String
    public var cores: Int
    public var kernel: String

    public init(id: Int64? = nil, host: String, cpuModel: String, cores: Int, kernel: String) {
        self.id = id
        self.host = host
        self.cpuModel = cpuModel
        self.cores = cores
        self.kernel = kernel
    }

    public static let databaseTableName = "machines"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A generated chain, identified by its name and its generator's version.
public struct Chain: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
    public var id: Int64?
    public var name: String
    public var generatorVersion: String
    /// The generator's parameters, enough to make the chain again bit for bit.
    public var parameters: BenchParameters
    public var blockCount: Int

    public init(id: Int64? = nil, name: String, generatorVersion: String, parameters: BenchParameters = [:], blockCount: Int) {
        self.id = id
        self.name = name
        self.generatorVersion = generatorVersion
        self.parameters = parameters
        self.blockCount = blockCount
    }

    public static let databaseTableName = "chains"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// One benchmark run: one build connecting one chain on one machine.
public struct Run: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
    /// Where a run is: `running` until completed or failed; a run whose
    /// process crashed stays `running` (incomplete) for ever.
    public enum Status: String, Codable, Sendable, Hashable, DatabaseValueConvertible {
        case running, complete, failed
    }

    public var id: Int64?
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

    public init(
        id: Int64? = nil, uid: String = UUID().uuidString.lowercased(), buildId: Int64, machineId: Int64, chainId: Int64,
        parameters: BenchParameters = [:], started: Date = Date(), wallSeconds: Double? = nil,
        status: Status = .running, isBaseline: Bool = false, notes: String = ""
    ) {
        self.id = id
        self.uid = uid
        self.buildId = buildId
        self.machineId = machineId
        self.chainId = chainId
        self.parameters = parameters
        self.started = started
        self.wallSeconds = wallSeconds
        self.status = status
        self.isBaseline = isBaseline
        self.notes = notes
    }

    public static let databaseTableName = "runs"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
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
public struct Block: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
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
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
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
    public var id: Int64 { run.id ?? 0 }
}

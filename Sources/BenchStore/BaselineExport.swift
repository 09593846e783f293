import Foundation
import GRDB

/// A whole baseline database as one JSON document, to merge runs from several machines.
///
/// Ids are those of the exporting database; blocks and runs refer to them.
/// Importing renumbers runs and matches builds by SHA-256, machines by
/// identity and chains by name and generator version.
public struct BaselineExport: Codable, Sendable, Hashable {
    /// Always `tapyrus-trace-baselines`.
    public var format: String
    /// The schema version of the exporting database.
    public var schemaVersion: Int
    public var exported: Date
    public var builds: [Build]
    public var machines: [Machine]
    public var chains: [Chain]
    public var runs: [Run]
    public var blocks: [StoredBlock]

    public static let formatName = "tapyrus-trace-baselines"

    /// Encodes the document as pretty, key-sorted JSON with ISO 8601 dates.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        return try encoder.encode(self)
    }

    /// Decodes a document written by ``jsonData()``; `source` names it in errors.
    public static func decode(_ data: Data, source: String) throws -> BaselineExport {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
            return try Date.ISO8601FormatStyle().parse(text)
        }
        let document: BaselineExport
        do {
            document = try decoder.decode(BaselineExport.self, from: data)
        } catch {
            throw BaselineStoreError(.badExport, "\(source) is not a tapyrus-trace baseline export (\(Self.describe(error)))")
        }
        guard document.format == formatName else {
            throw BaselineStoreError(.badExport, "\(source) is not a tapyrus-trace baseline export (format \"\(document.format)\")")
        }
        guard document.schemaVersion <= Schema.latestVersion else {
            throw BaselineStoreError(.schemaTooNew, "\(source): export schema v\(document.schemaVersion) is newer than this tapyrus-trace (knows up to v\(Schema.latestVersion)); upgrade tapyrus-trace")
        }
        return document
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context): return context.debugDescription
        case DecodingError.keyNotFound(let key, _): return "no \(key.stringValue)"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        default: return "\(error)"
        }
    }
}

/// What an import added to the database, and what it already had.
public struct ImportSummary: Sendable, Hashable {
    public var buildsAdded = 0
    public var machinesAdded = 0
    public var chainsAdded = 0
    public var runsAdded = 0
    /// Runs already in the database (same uid), left as they were.
    public var runsSkipped = 0
    public var blocksAdded = 0
    /// Old run id (in the export) → new run id (in this database), for added runs.
    public var runIds: [Int64: Int64] = [:]
}

extension BaselineStore {
    /// The whole database as one document.
    public func export() async throws -> BaselineExport {
        try await read { db in
            BaselineExport(
                format: BaselineExport.formatName,
                schemaVersion: Schema.latestVersion,
                exported: Date(),
                builds: try Build.order(Column("id")).fetchAll(db),
                machines: try Machine.order(Column("id")).fetchAll(db),
                chains: try Chain.order(Column("id")).fetchAll(db),
                runs: try Run.order(Column("id")).fetchAll(db),
                blocks: try StoredBlock.order(Column("run_id"), Column("height")).fetchAll(db)
            )
        }
    }

    /// Writes the whole database as JSON to `url`.
    public func exportJSON(to url: URL) async throws {
        let data = try await export().jsonData()
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw BaselineStoreError(.other, "cannot write \(url.path): \((error as NSError).localizedDescription)")
        }
    }

    /// Reads an export written by ``exportJSON(to:)`` and merges it; see ``import(_:)``.
    @discardableResult
    public func importJSON(from url: URL) async throws -> ImportSummary {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw BaselineStoreError(.badExport, "cannot read \(url.path): \((error as NSError).localizedDescription)")
        }
        return try await `import`(BaselineExport.decode(data, source: url.path))
    }

    /// Merges `document` into this database in one transaction: all of it or nothing.
    ///
    /// Builds, machines and chains already here are reused; runs already here
    /// (same uid) are skipped, so importing twice changes nothing; new runs
    /// get new ids. An imported baseline stays one only where this database
    /// has no baseline for its chain and machine.
    @discardableResult
    public func `import`(_ document: BaselineExport) async throws -> ImportSummary {
        try Self.validate(document)
        return try await write { db in
            var summary = ImportSummary()
            var builds: [Int64: Int64] = [:]
            var machines: [Int64: Int64] = [:]
            var chains: [Int64: Int64] = [:]
            for build in document.builds {
                let existed = try Build.filter(Column("sha256") == build.sha256).fetchCount(db) > 0
                builds[build.id] = try Self.recordBuild(build.draft, db).id
                if !existed { summary.buildsAdded += 1 }
            }
            for machine in document.machines {
                let before = try Machine.fetchCount(db)
                machines[machine.id] = try Self.recordMachine(machine.draft, db).id
                if try Machine.fetchCount(db) > before { summary.machinesAdded += 1 }
            }
            for chain in document.chains {
                let before = try Chain.fetchCount(db)
                chains[chain.id] = try Self.recordChain(chain.draft, db).id
                if try Chain.fetchCount(db) > before { summary.chainsAdded += 1 }
            }
            let blocksByRun = Dictionary(grouping: document.blocks, by: \.runId)
            for run in document.runs {
                if try Run.filter(Column("uid") == run.uid).fetchCount(db) > 0 {
                    summary.runsSkipped += 1
                    continue
                }
                // validate(_:) checked that every run's build, machine and chain is in the export.
                guard let build = builds[run.buildId], let machine = machines[run.machineId], let chain = chains[run.chainId] else {
                    throw BaselineStoreError(.badExport, "the export is inconsistent: run \(run.id) refers to a build, machine or chain it does not contain; export it again")
                }
                var fresh = run.draft
                fresh.buildId = build
                fresh.machineId = machine
                fresh.chainId = chain
                if fresh.isBaseline {
                    let taken = try Run.filter(
                        Column("chain_id") == fresh.chainId && Column("machine_id") == fresh.machineId && Column("is_baseline") == true
                    ).fetchCount(db) > 0
                    if taken || fresh.status != .complete { fresh.isBaseline = false }
                }
                let id = try fresh.insertReturningID(db)
                let blocks = blocksByRun[run.id] ?? []
                try Self.insertBlocks(run: id, blocks.map(\.measurement), db, path: "import")
                summary.runsAdded += 1
                summary.blocksAdded += blocks.count
                summary.runIds[run.id] = id
            }
            return summary
        }
    }

    /// Checks that every reference in `document` points into it.
    static func validate(_ document: BaselineExport) throws {
        func bad(_ text: String) -> BaselineStoreError { BaselineStoreError(.badExport, "the export is inconsistent: \(text); export it again") }
        let builds = Set(document.builds.map(\.id))
        let machines = Set(document.machines.map(\.id))
        let chains = Set(document.chains.map(\.id))
        let runs = Set(document.runs.map(\.id))
        if builds.count != document.builds.count || machines.count != document.machines.count
            || chains.count != document.chains.count || runs.count != document.runs.count {
            throw bad("a build, machine, chain or run with a repeated id")
        }
        for run in document.runs {
            if !builds.contains(run.buildId) { throw bad("run \(run.id) refers to build \(run.buildId), which it does not contain") }
            if !machines.contains(run.machineId) { throw bad("run \(run.id) refers to machine \(run.machineId), which it does not contain") }
            if !chains.contains(run.chainId) { throw bad("run \(run.id) refers to chain \(run.chainId), which it does not contain") }
        }
        for block in document.blocks where !runs.contains(block.runId) {
            throw bad("a block at height \(block.height) refers to run \(block.runId), which it does not contain")
        }
    }
}

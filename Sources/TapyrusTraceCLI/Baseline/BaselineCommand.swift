import ArgumentParser
import BenchStore
import ConnectBlockBench
import Foundation
import TraceHarness

/// `tapyrus-trace baseline`: the stored connectblock runs, their baselines, and regression checks.
struct BaselineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "List, show, export and compare the stored ConnectBlock runs; set baselines.",
        discussion: """
            Runs are stored by `tapyrus-trace connectblock --store`. The database \
            is \(BaselineDatabaseOptions.defaultDescription) unless --db is given. \
            list, show, export, compare and report open it read-only and do not \
            wait for another process's write transaction; set-baseline and \
            import wait up to --busy-timeout seconds (5) for the write lock. \
            Errors exit with status 2; `compare` exits 1 on a regression.
            """,
        subcommands: [
            BaselineListCommand.self, BaselineShowCommand.self, BaselineSetCommand.self,
            BaselineExportCommand.self, BaselineImportCommand.self, BaselineCompareCommand.self, BaselineReportCommand.self,
        ]
    )
}

/// `--db PATH` and `--busy-timeout SECONDS`, shared by every `baseline` subcommand.
struct BaselineDatabaseOptions: ParsableArguments {
    static let environmentVariable = "TAPYRUS_TRACE_DB"
    static let defaultDescription =
        "$\(environmentVariable) if set, else ~/.local/share/tapyrus-trace/baselines.sqlite (its directory made on demand)"
    static let defaultBusyTimeout: Double = 5

    @Option(name: .customLong("db"), help: ArgumentHelp(
        "The baselines database (SQLite). Default: \(defaultDescription).", valueName: "path"))
    var db: String?

    @Option(name: .customLong("busy-timeout"), help: ArgumentHelp(
        "How long to wait for another process holding the database's write lock before failing, in seconds (0 fails at once).",
        valueName: "seconds"))
    var busyTimeout: Double = defaultBusyTimeout

    /// Where the database path came from.
    enum Source {
        case option, environment, builtIn
    }

    /// The database path and where it came from.
    var resolved: (path: String, source: Source) {
        if let db { return (db, .option) }
        if let fromEnvironment = ProcessInfo.processInfo.environment[Self.environmentVariable], !fromEnvironment.isEmpty {
            return (fromEnvironment, .environment)
        }
        let home = ProcessInfo.processInfo.environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.path
        return ("\(home)/.local/share/tapyrus-trace/baselines.sqlite", .builtIn)
    }

    var path: String { resolved.path }

    /// Checks the options that the parser cannot: an empty --db, a bad --busy-timeout.
    func check() throws {
        if db?.isEmpty == true {
            throw CommandFailure("--db is empty; give the path of a baselines database file")
        }
        if !(busyTimeout >= 0 && busyTimeout.isFinite) {
            throw CommandFailure("--busy-timeout must be a number of seconds, 0 or more (5 is the default)")
        }
    }

    /// Whether the database file exists. A path given by --db or
    /// $TAPYRUS_TRACE_DB whose directory does not exist is an error rather
    /// than an empty database: it is a mistyped path.
    func exists() throws -> Bool {
        try check()
        let (path, source) = resolved
        if FileManager.default.fileExists(atPath: path) { return true }
        if source != .builtIn {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
                throw failure("\(path): directory \(directory) does not exist; check the path or pass another --db", source)
            }
            if !isDirectory.boolValue {
                throw failure("\(path): \(directory) is a file, not a directory; check the path or pass another --db", source)
            }
        }
        return false
    }

    /// Opens the database. With `mustExist`, a missing file is an error
    /// rather than a new, empty database; with `forReading`, opening takes no
    /// write lock (see ``BaselineStore/init(path:busyTimeout:forReading:)``).
    func open(mustExist: Bool, forReading: Bool = false) throws -> BaselineStore {
        let (path, source) = resolved
        if try !exists() {
            if mustExist {
                throw failure("no baselines database at \(path); store runs with `tapyrus-trace connectblock --store \(path)` or pass --db", source)
            }
            if source == .builtIn {
                let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
                do {
                    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                } catch {
                    throw CommandFailure("cannot create \(directory.path): \((error as NSError).localizedDescription); pass --db")
                }
            }
        }
        do {
            return try BaselineStore(path: path, busyTimeout: busyTimeout, forReading: forReading)
        } catch let error as BaselineStoreError where source == .environment {
            throw CommandFailure(error.description + Self.fromEnvironment + Baseline.advice(for: error))
        }
    }

    private static let fromEnvironment = " (the path is $\(environmentVariable))"

    private func failure(_ message: String, _ source: Source) -> CommandFailure {
        CommandFailure(source == .environment ? message + Self.fromEnvironment : message)
    }
}

/// Helpers shared by the `baseline` subcommands.
enum Baseline {
    /// Runs `body`; an error becomes one line on standard error and exit status 2.
    static func guarded(_ body: () async throws -> Void) async throws {
        do {
            try await body()
            Output.flush()
        } catch let error as ExitCode {
            Output.flush()
            throw error
        } catch let error as CleanExit {
            throw error
        } catch {
            Output.flush()
            Output.note("Error: \(message(error))")
            throw ExitCode(2)
        }
    }

    /// Refuses, before any work, an output file that cannot be written: no
    /// name, a directory, or a directory that does not exist.
    static func checkOutputFile(_ file: String) throws {
        guard !file.isEmpty else { throw CommandFailure("an empty output file name; give the path of the file to write") }
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        if fileManager.fileExists(atPath: file, isDirectory: &isDirectory), isDirectory.boolValue {
            throw CommandFailure("cannot write \(file): it is a directory; give the path of a file")
        }
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent().path
        if !fileManager.fileExists(atPath: directory, isDirectory: &isDirectory) {
            throw CommandFailure("cannot write \(file): directory \(directory) does not exist")
        }
        if !isDirectory.boolValue {
            throw CommandFailure("cannot write \(file): \(directory) is a file, not a directory")
        }
    }

    /// What the command line adds to a store's error: the option that helps.
    static func advice(for error: BaselineStoreError) -> String {
        error.kind == .locked ? ", or raise --busy-timeout" : ""
    }

    static func message(_ error: any Error) -> String {
        switch error {
        case let error as BaselineStoreError: error.description + advice(for: error)
        case let error as StatisticsError: error.description
        case let error as CommandFailure: error.description
        default: (error as? LocalizedError)?.errorDescription ?? String(describing: error)
        }
    }

    /// A run or a build, as given on the command line.
    enum Reference {
        case run(Int64)
        case build(String)
    }

    /// `run:N` and `build:REF` say which; a bare number is a run id if such a
    /// run exists; anything else names a build (id, label or SHA-256 prefix).
    static func resolve(_ text: String, in store: BaselineStore) async throws -> Reference {
        if text.hasPrefix("run:") {
            guard let id = Int64(text.dropFirst(4)) else { throw CommandFailure("'\(text)': run: must be followed by a run id") }
            return .run(id)
        }
        if text.hasPrefix("build:") { return .build(String(text.dropFirst(6))) }
        if let id = Int64(text) {
            if (try? await store.run(id)) != nil { return .run(id) }
            if (try? await store.build(matching: text)) != nil { return .build(text) }
            throw CommandFailure("no run or build \(text) in \(store.path); `tapyrus-trace baseline list` shows its runs")
        }
        guard !text.isEmpty else { throw CommandFailure("an empty run or build reference; give a run id or a build label, id or SHA-256 prefix") }
        return .build(text)
    }

    // MARK: Formatting

    static func status(_ run: Run) -> String {
        run.status == .running ? "incomplete" : run.status.rawValue
    }

    static func date(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static func describe(_ summary: RunSummary) -> String {
        "run \(summary.id) (build \(summary.build.displayName), \(summary.build.version), chain \(summary.chain.name), host \(summary.machine.host), \(date(summary.run.started)))"
    }

    /// Pads `rows` into left-aligned columns separated by two spaces.
    static func table(_ rows: [[String]]) -> [String] {
        guard let width = rows.map(\.count).max() else { return [] }
        let widths = (0..<width).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: max(0, widths[index] - cell.count))
            }.joined(separator: "  ")
        }
    }

    static func jsonLine<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// A run in JSON.
    struct RunJSON: Codable {
        struct BuildJSON: Codable { var id: Int64?; var sha256: String; var version: String; var flags: String?; var label: String? }
        struct MachineJSON: Codable { var id: Int64?; var host: String; var cpuModel: String; var cores: Int; var kernel: String }
        struct ChainJSON: Codable { var id: Int64?; var name: String; var generatorVersion: String; var blockCount: Int }
        var id: Int64
        var uid: String
        var build: BuildJSON
        var machine: MachineJSON
        var chain: ChainJSON
        var started: Date
        var wallSeconds: Double?
        var status: String
        var incomplete: Bool
        var baseline: Bool
        var blocks: Int
        var totalMicros: Int64
        var parameters: [String: String]
        var notes: String

        init(_ s: RunSummary) {
            id = s.id
            uid = s.run.uid
            build = BuildJSON(id: s.build.id, sha256: s.build.sha256, version: s.build.version, flags: s.build.flags, label: s.build.label)
            machine = MachineJSON(id: s.machine.id, host: s.machine.host, cpuModel: s.machine.cpuModel, cores: s.machine.cores, kernel: s.machine.kernel)
            chain = ChainJSON(id: s.chain.id, name: s.chain.name, generatorVersion: s.chain.generatorVersion, blockCount: s.chain.blockCount)
            started = s.run.started
            wallSeconds = s.run.wallSeconds
            status = Baseline.status(s.run)
            incomplete = s.isIncomplete
            baseline = s.run.isBaseline
            blocks = s.blockCount
            totalMicros = s.totalMicros
            parameters = s.run.parameters
            notes = s.run.notes
        }
    }
}

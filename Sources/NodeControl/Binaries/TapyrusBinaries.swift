import Foundation

/// Why the tapyrus binaries could not be used.
public struct BinaryLookupError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong with the candidate.
    public enum Problem: Sendable, Equatable {
        /// No file at any searched place.
        case missing
        /// A file exists but is not executable (or is a directory).
        case notExecutable
        /// It ran but does not identify itself as the expected program.
        case notTapyrus(output: String)
        /// A caller-supplied requirement failed (e.g. "built with USDT probes").
        case requirementFailed(String)
    }

    /// The program looked for, e.g. `tapyrusd`.
    public var program: String
    /// Where it was looked for, in order.
    public var searched: [String]
    /// What was wrong.
    public var problem: Problem

    public var description: String {
        let places = searched.joined(separator: ", ")
        switch problem {
        case .missing:
            return "\(program) not found; looked in: \(places). Set TAPYRUSD to the tapyrusd path or put it on PATH"
        case .notExecutable:
            return "\(program) at \(places) is not an executable file (check permissions)"
        case let .notTapyrus(output):
            return "\(places) does not look like \(program): '--version' printed '\(output.prefix(120).oneLine)'"
        case let .requirementFailed(reason):
            return "\(program) at \(places) cannot be used: \(reason)"
        }
    }
}

/// The paths of tapyrusd and the tools beside it.
///
/// `TAPYRUSD` names the tapyrusd to use (tapyrus-genesis and tapyrus-cli are
/// taken from the same directory); otherwise all are searched on `PATH`.
public struct TapyrusBinaries: Sendable, Hashable {
    /// The environment variable naming the tapyrusd to use.
    public static let environmentVariable = "TAPYRUSD"

    /// Absolute path of tapyrusd.
    public var tapyrusd: String
    /// Absolute path of tapyrus-genesis.
    public var tapyrusGenesis: String
    /// Absolute path of tapyrus-cli, if present beside tapyrusd.
    public var tapyrusCLI: String?

    /// Uses explicit paths.
    public init(tapyrusd: String, tapyrusGenesis: String, tapyrusCLI: String? = nil) {
        self.tapyrusd = tapyrusd
        self.tapyrusGenesis = tapyrusGenesis
        self.tapyrusCLI = tapyrusCLI
    }

    /// Finds the binaries through `TAPYRUSD` or `PATH`, checking that each exists and is executable.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws(BinaryLookupError) -> TapyrusBinaries {
        let tapyrusd: String
        if let explicit = environment[environmentVariable], !explicit.isEmpty {
            tapyrusd = try checkExecutable(program: "tapyrusd", at: [explicit], note: "from \(environmentVariable)")
        } else {
            let directories = (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map(String.init)
            tapyrusd = try checkExecutable(program: "tapyrusd", at: directories.map { "\($0)/tapyrusd" }, note: "on PATH")
        }
        let directory = (tapyrusd as NSString).deletingLastPathComponent
        let genesis = try checkExecutable(program: "tapyrus-genesis", at: ["\(directory)/tapyrus-genesis"],
                                          note: "beside tapyrusd")
        let cli = "\(directory)/tapyrus-cli"
        return TapyrusBinaries(tapyrusd: tapyrusd, tapyrusGenesis: genesis,
                               tapyrusCLI: FileManager.default.isExecutableFile(atPath: cli) ? cli : nil)
    }

    /// The binaries if they can be found, else `nil` (for test conditions).
    public static var available: TapyrusBinaries? { try? locate() }

    /// Runs `tapyrusd --version` and checks that it reports Tapyrus Core.
    ///
    /// - Returns: the first line of the version output, e.g. `Tapyrus Core Daemon version v0.7.2`.
    @discardableResult
    public func verifyIdentity() async throws -> String {
        let output = try await ProcessRunner.run(tapyrusd, arguments: ["--version"])
        let firstLine = output.standardOutput.split(separator: "\n").first.map(String.init) ?? ""
        guard output.exitCode == 0, firstLine.contains("Tapyrus") else {
            throw BinaryLookupError(program: "tapyrusd", searched: [tapyrusd],
                                    problem: .notTapyrus(output: firstLine.isEmpty ? output.standardError : firstLine))
        }
        return firstLine
    }

    /// Checks that tapyrusd and tapyrus-genesis exist and are executable (for paths given explicitly).
    public func validate() throws(BinaryLookupError) {
        _ = try Self.checkExecutable(program: "tapyrusd", at: [tapyrusd], note: "as given")
        _ = try Self.checkExecutable(program: "tapyrus-genesis", at: [tapyrusGenesis], note: "as given")
    }

    /// Applies a caller's requirement to the tapyrusd path (e.g. "has USDT notes"),
    /// turning a failure into a ``BinaryLookupError``.
    ///
    /// - Parameter check: Returns `nil` when satisfied, else the reason it is not.
    public func require(_ check: (String) throws -> String?) throws {
        if let reason = try check(tapyrusd) {
            throw BinaryLookupError(program: "tapyrusd", searched: [tapyrusd], problem: .requirementFailed(reason))
        }
    }

    private static func checkExecutable(program: String, at candidates: [String], note: String) throws(BinaryLookupError) -> String {
        let manager = FileManager.default
        var present: String?
        for candidate in candidates {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: candidate, isDirectory: &isDirectory) else { continue }
            if !isDirectory.boolValue, manager.isExecutableFile(atPath: candidate) {
                return URL(fileURLWithPath: candidate).standardizedFileURL.path
            }
            present = present ?? candidate
        }
        if let present {
            throw BinaryLookupError(program: program, searched: [present], problem: .notExecutable)
        }
        throw BinaryLookupError(program: program, searched: candidates.isEmpty ? ["(\(note): nothing)"] : candidates,
                                problem: .missing)
    }
}

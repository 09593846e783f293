import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs short-lived helper programs (tapyrus-genesis, `--version`,
/// `sha256sum`) to completion, without blocking a thread while they run.
public enum ProcessRunner {
    /// What a finished program left.
    public struct Output: Sendable {
        /// Its exit status, or nil when a signal ended it.
        public var exitCode: Int32?
        public var standardOutput: String
        public var standardError: String
    }

    /// Runs `path` with `arguments` and collects its output (up to 1 MiB each).
    public static func run(_ path: String, arguments: [String]) async throws -> Output {
        let result = try await Subprocess.run(
            .path(FilePath(path)), arguments: Arguments(arguments),
            output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
        let code: Int32? = if case let .exited(code) = result.terminationStatus { Int32(code) } else { nil }
        return Output(exitCode: code, standardOutput: result.standardOutput, standardError: result.standardError)
    }
}

import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs short-lived helper programs (tapyrus-genesis, `--version`) to completion.
enum ProcessRunner {
    struct Output: Sendable {
        var exitCode: Int32?
        var standardOutput: String
        var standardError: String
    }

    static func run(_ path: String, arguments: [String]) async throws -> Output {
        let result = try await Subprocess.run(
            .path(FilePath(path)), arguments: Arguments(arguments),
            output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
        let code: Int32? = if case let .exited(code) = result.terminationStatus { Int32(code) } else { nil }
        return Output(exitCode: code, standardOutput: result.standardOutput, standardError: result.standardError)
    }
}

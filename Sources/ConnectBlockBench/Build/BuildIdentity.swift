import Foundation
import NodeControl
import TapyrusEncoding

/// What identifies a tapyrusd build in stored benchmark runs.
public struct BuildIdentity: Sendable, Hashable, Codable {
    /// SHA-256 of the binary's bytes, hex.
    public var sha256: String
    /// The first line of `tapyrusd --version`, when it could be run.
    public var version: String?
    public var path: String

    /// Hashes the binary at `path` and asks it for its version.
    public static func of(binary path: String) async throws -> BuildIdentity {
        let version = try? await TapyrusBinaries(tapyrusd: path, tapyrusGenesis: "").verifyIdentity()
        return BuildIdentity(sha256: try await sha256(of: path), version: version, path: path)
    }

    /// `sha256sum`'s digest of `path`, or nil if it is missing or failed.
    private static func coreutilsDigest(of path: String) async -> String? {
        let tool = "/usr/bin/sha256sum"
        guard FileManager.default.isExecutableFile(atPath: tool),
              let output = try? await ProcessRunner.run(tool, arguments: [path]), output.exitCode == 0,
              let digest = output.standardOutput.split(separator: " ").first, digest.count == 64 else { return nil }
        return String(digest)
    }

    /// The SHA-256 of a file: coreutils' `sha256sum` when present (a
    /// 150 MB tapyrusd takes it well under a second), else our own SHA-256.
    static func sha256(of path: String) async throws -> String {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw BenchChainError.unreadable(path: path, purpose: "identify the build")
        }
        if let digest = await coreutilsDigest(of: path) { return digest }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw BenchChainError.unreadable(path: path, purpose: "identify the build")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(chunk)
        }
        return hasher.finalize().hexString
    }
}

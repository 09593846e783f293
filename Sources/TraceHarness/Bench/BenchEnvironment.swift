import Foundation
import NodeControl

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
    /// Launched and waited for on the same thread (Foundation's rule).
    private static func coreutilsDigest(of path: String) -> String? {
        let tool = "/usr/bin/sha256sum"
        guard FileManager.default.isExecutableFile(atPath: tool) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = [path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let digest = String(decoding: data, as: UTF8.self).split(separator: " ").first,
              digest.count == 64 else { return nil }
        return String(digest)
    }

    /// The SHA-256 of a file: coreutils' `sha256sum` when present (a
    /// 150 MB tapyrusd takes it well under a second), else our own SHA-256.
    static func sha256(of path: String) async throws -> String {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw BenchChainError.unreadable(path: path, purpose: "identify the build")
        }
        if let digest = coreutilsDigest(of: path) { return digest }
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

/// What identifies the machine a benchmark ran on.
public struct MachineIdentity: Sendable, Hashable, Codable {
    public var host: String
    public var cpuModel: String
    public var cores: Int
    public var kernel: String

    /// This machine.
    public static var current: MachineIdentity {
        var name = utsname()
        uname(&name)
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n")
            .first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        return MachineIdentity(host: text(name.nodename), cpuModel: model,
                               cores: ProcessInfo.processInfo.activeProcessorCount,
                               kernel: "\(text(name.sysname)) \(text(name.release))")
    }
}

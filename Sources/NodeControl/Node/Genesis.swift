import Foundation
import TapyrusEncoding

/// Makes dev genesis blocks with tapyrus-genesis, once per key and tool per process.
///
/// Nodes meant to form one network must share a genesis block; the cache makes
/// every node of a harness process share the one made for its signing key.
public actor GenesisFactory {
    /// The factory shared by all nodes of this process.
    public static let shared = GenesisFactory()

    private var blocks: [String: Task<String, Error>] = [:]

    /// Returns the hex genesis block for `key`, making it on first use.
    public func genesisHex(key: SigningKey, binaries: TapyrusBinaries) async throws -> String {
        let cacheKey = "\(binaries.tapyrusGenesis)|\(key.publicKey)"
        if let existing = blocks[cacheKey] { return try await existing.value }
        let task = Task { try await Self.make(key: key, tool: binaries.tapyrusGenesis) }
        blocks[cacheKey] = task
        do {
            return try await task.value
        } catch {
            blocks[cacheKey] = nil
            throw error
        }
    }

    /// Runs `tapyrus-genesis -dev` for `key` and returns the block's hex.
    ///
    /// - Parameter time: the block's time (UNIX seconds); the current time when `nil`.
    ///   With a fixed time, the same key and tool make the same block every time.
    public static func make(key: SigningKey, tool: String, time: Int64? = nil) async throws -> String {
        var arguments = ["-dev", "-signblockpubkey=\(key.publicKey)", "-signblockprivatekey=\(key.privateKeyWIF)"]
        if let time { arguments.append("-time=\(time)") }
        let output: ProcessRunner.Output
        do {
            output = try await ProcessRunner.run(tool, arguments: arguments)
        } catch {
            throw NodeError(.genesisFailed("\(tool) could not run: \(error)"))
        }
        let hex = output.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        guard output.exitCode == 0, !hex.isEmpty, Hex.decode(hex) != nil else {
            let detail = [output.standardError, output.standardOutput].joined(separator: " ")
                .split(whereSeparator: \.isNewline).joined(separator: " | ")
            throw NodeError(.genesisFailed("exit \(output.exitCode.map(String.init) ?? "by signal"): \(detail.prefix(300))"))
        }
        return hex
    }
}

import Foundation
import NodeControl
import TapyrusEncoding

/// Where generated benchmark chains are kept: one folder per chain, named by
/// the chain's name and ``BenchChainSpec/cacheKey``, holding `genesis.dat`,
/// `blocks.dat` and `manifest.json`.
public struct BenchChainCache: Sendable, Hashable {
    /// The environment variable naming the cache folder.
    public static let environmentVariable = "TAPYRUS_TRACE_CHAINS"
    static let blocksFileName = "blocks.dat"
    static let genesisFileName = "genesis.dat"
    static let manifestFileName = "manifest.json"

    /// The cache's folder.
    public var root: String

    /// A cache in `root`.
    public init(root: String) {
        self.root = root
    }

    /// The default cache: `$TAPYRUS_TRACE_CHAINS`, else
    /// `$XDG_CACHE_HOME/tapyrus-trace/chains`, else `~/.cache/tapyrus-trace/chains`.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> BenchChainCache {
        if let root = environment[environmentVariable], !root.isEmpty { return BenchChainCache(root: root) }
        if let cache = environment["XDG_CACHE_HOME"], !cache.isEmpty { return BenchChainCache(root: "\(cache)/tapyrus-trace/chains") }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return BenchChainCache(root: "\(home)/.cache/tapyrus-trace/chains")
    }

    /// The folder of the chain made from `spec`.
    public func folder(for spec: BenchChainSpec) -> String {
        "\(root)/\(spec.name)-\(spec.cacheKey)"
    }

    /// Whether the chain made from `spec` has a folder in the cache.
    public func contains(_ spec: BenchChainSpec) -> Bool {
        FileManager.default.fileExists(atPath: "\(folder(for: spec))/\(Self.manifestFileName)")
    }

    /// The chain made from `spec`, after checking its files against its manifest
    /// (the block file's size and SHA-256).
    ///
    /// - Throws: ``BenchChainError/missing(name:folder:)`` when it was never made,
    ///   ``BenchChainError/damaged(folder:problem:)`` when a file is missing,
    ///   unreadable or not what the manifest says.
    public func load(_ spec: BenchChainSpec) async throws(BenchChainError) -> CachedBenchChain {
        let folder = folder(for: spec)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .missing(name: spec.name, folder: folder)
        }
        let manifest: BenchChainManifest
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(Self.manifestFileName)"))
            manifest = try Self.decoder.decode(BenchChainManifest.self, from: data)
        } catch let error as DecodingError {
            throw .damaged(folder: folder, problem: "\(Self.manifestFileName) is not a manifest: \(Self.describe(error))")
        } catch {
            throw .damaged(folder: folder, problem: "cannot read \(Self.manifestFileName): \(error.localizedDescription)")
        }
        guard manifest.cacheKey == spec.cacheKey, manifest.spec == spec,
              manifest.generatorVersion == BenchChainSpec.generatorVersion else {
            throw .damaged(folder: folder, problem: "its manifest describes another chain (key \(manifest.cacheKey), expected \(spec.cacheKey))")
        }
        let genesisPath = "\(folder)/\(Self.genesisFileName)"
        guard let genesisData = FileManager.default.contents(atPath: genesisPath) else {
            throw .damaged(folder: folder, problem: "\(Self.genesisFileName) is missing")
        }
        let genesis = String(decoding: genesisData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !genesis.isEmpty, genesis.count % 2 == 0, genesis.allSatisfy(\.isHexDigit) else {
            throw .damaged(folder: folder, problem: "\(Self.genesisFileName) is not a hex block")
        }
        let blocksPath = "\(folder)/\(Self.blocksFileName)"
        let size: Int
        do {
            size = (try FileManager.default.attributesOfItem(atPath: blocksPath)[.size] as? NSNumber)?.intValue ?? -1
        } catch {
            throw .damaged(folder: folder, problem: "\(Self.blocksFileName) is missing")
        }
        guard size == manifest.blocksFileBytes else {
            throw .damaged(folder: folder, problem: "\(Self.blocksFileName) has \(size) bytes, the manifest says \(manifest.blocksFileBytes)")
        }
        let digest: String
        do {
            digest = try await BuildIdentity.sha256(of: blocksPath)
        } catch {
            throw .damaged(folder: folder, problem: "cannot read \(Self.blocksFileName)")
        }
        guard digest == manifest.blocksSHA256 else {
            throw .damaged(folder: folder, problem: "\(Self.blocksFileName) has SHA-256 \(digest.prefix(16))…, the manifest says \(manifest.blocksSHA256.prefix(16))…")
        }
        guard Self.firstRecord(ofFileAt: blocksPath) == Hex.decode(genesis) else {
            throw .damaged(folder: folder, problem: "\(Self.genesisFileName) is not the first block of \(Self.blocksFileName)")
        }
        return CachedBenchChain(folder: folder, manifest: manifest, genesisBlock: genesis)
    }

    /// The block in the first record (magic, little-endian size, block) of a block file.
    static func firstRecord(ofFileAt path: String) -> [UInt8]? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let header = try? handle.read(upToCount: 8), header.count == 8 else { return nil }
        let size = header.dropFirst(4).reversed().reduce(0) { $0 << 8 | Int($1) }
        guard size > 0, size <= 4_000_000, let block = try? handle.read(upToCount: size), block.count == size else { return nil }
        return Array(block)
    }

    /// Every chain folder in the cache with its manifest, unchecked; folders
    /// whose manifest cannot be read are listed with `nil`.
    public func entries() -> [(folder: String, manifest: BenchChainManifest?)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
        return names.filter { !$0.hasPrefix(".") }.sorted().map { name in
            let folder = "\(root)/\(name)"
            let manifest = (try? Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(Self.manifestFileName)")))
                .flatMap { try? Self.decoder.decode(BenchChainManifest.self, from: $0) }
            return (folder, manifest)
        }
    }

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }()

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case let .dataCorrupted(context): context.debugDescription
        case let .keyNotFound(key, _): "no \(key.stringValue)"
        case let .typeMismatch(_, context), let .valueNotFound(_, context):
            "bad \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        @unknown default: "\(error)"
        }
    }
}

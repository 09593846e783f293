import Foundation

/// What a cached benchmark chain holds and how it was made: `manifest.json`
/// beside its block file.
public struct BenchChainManifest: Sendable, Hashable, Codable {
    /// The specification it was made from.
    public var spec: BenchChainSpec
    /// ``BenchChainSpec/generatorVersion`` of the generator that made it.
    public var generatorVersion: String
    /// ``BenchChainSpec/cacheKey`` of its specification.
    public var cacheKey: String
    /// The hash of the last block.
    public var tipHash: String
    /// Blocks after genesis.
    public var blocks: Int
    /// Transactions, coinbases included.
    public var transactions: Int
    /// Inputs spent (coinbases excluded).
    public var inputs: Int
    /// Outputs made, coinbases included.
    public var outputs: Int
    /// Serialised size of every block, genesis included.
    public var blockBytes: Int
    /// The largest serialised block.
    public var largestBlockBytes: Int
    /// Every block after genesis, in height order: the ground truth a
    /// benchmark's per-block events are checked against.
    public var blockList: [BlockSummary]
    /// SHA-256 of `blocks.dat`, hex.
    public var blocksSHA256: String
    /// Size of `blocks.dat` in bytes.
    public var blocksFileBytes: Int
    /// The tapyrusd that made it (`tapyrusd --version`).
    public var generatedBy: String
    /// Seconds the generation took.
    public var generationSeconds: Double
    /// When it was made.
    public var created: Date
}

/// One block of a benchmark chain.
public struct BlockSummary: Sendable, Hashable, Codable {
    public var height: Int
    public var hash: String
    /// Transactions, the coinbase included.
    public var transactions: Int
    /// Coins spent (the coinbase's input excluded).
    public var inputs: Int
    /// Outputs made, the coinbase's included.
    public var outputs: Int
    /// Serialised size in bytes.
    public var bytes: Int
}

/// A benchmark chain in the cache, checked against its manifest.
public struct CachedBenchChain: Sendable, Hashable {
    /// Its folder.
    public var folder: String
    /// Its manifest.
    public var manifest: BenchChainManifest
    /// The genesis block, hex.
    public var genesisBlock: String

    /// The block file: every block from genesis to the tip in `blk*.dat` form
    /// (network magic, little-endian size, block), ready for `-reindex`.
    public var blocksPath: String { "\(folder)/\(BenchChainCache.blocksFileName)" }
    /// The chain's name.
    public var name: String { manifest.spec.name }
}

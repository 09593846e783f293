import Foundation
import NodeControl
import TapyrusEncoding

/// What a deterministic benchmark chain is made of: everything that, with the
/// generator's version, fixes its blocks bit for bit.
///
/// Two chains with the same specification and ``generatorVersion`` are the
/// same bytes, so two tapyrusd builds benchmarked on it connect the same
/// blocks. The specification's ``cacheKey`` names its folder in the cache.
public struct BenchChainSpec: Sendable, Hashable, Codable {
    /// The version of the generator's algorithm; bumped whenever a change to
    /// the generator would change the blocks it makes from the same parameters.
    public static let generatorVersion = "1"

    /// The chain's name, e.g. `standard`.
    public var name: String
    /// The number of blocks after the genesis block.
    public var blocks: Int
    /// The most transactions (besides the coinbase) a block may hold; block
    /// sizes are spread log-uniformly between one transaction and this.
    public var maxTransactionsPerBlock: Int
    /// The seed of every random choice (block sizes, transaction shapes, coins spent).
    public var seed: UInt64
    /// How many fixed keys own the chain's coins.
    public var keyCount: Int
    /// The genesis block's time (UNIX seconds); block `h` is stamped `genesisTime + h × blockInterval`.
    public var genesisTime: Int64
    /// Seconds between block times.
    public var blockInterval: Int64

    /// Creates a specification.
    public init(name: String, blocks: Int, maxTransactionsPerBlock: Int, seed: UInt64 = 1,
                keyCount: Int = 64, genesisTime: Int64 = 1_767_225_600, blockInterval: Int64 = 600) {
        self.name = name
        self.blocks = blocks
        self.maxTransactionsPerBlock = maxTransactionsPerBlock
        self.seed = seed
        self.keyCount = keyCount
        self.genesisTime = genesisTime
        self.blockInterval = blockInterval
    }

    /// The named chains, from the smallest.
    public static let presets: [BenchChainSpec] = [
        BenchChainSpec(name: "tiny", blocks: 16, maxTransactionsPerBlock: 40),
        BenchChainSpec(name: "small", blocks: 60, maxTransactionsPerBlock: 200),
        BenchChainSpec(name: "standard", blocks: 300, maxTransactionsPerBlock: 1500),
        BenchChainSpec(name: "large", blocks: 1000, maxTransactionsPerBlock: 3000),
    ]

    /// The preset called `name`.
    public static func preset(named name: String) throws(BenchChainError) -> BenchChainSpec {
        guard let spec = presets.first(where: { $0.name == name }) else {
            throw .unknownChain(name: name, known: presets.map(\.name))
        }
        return spec
    }

    /// Checks that the parameters can make a chain.
    public func validate() throws(BenchChainError) {
        func check(_ condition: Bool, _ problem: String) throws(BenchChainError) {
            if !condition { throw .invalidSpec("chain '\(name)': \(problem)") }
        }
        try check(!name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" },
                  "the name must be letters, digits, '-' or '_'")
        try check((2...100_000).contains(blocks), "blocks must be between 2 and 100000")
        try check((1...5_000).contains(maxTransactionsPerBlock), "transactions per block must be between 1 and 5000")
        try check((1...1_000).contains(keyCount), "keys must be between 1 and 1000")
        try check(genesisTime > 0 && blockInterval > 0, "times must be positive")
        try check(blockInterval <= 86_400 && genesisTime < 4_000_000_000, "the block interval must be at most a day and the genesis time before 2096")
    }

    /// The parameters as text, for the manifest and the baselines database.
    public var parameters: [String: String] {
        [
            "blocks": "\(blocks)", "max_transactions_per_block": "\(maxTransactionsPerBlock)", "seed": "\(seed)",
            "keys": "\(keyCount)", "genesis_time": "\(genesisTime)", "block_interval": "\(blockInterval)",
        ]
    }

    /// A digest of the generator's version and every parameter (not the
    /// name): the chain's identity, its cache folder's suffix.
    public var cacheKey: String {
        let canonical = (["generator=\(Self.generatorVersion)"] + parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
            .joined(separator: "\n")
        return String(SHA256.hash(Array(canonical.utf8)).hexString.prefix(16))
    }
}

/// How to set up and bound one node.
public struct NodeOptions: Sendable {
    /// A short name used in the datadir name and in messages, e.g. `"miner"`.
    public var name: String = "node"
    /// The aggregate key the genesis block is made for and blocks are signed with.
    public var signingKey: SigningKey = .test
    /// The genesis block (hex) to start from instead of one made by tapyrus-genesis for
    /// ``signingKey`` (e.g. a benchmark chain's, whose blocks build on it).
    public var genesisBlock: String?
    /// Files copied into the new datadir's `blocks` folder as `blk00000.dat`, `blk00001.dat`, ...
    /// before the first start; started with `-reindex`, the node connects the blocks they hold.
    public var blockFiles: [String] = []
    /// Extra `key=value` lines for the `[dev]` section of `tapyrus.conf` (e.g. `("txindex", "1")`).
    public var configOptions: [(key: String, value: String)] = []
    /// Extra command-line arguments (e.g. `["-reindex"]`); replaced by ``TapyrusNode/restart(arguments:)``.
    public var arguments: [String] = []
    /// A fixed P2P port; `nil` picks a free one (and retries with others if it gets taken meanwhile).
    public var p2pPort: UInt16?
    /// A fixed RPC port; `nil` picks a free one.
    public var rpcPort: UInt16?
    /// A network id other than the default dev id.
    public var networkID: UInt32?
    /// Where the temporary datadir is made; `nil` uses the system temporary directory.
    public var parentDirectory: String?
    /// Bound for RPC to answer after spawning.
    public var startTimeout: Duration = .seconds(30)
    /// Bound for the node to exit after RPC `stop`.
    public var stopTimeout: Duration = .seconds(15)
    /// Bound for the node to exit after SIGTERM.
    public var terminateTimeout: Duration = .seconds(5)
    /// Bound for the node to exit after SIGKILL.
    public var killTimeout: Duration = .seconds(5)
    /// Default bound for RPC calls.
    public var rpcTimeout: Duration = .seconds(60)

    /// Creates options with defaults.
    public init(name: String = "node") {
        self.name = name
    }
}

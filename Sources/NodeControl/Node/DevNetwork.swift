/// Facts about Tapyrus' dev mode, its local test network.
public enum DevNetwork {
    /// The network id a dev node uses unless `networkid` is set.
    public static let defaultNetworkID: UInt32 = 1_905_960_821

    /// The name of the network-specific folder inside a datadir, e.g. `dev-1905960821`.
    public static func dataDirectoryName(networkID: UInt32 = defaultNetworkID) -> String {
        "dev-\(networkID)"
    }

    /// The coinbase value of a dev block: 50 TPC in tapyrus units.
    public static let coinbaseValue: Int64 = 5_000_000_000
}

/// The aggregate key pair that signs dev blocks.
public struct SigningKey: Sendable, Hashable {
    /// The compressed public key, hex.
    public var publicKey: String
    /// The private key in WIF.
    public var privateKeyWIF: String

    /// The public test key pair used by upstream's functional tests.
    public static let test = SigningKey(
        publicKey: "025700236c2890233592fcef262f4520d22af9160e3d9705855140eb2aa06c35d3",
        privateKeyWIF: "cR4F4fGuKjDWxiYDtGtyM77WkrVhTgokVyM2ERxoxp7R4RQP9dgE"
    )
}

import NodeControl
import TapyrusEncoding

/// The fixed private keys that own a benchmark chain's coins.
///
/// Key `i` of seed `s` is SHA-256 of `tapyrus-trace bench key s i`: anyone can
/// derive them again, and signatures made with them are deterministic
/// (RFC 6979 nonces), so the chain's transactions are the same bytes each time.
public struct BenchKeys: Sendable, Hashable {
    /// The dev network's private-key version byte (`base58Prefixes[SECRET_KEY]`).
    public static let devSecretKeyVersion: UInt8 = 239

    /// The private keys, 32 bytes each.
    public let privateKeys: [[UInt8]]

    /// Derives `count` keys from `seed`.
    public init(seed: UInt64, count: Int) {
        privateKeys = (0..<count).map { index in
            SHA256.hash(Array("tapyrus-trace bench key \(seed) \(index)".utf8))
        }
    }

    /// Key `index` in wallet import format, for a compressed public key.
    public func wif(_ index: Int) -> String {
        SyntheticAddress.base58Check([Self.devSecretKeyVersion] + privateKeys[index] + [0x01])
    }
}

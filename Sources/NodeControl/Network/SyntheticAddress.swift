import TapyrusEncoding

/// Pay-to-pubkey-hash addresses made from chosen 20-byte hashes, for
/// transactions with many distinct outputs without asking a wallet for keys.
public enum SyntheticAddress {
    /// The dev network's P2PKH version byte (`base58Prefixes[PUBKEY_ADDRESS]`).
    public static let devPubkeyHashVersion: UInt8 = 111

    /// The dev-network address paying to the hash `[index as 4 bytes, 0xa5 × 16]`.
    public static func dev(_ index: UInt32) -> String {
        let hash = withUnsafeBytes(of: index.bigEndian, Array.init) + Array(repeating: 0xA5, count: 16)
        return base58Check([devPubkeyHashVersion] + hash)
    }

    /// Base58 of `payload` followed by the first four bytes of its double SHA-256.
    public static func base58Check(_ payload: [UInt8]) -> String {
        let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
        let bytes = payload + SHA256.doubleHash(payload).prefix(4)
        var digits: [Int] = [] // base 58, least significant first
        for byte in bytes {
            var carry = Int(byte)
            for index in digits.indices {
                carry += digits[index] << 8
                digits[index] = carry % 58
                carry /= 58
            }
            while carry > 0 {
                digits.append(carry % 58)
                carry /= 58
            }
        }
        let leadingZeros = bytes.prefix { $0 == 0 }.count
        return String(repeating: "1", count: leadingZeros) + String(digits.reversed().map { alphabet[$0] })
    }
}

import TapyrusEncoding
import Testing

@Suite("SHA-256 against known vectors")
struct SHA256Tests {
    @Test("SHA-256 matches the FIPS 180-4 and other known test vectors", arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func sha256Vectors(input: String, expected: String) {
        #expect(Hex.encode(SHA256.hash(Array(input.utf8))) == expected)
    }

    @Test("SHA-256 of 1,000 'a' bytes (several blocks) matches")
    func sha256LongInput() {
        let input = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        #expect(Hex.encode(SHA256.hash(input)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    @Test("SHA-256 gives the same digest when fed in pieces of odd sizes")
    func sha256Incremental() {
        let data = Array((0..<768).map { UInt8($0 % 256) })
        var hasher = SHA256()
        var index = 0
        for size in [1, 63, 64, 65, 7, 200, 368] {
            hasher.update(data[index..<index + size])
            index += size
        }
        #expect(index == data.count)
        #expect(Hex.encode(hasher.finalize()) == "f3a25aa93aa2fbba28d79260535bbd6a5eb0fc1c24a8b0f04e12b484c1dfe363")
        #expect(Hex.encode(SHA256.hash(data)) == Hex.encode(hasher.finalize()))
    }

    @Test("Double SHA-256 of a 1 MiB payload (a large block message) is right")
    func sha256Large() {
        let data = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let digest = SHA256.doubleHash(data)
        #expect(Hex.encode(digest) == "b2bc6b28913e55c6f7c06d07f76be16fa9852597bff00a87f7e693a7e246e5a7")
    }
}

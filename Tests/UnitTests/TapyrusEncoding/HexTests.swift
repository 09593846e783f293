import TapyrusEncoding
import Testing

@Suite("Hex of byte arrays")
struct HexTests {
    @Test("byte arrays parse from hex of either case and print lower-case hex")
    func bytesFromHex() {
        #expect([UInt8](hexString: "") == [])
        #expect([UInt8](hexString: "00ff7F80") == [0x00, 0xff, 0x7f, 0x80])
        #expect([UInt8](hexString: "AbCd") == [0xab, 0xcd])
        #expect([0x00, 0xff, 0x7f, 0x80, 0x0a].hexString == "00ff7f800a")
        #expect([UInt8]().hexString == "")
        let all = (0...255).map { UInt8($0) }
        #expect([UInt8](hexString: all.hexString) == all)
    }

    @Test("odd-length hex and non-hex digits are refused", arguments: ["abc", "0", "zz", "0g", " 0", "0x00", "ff:ff", "é0"])
    func invalidBytes(text: String) {
        #expect([UInt8](hexString: text) == nil)
    }
}

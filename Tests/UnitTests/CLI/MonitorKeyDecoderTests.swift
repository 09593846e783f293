import Testing
@testable import TapyrusTraceCLI

@Suite("P2P monitor: key decoding")
struct MonitorKeyDecoderTests {
    @Test("arrow keys, J/K, ENTER, SPACE, q and Ctrl-C decode to their keys")
    func plainKeys() {
        var decoder = MonitorKeyDecoder()
        let keys = decoder.feed(Array("\u{1b}[A\u{1b}[Bjk\r \u{1b}OA\u{1b}OBqK".utf8) + [0x03])
        #expect(keys == [.up, .down, .down, .up, .enter, .space, .up, .down, .quit, .up, .interrupt])
        #expect(!decoder.hasPending)
    }

    @Test("a lone ESC waits for the timeout; an arrow key split across reads still decodes")
    func escapeAndSplitSequences() {
        var decoder = MonitorKeyDecoder()
        #expect(decoder.feed([0x1b]).isEmpty)
        #expect(decoder.hasPending)
        #expect(decoder.feed(Array("[".utf8)).isEmpty)
        #expect(decoder.feed(Array("B".utf8)) == [.down])
        #expect(decoder.feed([0x1b]).isEmpty)
        #expect(decoder.flushPending() == [.escape])
        #expect(!decoder.hasPending)
        #expect(decoder.feed([0x1b, 0x1b]) == [.escape])
        #expect(decoder.flushPending() == [.escape])
    }

    @Test("other sequences (function keys, page keys) are consumed whole as one unused key")
    func otherSequences() {
        var decoder = MonitorKeyDecoder()
        #expect(decoder.feed(Array("\u{1b}[5~\u{1b}[1;5A".utf8) + [0x6a]) == [.other, .other, .down])
        #expect(decoder.feed(Array("x".utf8)) == [.character("x")])
    }
}

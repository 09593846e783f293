import TraceTools

/// Turns the bytes a terminal in raw mode sends into ``MonitorKey``s.
///
/// Arrow keys arrive as `ESC [ A` / `ESC [ B` (or `ESC O A` / `ESC O B` in
/// application cursor mode), a lone Escape as one `ESC` byte. The two cannot
/// be told apart until more bytes arrive or a short time passes, so a
/// trailing `ESC` (or unfinished sequence) is kept pending: the caller feeds
/// the next bytes, or calls ``flushPending()`` once its timeout expired.
struct MonitorKeyDecoder: Sendable {
    private var pending: [UInt8] = []

    init() {}

    /// Whether bytes wait for the rest of a sequence (or the ESC timeout).
    var hasPending: Bool { !pending.isEmpty }

    /// Decodes `bytes` after whatever was pending.
    mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> [MonitorKey] where Bytes.Element == UInt8 {
        pending.append(contentsOf: bytes)
        var keys: [MonitorKey] = []
        var index = 0
        while index < pending.count {
            let byte = pending[index]
            if byte == 0x1b {
                guard index + 1 < pending.count else { break }
                let next = pending[index + 1]
                if next == UInt8(ascii: "[") || next == UInt8(ascii: "O") {
                    // CSI / SS3: parameters then one final byte 0x40...0x7e.
                    var end = index + 2
                    while end < pending.count, !(0x40...0x7e).contains(pending[end]) { end += 1 }
                    guard end < pending.count else { break }
                    switch pending[end] {
                    case UInt8(ascii: "A") where end == index + 2: keys.append(.up)
                    case UInt8(ascii: "B") where end == index + 2: keys.append(.down)
                    default: keys.append(.other)
                    }
                    index = end + 1
                } else if next == 0x1b {
                    keys.append(.escape)
                    index += 1
                } else {
                    // ESC followed by a key (Alt+key): the escape, then the key.
                    keys.append(.escape)
                    index += 1
                }
                continue
            }
            keys.append(Self.key(for: byte))
            index += 1
        }
        pending.removeFirst(index)
        return keys
    }

    /// Called when no more bytes arrived within the timeout: a pending lone
    /// `ESC` is the Escape key; an unfinished sequence is dropped.
    mutating func flushPending() -> [MonitorKey] {
        defer { pending.removeAll() }
        if pending == [0x1b] { return [.escape] }
        return pending.isEmpty ? [] : [.other]
    }

    private static func key(for byte: UInt8) -> MonitorKey {
        switch byte {
        case 0x03: .interrupt
        case 0x0d, 0x0a: .enter
        case 0x20: .space
        case UInt8(ascii: "q"), UInt8(ascii: "Q"): .quit
        case UInt8(ascii: "j"), UInt8(ascii: "J"): .down
        case UInt8(ascii: "k"), UInt8(ascii: "K"): .up
        case 0x21...0x7e: .character(Character(Unicode.Scalar(byte)))
        default: .other
        }
    }
}

import Foundation
import Synchronization
import TraceHarness

/// Writes to standard output, buffered, and notices a reader that went away
/// (`| head`): writes then fail instead of killing the process.
enum Output {
    private struct State {
        var buffer: [UInt8] = []
        var closed = false
    }

    private static let state = Mutex(State())
    private static let interactive = isatty(STDOUT_FILENO) == 1

    /// Call once at start: a closed pipe becomes a write error, not a signal.
    static func ignoreBrokenPipe() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Writes one line; false once standard output is closed.
    @discardableResult
    static func line(_ text: String) -> Bool {
        let full = state.withLock { state -> Bool in
            state.buffer.append(contentsOf: text.utf8)
            state.buffer.append(0x0a)
            return state.buffer.count >= 1 << 16
        }
        return interactive || full ? flush() : !state.withLock { $0.closed }
    }

    /// Writes what is buffered; false if the reader went away.
    @discardableResult
    static func flush() -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            var written = 0
            while written < state.buffer.count {
                let result = state.buffer.withUnsafeBytes { bytes in
                    write(STDOUT_FILENO, bytes.baseAddress! + written, bytes.count - written)
                }
                if result < 0 {
                    if errno == EINTR { continue }
                    state.closed = true
                    state.buffer.removeAll()
                    return false
                }
                written += result
            }
            state.buffer.removeAll(keepingCapacity: true)
            return true
        }
    }

    /// Writes `value` as pretty, key-sorted JSON; false once standard output is closed.
    @discardableResult
    static func json<Value: Encodable>(_ value: Value) throws -> Bool {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return line(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Prints a capture's summary on standard error.
    static func summary(_ summary: CaptureSummary) {
        for line in summary.lines { note(line) }
    }

    /// Writes a line to standard error at once.
    static func note(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress!, $0.count) }
    }
}

/// A failure the CLI reports in one line and exits non-zero for.
struct CommandFailure: Error, Sendable, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

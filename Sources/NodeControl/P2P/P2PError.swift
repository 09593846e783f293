import TapyrusEncoding

/// An error from the raw P2P peer or from decoding wire messages.
public enum P2PError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The TCP connection could not be opened.
    case connectFailed(host: String, port: UInt16, reason: String)
    /// Bytes did not form a valid message or payload.
    case malformed(String)
    /// A message header carried start bytes of another network.
    case wrongMagic(expected: [UInt8], received: [UInt8])
    /// A message's checksum did not match its payload.
    case badChecksum(command: String, expected: [UInt8], received: [UInt8])
    /// A command name is longer than the 12 bytes a header allows.
    case commandTooLong(String)
    /// The node closed the connection (or it was closed locally).
    case connectionClosed(String)
    /// Sending failed at the socket level.
    case sendFailed(String)
    /// No (matching) message arrived within the bound.
    case timedOut(waitingFor: String, seconds: Double)

    public var description: String {
        switch self {
        case let .connectFailed(host, port, reason):
            "P2P connect to \(host):\(port) failed: \(reason) (is the node running and listening?)"
        case let .malformed(detail):
            "malformed P2P data: \(detail)"
        case let .wrongMagic(expected, received):
            "P2P message start bytes \(Hex.encode(received)) do not match the network's \(Hex.encode(expected)); wrong network id?"
        case let .badChecksum(command, expected, received):
            "P2P '\(command)' checksum \(Hex.encode(received)) does not match payload checksum \(Hex.encode(expected))"
        case let .commandTooLong(command):
            "P2P command '\(command)' is longer than 12 bytes"
        case let .connectionClosed(detail):
            "P2P connection closed: \(detail)"
        case let .sendFailed(detail):
            "P2P send failed: \(detail)"
        case let .timedOut(what, seconds):
            "P2P: no \(what) within \(seconds) s"
        }
    }
}

extension P2PError {
    /// Runs a decoding of wire bytes; bytes that end too early are malformed P2P data.
    static func decoding<T>(_ body: () throws(ByteDecodingError) -> T) throws(P2PError) -> T {
        do {
            return try body()
        } catch {
            throw .malformed(error.description)
        }
    }
}

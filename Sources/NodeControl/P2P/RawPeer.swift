import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A message as it went over the wire, header and payload, byte for byte.
public struct WireMessage: Sendable, Hashable, CustomStringConvertible {
    /// The decoded message.
    public var message: P2PMessage
    /// The exact bytes: 24-byte header followed by the payload.
    public var bytes: [UInt8]

    /// The command name.
    public var command: String { message.command }
    /// The payload size in bytes (what tracepoints report as message size).
    public var payloadSize: Int { message.payload.count }

    public var description: String { "\(message.command) (\(message.payload.count)+24 bytes)" }
}

/// A raw P2P peer: a TCP connection to a node spoken to with our own serialisation.
///
/// Connect with ``connect(host:port:magic:timeout:)``, which completes the
/// version/verack handshake. Every message sent is recorded in ``sent`` with its
/// exact bytes, every message received in ``received``. The peer answers nothing
/// on its own (not even `ping`), so the traffic a test causes is exactly what it sends.
public actor RawPeer {
    /// The network start bytes in use.
    public nonisolated let magic: NetworkMagic
    /// The host connected to.
    public nonisolated let host: String
    /// The port connected to.
    public nonisolated let port: UInt16
    /// The node's `version` payload from the handshake.
    public private(set) var remoteVersion: VersionMessage?
    /// Every message sent, in order, including the handshake.
    public private(set) var sent: [WireMessage] = []
    /// Every message received and consumed, in order, including the handshake.
    public private(set) var received: [WireMessage] = []

    private let socket: SocketConnection
    private let inbox: Inbox

    private init(socket: SocketConnection, inbox: Inbox, host: String, port: UInt16, magic: NetworkMagic) {
        self.socket = socket
        self.inbox = inbox
        self.host = host
        self.port = port
        self.magic = magic
    }

    /// Connects to a node and completes the version/verack handshake.
    ///
    /// - Parameters:
    ///   - host: An IPv4 address, normally `127.0.0.1`.
    ///   - port: The node's P2P port.
    ///   - magic: The network's start bytes.
    ///   - version: Our `version` payload; a minimal one is made when `nil`.
    ///   - timeout: Bound for the handshake.
    public static func connect(host: String = "127.0.0.1", port: UInt16, magic: NetworkMagic = .dev,
                               version: VersionMessage? = nil, timeout: Duration = .seconds(10)) async throws -> RawPeer {
        let inbox = Inbox()
        let socket = try SocketConnection.open(host: host, port: port, magic: magic, inbox: inbox)
        let peer = RawPeer(socket: socket, inbox: inbox, host: host, port: port, magic: magic)
        do {
            try await peer.handshake(version: version, timeout: timeout)
        } catch {
            await peer.close()
            throw error
        }
        return peer
    }

    private func handshake(version: VersionMessage?, timeout: Duration) async throws {
        let now = Int64(Date().timeIntervalSince1970)
        let ours = version ?? VersionMessage(timestamp: now, receiver: .ipv4(127, 0, 0, 1, port: port))
        try send(.version(ours))
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var gotVerack = false
        while remoteVersion == nil || !gotVerack {
            let remaining = deadline - ContinuousClock.now
            let wire = try await nextWire(timeout: remaining, waitingFor: "version/verack handshake")
            switch wire.command {
            case "version":
                remoteVersion = try VersionMessage.decode(wire.message.payload)
                try send(.verack)
            case "verack":
                gotVerack = true
            default:
                break
            }
        }
    }

    /// Sends a message and returns its exact wire bytes.
    @discardableResult
    public func send(_ message: P2PMessage) throws(P2PError) -> WireMessage {
        let bytes = try message.encoded(magic: magic)
        try socket.write(bytes)
        let wire = WireMessage(message: message, bytes: bytes)
        sent.append(wire)
        return wire
    }

    /// Returns the next message from the node, waiting at most `timeout`.
    public func receive(timeout: Duration = .seconds(10)) async throws -> WireMessage {
        try await nextWire(timeout: timeout, waitingFor: "message")
    }

    /// Returns the next message whose command is `command`, skipping (but recording) others.
    public func receive(command: String, timeout: Duration = .seconds(10),
                        where predicate: @Sendable (P2PMessage) -> Bool = { _ in true }) async throws -> WireMessage {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let wire = try await nextWire(timeout: deadline - ContinuousClock.now, waitingFor: "'\(command)'")
            if wire.command == command, predicate(wire.message) { return wire }
        }
    }

    /// Sends `ping` with `nonce` and waits for the `pong` that echoes it.
    ///
    /// - Returns: the ping sent and the pong received, with their exact bytes.
    public func ping(nonce: UInt64, timeout: Duration = .seconds(10)) async throws -> (ping: WireMessage, pong: WireMessage) {
        let ping = try send(.ping(nonce: nonce))
        let pong = try await receive(command: "pong", timeout: timeout) { $0.nonce == nonce }
        return (ping, pong)
    }

    /// Closes the connection. Further sends fail; pending receives end with ``P2PError/connectionClosed(_:)``.
    public func close() {
        socket.shutdown()
    }

    private func nextWire(timeout: Duration, waitingFor what: String) async throws -> WireMessage {
        let wire = try await inbox.next(timeout: max(timeout, .zero), waitingFor: what)
        received.append(wire)
        return wire
    }
}

/// Messages read by the socket's reader thread, handed to async waiters.
///
/// `@unchecked Sendable`: every stored property is read and written with
/// `lock` held, and continuations are resumed after it is released.
final class Inbox: @unchecked Sendable {
    private let lock = NSLock()
    private var queue: [WireMessage] = []
    private var closedReason: P2PError?
    private var waiter: (id: UInt64, continuation: CheckedContinuation<WireMessage, Error>)?
    private var nextWaiterID: UInt64 = 0

    func push(_ wire: WireMessage) {
        lock.lock()
        if let waiter {
            self.waiter = nil
            lock.unlock()
            waiter.continuation.resume(returning: wire)
            return
        }
        queue.append(wire)
        lock.unlock()
    }

    func close(_ reason: P2PError) {
        lock.lock()
        if closedReason == nil { closedReason = reason }
        let waiter = self.waiter
        self.waiter = nil
        lock.unlock()
        waiter?.continuation.resume(throwing: reason)
    }

    func next(timeout: Duration, waitingFor what: String) async throws -> WireMessage {
        let id: UInt64 = lock.withLock {
            nextWaiterID += 1
            return nextWaiterID
        }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            self?.expire(id: id, error: .timedOut(waitingFor: what, seconds: seconds))
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            lock.lock()
            if !queue.isEmpty {
                let wire = queue.removeFirst()
                lock.unlock()
                continuation.resume(returning: wire)
            } else if let closedReason {
                lock.unlock()
                continuation.resume(throwing: closedReason)
            } else {
                waiter = (id, continuation)
                lock.unlock()
            }
        }
    }

    private func expire(id: UInt64, error: P2PError) {
        lock.lock()
        guard let waiter, waiter.id == id else {
            lock.unlock()
            return
        }
        self.waiter = nil
        lock.unlock()
        waiter.continuation.resume(throwing: error)
    }
}

/// A connected TCP socket with a dedicated reader thread that frames messages.
///
/// `@unchecked Sendable`: the descriptor never changes and `isShutDown` and
/// `isClosed` are guarded by `lock`; writes and the reader thread's reads on
/// one socket may run at once (the kernel allows a reader and a writer).
///
/// Only the reader thread closes the descriptor, under the lock, and no
/// write or shutdown touches it after: once closed, its number may already
/// be another socket's (another test's peer, an RPC connection), which a
/// late `shutdown(2)` would cut.
final class SocketConnection: @unchecked Sendable {
    /// The socket's descriptor (for tests: its number is reused once closed).
    let fd: Int32
    private let lock = NSLock()
    private var isShutDown = false
    private var isClosed = false
    /// Signalled once the reader thread closed the descriptor.
    private let descriptorClosed = DispatchSemaphore(value: 0)

    /// Waits until the reader thread closed the descriptor (the connection
    /// ended), at most until `deadline`; false if it had not by then.
    func waitUntilDescriptorClosed(deadline: DispatchTime) -> Bool {
        guard descriptorClosed.wait(timeout: deadline) == .success else { return false }
        descriptorClosed.signal()
        return true
    }

    private init(fd: Int32) {
        self.fd = fd
    }

    static func open(host: String, port: UInt16, magic: NetworkMagic, inbox: Inbox) throws(P2PError) -> SocketConnection {
        #if canImport(Glibc)
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw .connectFailed(host: host, port: port, reason: String(cString: strerror(errno))) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            Glibc.close(fd)
            throw .connectFailed(host: host, port: port, reason: "not an IPv4 address")
        }
        var noDelay: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw .connectFailed(host: host, port: port, reason: reason)
        }
        let connection = SocketConnection(fd: fd)
        let thread = Thread {
            connection.readLoop(magic: magic, inbox: inbox)
        }
        thread.name = "RawPeer reader \(host):\(port)"
        thread.start()
        return connection
    }

    func write(_ bytes: [UInt8]) throws(P2PError) {
        let failure: P2PError? = lock.withLock {
            if isShutDown || isClosed { return P2PError.sendFailed("connection already closed") }
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { buffer in
                    Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    return P2PError.sendFailed(String(cString: strerror(errno)))
                }
                offset += written
            }
            return nil
        }
        if let failure { throw failure }
    }

    func shutdown() {
        lock.withLock {
            guard !isShutDown, !isClosed else { return }
            isShutDown = true
            _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
        }
    }

    /// Reads until the connection ends, then closes the descriptor (only this
    /// thread closes it, under the lock, so that nothing uses its number after).
    private func readLoop(magic: NetworkMagic, inbox: Inbox) {
        defer {
            lock.withLock {
                isClosed = true
                Glibc.close(fd)
            }
            descriptorClosed.signal()
        }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 {
                let reason = count == 0 ? "the node closed the connection" : String(cString: strerror(errno))
                inbox.close(.connectionClosed(reason))
                return
            }
            buffer.append(contentsOf: chunk[0..<count])
            while buffer.count >= MessageHeader.size {
                do {
                    let header = try MessageHeader.decode(Array(buffer[0..<MessageHeader.size]), expecting: magic)
                    let total = MessageHeader.size + Int(header.payloadLength)
                    guard buffer.count >= total else { break }
                    let bytes = Array(buffer[0..<total])
                    let (message, _) = try P2PMessage.decode(bytes, magic: magic)
                    buffer.removeFirst(total)
                    inbox.push(WireMessage(message: message, bytes: bytes))
                } catch {
                    inbox.close(error)
                    shutdown()
                    return
                }
            }
        }
    }
}

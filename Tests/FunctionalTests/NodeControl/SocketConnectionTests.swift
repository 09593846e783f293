import Foundation
import Testing
@testable import NodeControl

/// A raw peer's socket after the other side hung up: its descriptor is
/// closed by its reader, and its number, soon another socket's, is never
/// touched again.
@Suite("A raw P2P socket after its peer hung up")
struct SocketConnectionTests {
    /// A listening socket on a free loopback port.
    private static func listener() throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(bound)
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    @Test("once the peer closed the connection, a send fails and a shutdown leaves the socket that took its number alone")
    func hungUp() async throws {
        // In a child process of its own: here other tests open descriptors
        // at the same time, and one of them may take the closed number first.
        if ChildTestRun.role == Self.role {
            try await hungUpAlone()
        } else {
            try await ChildTestRun.expectPasses("SocketConnectionTests/hungUp", role: Self.role)
        }
    }

    private static let role = "reuse-closed-socket-number"

    private func hungUpAlone() async throws {
        let (listening, port) = try Self.listener()
        defer { close(listening) }
        let inbox = Inbox()
        let connection = try SocketConnection.open(host: "127.0.0.1", port: port, magic: .dev, inbox: inbox)
        let accepted = accept(listening, nil, nil)
        try #require(accepted >= 0)
        close(accepted)

        // The reader sees the end and closes its descriptor. Waited for on
        // a semaphore, not awaited: the first sleep or timeout of the async
        // runtime may open a descriptor of its own, which would take the
        // freed number first.
        try #require(connection.waitUntilDescriptorClosed(deadline: .now() + 30))

        // A socket pair takes the lowest free numbers, the closed one among them.
        var pair: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { close(pair[0]); close(pair[1]) }
        try #require(pair.contains(connection.fd), "the closed number \(connection.fd) is reused by the pair \(pair)")
        await #expect(throws: P2PError.self) { _ = try await inbox.next(timeout: .seconds(30), waitingFor: "the end") }

        connection.shutdown()
        #expect(throws: P2PError.self) { try connection.write([1, 2, 3]) }
        // The pair still works both ways: nothing shut it down.
        for (from, to) in [(pair[0], pair[1]), (pair[1], pair[0])] {
            var byte: UInt8 = 7
            #expect(send(from, &byte, 1, Int32(MSG_NOSIGNAL)) == 1)
            var received: UInt8 = 0
            #expect(recv(to, &received, 1, 0) == 1 && received == 7)
        }
    }
}

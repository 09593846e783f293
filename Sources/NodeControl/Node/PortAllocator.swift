import Foundation
#if canImport(Glibc)
import Glibc
import Synchronization
#endif

/// Hands out TCP ports on 127.0.0.1 that are free right now, by binding port 0.
///
/// Ports handed out are remembered for the life of the process and never
/// handed out twice, so nodes started in parallel by one harness do not collide.
public enum PortAllocator {
    private static let issued = IssuedPorts()

    /// Returns `count` distinct ports that the kernel reported free.
    public static func freePorts(_ count: Int) throws -> [UInt16] {
        var ports: [UInt16] = []
        var attempts = 0
        while ports.count < count {
            attempts += 1
            guard attempts < 200 else {
                throw NodeError(.setupFailed("could not find \(count) free ports on 127.0.0.1"))
            }
            let port = try bindEphemeral()
            if !ports.contains(port), issued.claim(port) { ports.append(port) }
        }
        return ports
    }

    private static func bindEphemeral() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NodeError(.setupFailed("socket: \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw NodeError(.setupFailed("bind 127.0.0.1:0: \(String(cString: strerror(errno)))")) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw NodeError(.setupFailed("getsockname: \(String(cString: strerror(errno)))")) }
        return UInt16(bigEndian: address.sin_port)
    }
}

/// The ports handed out by this process, so that none is handed out twice.
private final class IssuedPorts: Sendable {
    private let ports = Mutex<Set<UInt16>>([])

    func claim(_ port: UInt16) -> Bool {
        ports.withLock { $0.insert(port).inserted }
    }
}

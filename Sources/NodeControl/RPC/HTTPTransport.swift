import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A parsed HTTP/1.1 response.
struct HTTPResponse: Sendable, Equatable {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    /// Parses a complete response (the connection was closed after it).
    static func parse(_ bytes: [UInt8]) -> HTTPResponse? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let headerEnd = bytes.firstRange(of: separator) else { return nil }
        let head = String(decoding: bytes[..<headerEnd.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        guard !lines.isEmpty else { return nil }
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/"), let status = Int(statusLine[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(bytes[headerEnd.upperBound...])
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            guard let decoded = decodeChunked(body) else { return nil }
            body = decoded
        } else if let length = headers["content-length"].flatMap(Int.init) {
            guard body.count >= length else { return nil }
            body = Array(body.prefix(length))
        }
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    static func decodeChunked(_ bytes: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var index = 0
        while true {
            guard let lineEnd = bytes[index...].firstRange(of: [13, 10]) else { return nil }
            let sizeText = String(decoding: bytes[index..<lineEnd.lowerBound], as: UTF8.self)
                .split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard let size = Int(sizeText, radix: 16) else { return nil }
            index = lineEnd.upperBound
            if size == 0 { return out }
            guard index + size <= bytes.count else { return nil }
            out.append(contentsOf: bytes[index..<index + size])
            index += size + 2
        }
    }
}

/// Why an HTTP exchange failed before a response arrived.
enum HTTPFailure: Error, Sendable {
    case transport(String)
    case timedOut
}

/// A minimal HTTP/1.1 client: one connection per request, run on its own thread
/// so blocking socket calls never occupy Swift's cooperative thread pool.
enum HTTPTransport {
    static func post(host: String, port: UInt16, path: String, headers: [String: String], body: [UInt8],
                     timeout: Duration) async throws(HTTPFailure) -> HTTPResponse {
        let result: Result<HTTPResponse, HTTPFailure> = await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: exchange(host: host, port: port, path: path, headers: headers,
                                                        body: body, timeout: timeout))
            }
            thread.name = "RPC HTTP \(host):\(port)"
            thread.start()
        }
        return try result.get()
    }

    private static func exchange(host: String, port: UInt16, path: String, headers: [String: String],
                                 body: [UInt8], timeout: Duration) -> Result<HTTPResponse, HTTPFailure> {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .failure(.transport("socket: \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            return .failure(.transport("\(host) is not an IPv4 address"))
        }
        setTimeout(fd, remaining: deadline - ContinuousClock.now)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if connected != 0 {
            if errno == EINPROGRESS || errno == EAGAIN || errno == ETIMEDOUT { return .failure(.timedOut) }
            return .failure(.transport("connect: \(String(cString: strerror(errno)))"))
        }
        var request = "POST \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        request += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        let bytes = Array(request.utf8) + body
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return .failure(.timedOut) }
                return .failure(.transport("send: \(String(cString: strerror(errno)))"))
            }
            offset += written
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero { return .failure(.timedOut) }
            setTimeout(fd, remaining: remaining)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return .failure(.timedOut) }
                if let parsed = HTTPResponse.parse(response) { return .success(parsed) }
                return .failure(.transport("recv: \(String(cString: strerror(errno)))"))
            }
            if count == 0 { break }
            response.append(contentsOf: chunk[0..<count])
        }
        guard let parsed = HTTPResponse.parse(response) else {
            return .failure(.transport(response.isEmpty ? "connection closed without a response"
                                                        : "incomplete HTTP response (\(response.count) bytes)"))
        }
        return .success(parsed)
    }

    private static func setTimeout(_ fd: Int32, remaining: Duration) {
        let (seconds, attoseconds) = max(remaining, .milliseconds(1)).components
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        let size = socklen_t(MemoryLayout<timeval>.size)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, size)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, size)
    }
}

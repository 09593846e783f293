import Foundation
import Synchronization

/// A JSON-RPC 1.0 request as the node expects it.
public struct RPCRequest: Sendable, Hashable, Encodable {
    /// The protocol marker, always `"1.0"`.
    public var jsonrpc = "1.0"
    /// The request id echoed in the response.
    public var id: Int
    /// The method name.
    public var method: String
    /// Positional parameters.
    public var params: [JSONValue]

    /// Creates a request.
    public init(id: Int, method: String, params: [JSONValue]) {
        self.id = id
        self.method = method
        self.params = params
    }

    /// The JSON body.
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings, numbers and containers cannot fail.
        return (try? Array(encoder.encode(self))) ?? []
    }
}

/// The body of a JSON-RPC response.
public struct RPCResponse: Sendable, Hashable, Decodable {
    /// The error object of a failed call.
    public struct ServerError: Sendable, Hashable, Decodable {
        public var code: Int
        public var message: String
    }

    /// The result (`null` when the call failed).
    public var result: JSONValue?
    /// The error, `nil` (or JSON null) when the call succeeded.
    public var error: ServerError?
    /// The id from the request.
    public var id: JSONValue?

    /// Decodes a response body, or returns `nil` if it is not a JSON-RPC response.
    public static func decode(_ body: [UInt8]) -> RPCResponse? {
        try? JSONDecoder().decode(RPCResponse.self, from: Data(body))
    }

    /// Maps a response to its result or to ``RPCError/server(method:code:message:)``.
    public func result(for method: String) throws(RPCError) -> JSONValue {
        if let error { throw .server(method: method, code: error.code, message: error.message) }
        return result ?? .null
    }
}

/// A JSON-RPC client for one node, over HTTP/1.1 on IPv4.
///
/// Every call is bounded by a timeout; a refused or broken connection is
/// ``RPCError/transport(method:endpoint:reason:)``, an exceeded bound
/// ``RPCError/timedOut(method:endpoint:seconds:)`` and an error object from the node
/// ``RPCError/server(method:code:message:)``.
public struct RPCClient: Sendable {
    /// The node's RPC address.
    public var host: String
    /// The node's RPC port.
    public var port: UInt16
    /// How requests authenticate.
    public var authentication: RPCAuthentication
    /// The bound for calls that do not pass their own.
    public var defaultTimeout: Duration
    /// The wallet to address (`/wallet/<name>`), or `nil` for the default endpoint.
    public var wallet: String?

    /// `host:port`, for messages.
    public var endpoint: String { "\(host):\(port)" }

    private static let ids = RequestIDs()

    /// Creates a client.
    public init(host: String = "127.0.0.1", port: UInt16, authentication: RPCAuthentication,
                defaultTimeout: Duration = .seconds(30), wallet: String? = nil) {
        self.host = host
        self.port = port
        self.authentication = authentication
        self.defaultTimeout = defaultTimeout
        self.wallet = wallet
    }

    /// Calls any method with positional parameters and returns its result as JSON.
    @discardableResult
    public func call(_ method: String, _ params: [JSONValue] = [], timeout: Duration? = nil) async throws(RPCError) -> JSONValue {
        // Without readable credentials the request still goes out, so that a node that is
        // not running is reported as such rather than as a missing cookie.
        let credentials: Result<RPCCredentials, RPCError>
        do {
            credentials = .success(try authentication.resolve())
        } catch {
            credentials = .failure(error)
        }
        let request = RPCRequest(id: Self.ids.next(), method: method, params: params)
        let bound = timeout ?? defaultTimeout
        let response: HTTPResponse
        do {
            response = try await HTTPTransport.post(
                host: host, port: port, path: wallet.map { "/wallet/\($0)" } ?? "/",
                headers: (try? credentials.get()).map { ["Authorization": $0.authorizationHeader] } ?? [:], body: request.encoded(), timeout: bound)
        } catch {
            switch error {
            case let .transport(reason): throw .transport(method: method, endpoint: endpoint, reason: reason)
            case .timedOut: throw .timedOut(method: method, endpoint: endpoint, seconds: bound.seconds)
            }
        }
        if case let .failure(error) = credentials { throw error }
        guard let decoded = RPCResponse.decode(response.body) else {
            throw .http(method: method, status: response.status, body: String(decoding: response.body, as: UTF8.self))
        }
        return try decoded.result(for: method)
    }

    /// Calls a method and decodes its result as `T`.
    public func call<T: Decodable>(_ method: String, _ params: [JSONValue] = [], as type: T.Type,
                                   timeout: Duration? = nil) async throws(RPCError) -> T {
        let value = try await call(method, params, timeout: timeout)
        do {
            return try value.decode(as: T.self)
        } catch {
            throw .unexpectedResult(method: method, detail: "cannot read \(String(describing: value).prefix(200)) as \(T.self): \(error)")
        }
    }
}

/// The JSON-RPC request ids of one client, counting up from 1.
private final class RequestIDs: Sendable {
    private let value = Mutex(0)

    func next() -> Int {
        value.withLock { value in
            value += 1
            return value
        }
    }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

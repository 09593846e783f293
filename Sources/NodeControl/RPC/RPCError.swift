/// An error from a JSON-RPC call: the node's own error, or a failure to reach it.
public enum RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The node answered with an error object (its code and message).
    case server(method: String, code: Int, message: String)
    /// The node could not be reached or the connection broke (e.g. refused: node not running).
    case transport(method: String, endpoint: String, reason: String)
    /// No complete answer arrived within the bound.
    case timedOut(method: String, endpoint: String, seconds: Double)
    /// The RPC cookie file could not be read (node not started, or not yet written).
    case credentialsUnavailable(path: String, reason: String)
    /// The node answered with an HTTP status and no JSON-RPC body (e.g. 401 for bad credentials).
    case http(method: String, status: Int, body: String)
    /// The answer was not the JSON the call expected.
    case unexpectedResult(method: String, detail: String)

    /// The node's error code, for ``server(method:code:message:)``.
    public var code: Int? {
        if case let .server(_, code, _) = self { return code }
        return nil
    }

    public var description: String {
        switch self {
        case let .server(method, code, message):
            "RPC \(method) failed with code \(code)\(RPCErrorCode.name(code).map { " (\($0))" } ?? ""): \(message.oneLine)"
        case let .transport(method, endpoint, reason):
            "RPC \(method) to \(endpoint) could not be delivered: \(reason) (is the node running?)"
        case let .timedOut(method, endpoint, seconds):
            "RPC \(method) to \(endpoint) got no answer within \(seconds) s"
        case let .credentialsUnavailable(path, reason):
            "RPC cookie file \(path) unreadable: \(reason) (has the node started?)"
        case let .http(method, status, body):
            "RPC \(method) answered HTTP \(status)\(status == 401 ? " (bad credentials)" : ""): \(body.prefix(200).oneLine)"
        case let .unexpectedResult(method, detail):
            "RPC \(method) returned an unexpected result: \(detail.oneLine)"
        }
    }
}

/// Error codes the node uses in JSON-RPC error objects.
public enum RPCErrorCode {
    public static let miscError = -1
    public static let typeError = -3
    public static let invalidAddressOrKey = -5
    public static let outOfMemory = -7
    public static let invalidParameter = -8
    public static let databaseError = -20
    public static let deserializationError = -22
    public static let verifyError = -25
    public static let verifyRejected = -26
    public static let verifyAlreadyInChain = -27
    public static let inWarmup = -28
    public static let clientNodeAlreadyAdded = -23
    public static let clientNodeNotAdded = -24
    public static let clientNodeNotConnected = -29
    public static let clientP2PDisabled = -9
    public static let walletError = -4
    public static let walletInsufficientFunds = -6
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
    public static let internalError = -32603
    public static let parseError = -32700

    /// A short name for a known code.
    public static func name(_ code: Int) -> String? {
        switch code {
        case miscError: "misc error"
        case typeError: "type error"
        case invalidAddressOrKey: "invalid address or key"
        case invalidParameter: "invalid parameter"
        case deserializationError: "deserialization error"
        case verifyError: "verify error"
        case verifyRejected: "verify rejected"
        case verifyAlreadyInChain: "already in chain"
        case inWarmup: "node warming up"
        case walletError: "wallet error"
        case walletInsufficientFunds: "insufficient funds"
        case methodNotFound: "method not found"
        case invalidParams: "invalid params"
        case internalError: "internal error"
        case parseError: "parse error"
        default: nil
        }
    }
}

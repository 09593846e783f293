import Foundation

/// A user name and password for HTTP basic authentication.
public struct RPCCredentials: Sendable, Hashable {
    /// The user name (`__cookie__` for cookie authentication).
    public var user: String
    /// The password.
    public var password: String

    /// Parses the contents of a `.cookie` file: `user:password`, one line.
    public static func parseCookie(_ text: String) -> RPCCredentials? {
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard let colon = line.firstIndex(of: ":") else { return nil }
        let user = String(line[..<colon])
        let password = String(line[line.index(after: colon)...])
        guard !user.isEmpty, !password.isEmpty else { return nil }
        return RPCCredentials(user: user, password: password)
    }

    /// The value of an `Authorization` header.
    public var authorizationHeader: String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }
}

/// How a client authenticates: with a cookie file read at each call, or fixed credentials.
public enum RPCAuthentication: Sendable, Hashable {
    /// Read `user:password` from this file at each call (it changes when the node restarts).
    case cookieFile(String)
    /// Use these credentials.
    case credentials(RPCCredentials)

    func resolve() throws(RPCError) -> RPCCredentials {
        switch self {
        case let .credentials(credentials):
            return credentials
        case let .cookieFile(path):
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                let reason = FileManager.default.fileExists(atPath: path) ? "\(error)" : "no such file"
                throw .credentialsUnavailable(path: path, reason: reason)
            }
            guard let credentials = RPCCredentials.parseCookie(text) else {
                throw .credentialsUnavailable(path: path, reason: "not of the form user:password")
            }
            return credentials
        }
    }
}

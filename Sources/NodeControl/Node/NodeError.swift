/// An error starting, stopping or preparing a node, with the node's own context.
public struct NodeError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// Preparing the datadir, ports or config failed.
        case setupFailed(String)
        /// tapyrus-genesis failed to make a genesis block.
        case genesisFailed(String)
        /// The process could not be spawned.
        case spawnFailed(String)
        /// tapyrusd exited before its RPC answered.
        case exitedDuringStartup(status: String)
        /// RPC did not answer within the bound.
        case startTimedOut(seconds: Double, lastError: String)
        /// The process survived RPC stop, SIGTERM and SIGKILL within their bounds.
        case stopFailed(String)
        /// The operation needs a running node (or a stopped one).
        case wrongState(String)
    }

    /// What went wrong.
    public let kind: Kind
    /// The node's name, for messages.
    public let node: String?
    /// The node's process id, if it had one.
    public let pid: Int32?
    /// The node's datadir (kept for inspection after a failure).
    public let dataDirectory: String?
    /// The node's last `debug.log` lines, oldest first.
    public let logTail: [String]
    /// What the node wrote to stderr (option errors land here, not in the log).
    public let standardError: String

    /// Creates an error.
    public init(_ kind: Kind, node: String? = nil, pid: Int32? = nil, dataDirectory: String? = nil,
                logTail: [String] = [], standardError: String = "") {
        self.kind = kind
        self.node = node
        self.pid = pid
        self.dataDirectory = dataDirectory
        self.logTail = logTail
        self.standardError = standardError
    }

    /// This error with the node it happened to and its datadir filled in
    /// (a name it already had is kept).
    func located(node name: String, dataDirectory: String) -> NodeError {
        NodeError(kind, node: node ?? name, pid: pid, dataDirectory: dataDirectory, logTail: logTail, standardError: standardError)
    }

    public var description: String {
        var parts: [String] = []
        let who = ["tapyrusd", node.map { "'\($0)'" }, pid.map { "pid \($0)" }].compactMap { $0 }.joined(separator: " ")
        switch kind {
        case let .setupFailed(detail): parts.append("\(who): setup failed: \(detail)")
        case let .genesisFailed(detail): parts.append("\(who): tapyrus-genesis failed: \(detail)")
        case let .spawnFailed(detail): parts.append("\(who): could not be spawned: \(detail)")
        case let .exitedDuringStartup(status): parts.append("\(who) exited during startup (\(status))")
        case let .startTimedOut(seconds, lastError):
            parts.append("\(who): RPC did not answer within \(seconds) s (last: \(lastError))")
        case let .stopFailed(detail): parts.append("\(who): stop failed: \(detail)")
        case let .wrongState(detail): parts.append("\(who): \(detail)")
        }
        let stderrLine = standardError.oneLine
        if !stderrLine.isEmpty { parts.append("stderr: \(stderrLine)") }
        if !logTail.isEmpty { parts.append("last log: \(logTail.suffix(5).joined(separator: "\n").oneLine)") }
        if let dataDirectory { parts.append("datadir: \(dataDirectory)") }
        return parts.joined(separator: "; ").oneLine
    }
}

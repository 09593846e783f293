/// Why a benchmark chain could not be made, found or connected.
public enum BenchChainError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No preset has this name.
    case unknownChain(name: String, known: [String])
    /// The parameters cannot make a chain.
    case invalidSpec(String)
    /// The chain is not in the cache.
    case missing(name: String, folder: String)
    /// The cached chain's files are not what its manifest says.
    case damaged(folder: String, problem: String)
    /// Making the chain failed.
    case generationFailed(String)
    /// The node under test did not connect the whole chain.
    case reindexFailed(String)
    /// A file the benchmark must read (a binary to hash) cannot be read.
    case unreadable(path: String, purpose: String)

    public var description: String {
        switch self {
        case let .unknownChain(name, known):
            "no benchmark chain is called '\(name)'; the chains are \(known.joined(separator: ", "))"
        case let .invalidSpec(problem):
            "invalid benchmark chain: \(problem)"
        case let .missing(name, folder):
            "benchmark chain '\(name)' is not in the cache (\(folder)); make it with `tapyrus-trace bench chain generate \(name)`"
        case let .damaged(folder, problem):
            "the cached benchmark chain in \(folder) is damaged (\(problem)); delete the folder and make it again with `tapyrus-trace bench chain generate`"
        case let .generationFailed(problem):
            "making the benchmark chain failed: \(problem)"
        case let .reindexFailed(problem):
            "tapyrusd did not connect the benchmark chain: \(problem)"
        case let .unreadable(path, purpose):
            "cannot read \(path) to \(purpose); check the path and its permissions"
        }
    }
}

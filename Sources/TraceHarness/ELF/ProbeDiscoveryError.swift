/// Why the USDT probes of a file could not be read.
public enum ProbeDiscoveryError: Error, Sendable, Equatable, CustomStringConvertible {
    case fileNotFound(path: String)
    case notAFile(path: String)
    case unreadable(path: String)
    case notELF(path: String)
    case unsupportedELF(path: String, reason: String)
    case malformed(path: String, reason: String)
    case noProbes(path: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            "\(path): no such file"
        case .notAFile(let path):
            "\(path): is a directory, not a binary"
        case .unreadable(let path):
            "\(path): cannot be read (check its permissions)"
        case .notELF(let path):
            "\(path): not an ELF binary"
        case .unsupportedELF(let path, let reason):
            "\(path): unsupported ELF file: \(reason)"
        case .malformed(let path, let reason):
            "\(path): malformed ELF file: \(reason)"
        case .noProbes(let path):
            "\(path): has no USDT probes (no .note.stapsdt section); was it built with tracing enabled?"
        }
    }
}

import Foundation
import GRDB

/// A baseline database could not be used as asked; one line that says what to do.
public struct BaselineStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, for callers (and tests) that act on it.
    public enum Kind: String, Sendable, Hashable {
        case notADatabase, readOnly, locked, schemaTooNew
        case unknownRun, unknownBuild, noBlocks, runNotRunning, runNotComplete
        case noBaseline, incomparable
        case duplicateBlock, badExport, other
    }

    public let kind: Kind
    public let description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}

extension BaselineStoreError: LocalizedError {
    public var errorDescription: String? { description }
}

extension BaselineStoreError {
    /// Turns an SQLite error met on `path` into one of ours (others pass through).
    static func map(_ error: any Error, path: String, busyTimeout: TimeInterval, writing: Bool) -> any Error {
        guard let error = error as? DatabaseError else { return error }
        switch error.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return BaselineStoreError(.notADatabase, "\(path) is not a tapyrus-trace database (\(error.message ?? "file is not a database")); pass another --db or move it away")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            let waited = busyTimeout > 0 ? " for more than \(formatSeconds(busyTimeout)) s" : ""
            return BaselineStoreError(.locked, "\(path) is locked by another writer\(waited); try again when the other run has finished")
        case .SQLITE_READONLY:
            return BaselineStoreError(.readOnly, "\(path) is read-only (\(error.message ?? "attempt to write a readonly database")); make the file and its directory writable or pass another --db")
        case .SQLITE_CANTOPEN where writing:
            return BaselineStoreError(.readOnly, "cannot write \(path) (\(error.message ?? "unable to open database file")); make the file and its directory writable or pass another --db")
        default:
            return BaselineStoreError(.other, "\(path): \(error.message ?? "\(error.resultCode)")")
        }
    }

    static func formatSeconds(_ seconds: TimeInterval) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds)
    }
}

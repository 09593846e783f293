import Foundation
import TapyrusEncoding

/// The memory mappings of a running process, from `/proc/PID/maps`: ground
/// truth that a value a tracepoint passes is an address in the process
/// rather than the number it documents.
struct ProcessMemory: Sendable {
    /// One mapped range with its permissions (`rw-p`) and what backs it.
    struct Mapping: Sendable, CustomStringConvertible {
        var range: Range<UInt64>
        var permissions: String
        var path: String

        var isWritable: Bool { permissions.hasPrefix("rw") }

        var description: String {
            "\(String(range.lowerBound, radix: 16))-\(String(range.upperBound, radix: 16)) \(permissions) \(path.isEmpty ? "(anonymous)" : path)"
        }
    }

    var mappings: [Mapping]

    /// Reads the mappings of process `pid`.
    static func of(pid: Int32) throws -> ProcessMemory {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8) else {
            throw ScenarioError("cannot read /proc/\(pid)/maps (is the process running?)")
        }
        return ProcessMemory(parsing: text)
    }

    /// Parses the text of a `maps` file.
    init(parsing text: String) {
        mappings = text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count >= 5 else { return nil }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let start = UInt64(bounds[0], radix: 16), let end = UInt64(bounds[1], radix: 16), start < end else {
                return nil
            }
            let path = fields.count == 6 ? fields[5].trimmingCharacters(in: .whitespaces) : ""
            return Mapping(range: start..<end, permissions: String(fields[1]), path: path)
        }
    }

    /// The mapping that holds `address`, if any.
    func mapping(containing address: UInt64) -> Mapping? {
        mappings.first { $0.range.contains(address) }
    }

    /// The writable mapping holding `value` read as an address, or nil: a
    /// local variable's address lies in a writable (stack) mapping.
    func writableMapping(holding value: Int64) -> Mapping? {
        mapping(containing: UInt64(bitPattern: value)).flatMap { $0.isWritable ? $0 : nil }
    }
}

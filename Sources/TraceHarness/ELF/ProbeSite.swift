import Foundation

/// Identifies a USDT probe: `provider:name`.
public struct ProbeName: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public var provider: String
    public var name: String

    public init(provider: String, name: String) {
        self.provider = provider
        self.name = name
    }

    /// Parses `provider:name`; nil if either part is missing.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        self.init(provider: String(parts[0]), name: String(parts[1]))
    }

    public var description: String { "\(provider):\(name)" }

    public static func < (lhs: ProbeName, rhs: ProbeName) -> Bool {
        (lhs.provider, lhs.name) < (rhs.provider, rhs.name)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let name = ProbeName(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not provider:name: \(text)"))
        }
        self = name
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// One site of a USDT probe in a binary: one `.note.stapsdt` note.
///
/// A probe fired from several places in the code has several sites with the
/// same name; each is a separate note with its own address and arguments.
public struct ProbeSite: Sendable, Hashable {
    public var probe: ProbeName
    /// The probe's address as linked (the `nop` the compiler placed).
    public var address: UInt64
    /// The link-time address of `.stapsdt.base` recorded in the note.
    public var base: UInt64
    /// The address of the probe's semaphore, or 0 if it has none.
    public var semaphore: UInt64
    public var arguments: [ArgumentSpec]

    public var hasSemaphore: Bool { semaphore != 0 }
}

/// Reads the USDT probes of ELF binaries.
public enum ProbeDiscovery {
    /// Every probe site in the binary at `path`, in note order.
    ///
    /// Throws ``ProbeDiscoveryError/noProbes(path:)`` when the binary has no
    /// `.note.stapsdt` section (built without tracing).
    public static func sites(inBinaryAt path: String) throws(ProbeDiscoveryError) -> [ProbeSite] {
        let file = try ELFFile(contentsOf: path)
        return try sites(in: file)
    }

    /// Every probe site in ELF bytes held in memory.
    public static func sites(inELF bytes: [UInt8], path: String = "<memory>") throws(ProbeDiscoveryError) -> [ProbeSite] {
        try sites(in: ELFFile(bytes: bytes, path: path))
    }

    static func sites(in file: ELFFile) throws(ProbeDiscoveryError) -> [ProbeSite] {
        guard let section = file.section(named: ".note.stapsdt") else { throw .noProbes(path: file.path) }
        let notes = ELFBytes(bytes: try file.contents(of: section))
        var sites: [ProbeSite] = []
        var offset = 0
        let stapsdtType: UInt32 = 3
        while offset + 12 <= notes.bytes.count {
            guard
                let nameSize = notes.uint32(at: offset).map(Int.init),
                let descriptionSize = notes.uint32(at: offset + 4).map(Int.init),
                let type = notes.uint32(at: offset + 8)
            else { break }
            let nameStart = offset + 12
            let descriptionStart = nameStart + align4(nameSize)
            let next = descriptionStart + align4(descriptionSize)
            guard next <= notes.bytes.count else {
                throw .malformed(path: file.path, reason: "a USDT note runs past the end of .note.stapsdt")
            }
            defer { offset = next }
            let owner = notes.cString(at: nameStart, limit: nameStart + nameSize)
            guard owner == "stapsdt", type == stapsdtType else { continue }
            let end = descriptionStart + descriptionSize
            guard
                descriptionSize >= 24,
                let address = notes.uint64(at: descriptionStart),
                let base = notes.uint64(at: descriptionStart + 8),
                let semaphore = notes.uint64(at: descriptionStart + 16),
                let provider = notes.cString(at: descriptionStart + 24, limit: end)
            else { throw .malformed(path: file.path, reason: "a USDT note is truncated") }
            let nameOffset = descriptionStart + 24 + provider.utf8.count + 1
            guard let name = notes.cString(at: nameOffset, limit: end) else {
                throw .malformed(path: file.path, reason: "USDT note of provider \(provider) has no probe name")
            }
            let argumentsOffset = nameOffset + name.utf8.count + 1
            let argumentText = notes.cString(at: argumentsOffset, limit: end) ?? ""
            let probe = ProbeName(provider: provider, name: name)
            var arguments: [ArgumentSpec] = []
            for spec in argumentText.split(separator: " ") {
                do {
                    arguments.append(try ArgumentSpec(parsing: String(spec)))
                } catch {
                    throw .malformed(path: file.path, reason: "probe \(probe): \(error.description)")
                }
            }
            sites.append(ProbeSite(probe: probe, address: address, base: base, semaphore: semaphore, arguments: arguments))
        }
        guard !sites.isEmpty else { throw .noProbes(path: file.path) }
        return sites
    }

    private static func align4(_ value: Int) -> Int { (value + 3) & ~3 }
}

/// A line of a source file: where a tracing macro is called, or where debug
/// information says a probe site's instruction comes from.
public struct SourceLine: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The file's path, relative to the scanned folder for call sites, as the
    /// compiler recorded it for debug information.
    public var file: String
    /// 1-based.
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line)" }

    public static func < (lhs: SourceLine, rhs: SourceLine) -> Bool {
        (lhs.file, lhs.line) < (rhs.file, rhs.line)
    }

    /// Whether `self` and `other` name the same file: equal, or one path ends
    /// with the other at a folder boundary (`/build/src/coins.cpp` and
    /// `src/coins.cpp`).
    public func isSameFile(as other: SourceLine) -> Bool {
        Self.isSameFile(file, other.file)
    }

    /// The file's last two path components (`wallet/wallet.cpp`): what two
    /// builds made in different folders still agree on.
    var pathEnd: String {
        Self.normalised(file).split(separator: "/").suffix(2).joined(separator: "/")
    }

    /// Whether two paths name one file: equal, one ending the other at a
    /// folder boundary, or sharing at least their last two components. The
    /// last rule serves builds that map the source root away
    /// (`-fdebug-prefix-map=…/src=.`): their line tables join the object's
    /// folder with the path below the source root
    /// (`build/src/wallet/./wallet/wallet.cpp`), which a tree scanned from
    /// above `src` names `src/wallet/wallet.cpp`.
    static func isSameFile(_ first: String, _ second: String) -> Bool {
        let a = normalised(first), b = normalised(second)
        if a == b { return true }
        let (long, short) = a.count >= b.count ? (a, b) : (b, a)
        if long.hasSuffix("/" + short) { return true }
        let longParts = long.split(separator: "/"), shortParts = short.split(separator: "/")
        let shared = zip(longParts.reversed(), shortParts.reversed()).prefix { $0 == $1 }.count
        return shared >= 2
    }

    /// `path` without `.` components and with `dir/..` resolved.
    static func normalised(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == "..", let last = parts.last, last != ".." { parts.removeLast() } else { parts.append(part) }
        }
        return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }
}

/// The size and sign of an argument as a USDT note records them, written as
/// the note writes them: `-8` is 8 bytes signed, `4` is 4 bytes unsigned.
public struct ValueLayout: Sendable, Hashable, Codable, CustomStringConvertible {
    public var size: Int
    public var isSigned: Bool

    public init(size: Int, isSigned: Bool) {
        self.size = size
        self.isSigned = isSigned
    }

    /// A pointer's layout on the 64-bit targets the harness reads.
    public static let pointer = ValueLayout(size: 8, isSigned: false)

    public var description: String { isSigned ? "-\(size)" : "\(size)" }

    /// `8 bytes unsigned`, `1 byte signed`.
    public var spelledOut: String {
        "\(size) \(size == 1 ? "byte" : "bytes") \(isSigned ? "signed" : "unsigned")"
    }

    /// Parses `-8`, `4`.
    public init?(_ text: String) {
        let signed = text.hasPrefix("-")
        guard let size = Int(signed ? String(text.dropFirst()) : text), [1, 2, 4, 8].contains(size) else { return nil }
        self.init(size: size, isSigned: signed)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let layout = ValueLayout(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a layout such as -8 or 4: \(text)"))
        }
        self = layout
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension ArgumentSpec {
    /// The argument's size and sign.
    public var layout: ValueLayout { ValueLayout(size: size, isSigned: isSigned) }
}

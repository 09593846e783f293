/// What a tracepoint argument is, as a document, a cast or an expression
/// tells it: an integer of some size and sign, a bool, or a pointer.
public enum ArgumentType: Sendable, Hashable, Codable, CustomStringConvertible {
    /// An integer passed by value.
    case integer(ValueLayout)
    /// A `bool` passed by value.
    case bool
    /// A pointer to a NUL-terminated string.
    case string
    /// A pointer to bytes (a hash, a message).
    case bytes
    /// A pointer to anything else, or an address taken with `&`.
    case pointer

    /// The size and sign the argument has in a USDT note.
    public var layout: ValueLayout {
        switch self {
        case .integer(let layout): layout
        case .bool: ValueLayout(size: 1, isSigned: false)
        case .string, .bytes, .pointer: .pointer
        }
    }

    /// Whether the argument is an address rather than a value.
    public var isPointer: Bool {
        switch self {
        case .string, .bytes, .pointer: true
        case .integer, .bool: false
        }
    }

    /// `int64`, `uint32`, `bool`, `string`, `bytes` or `pointer`.
    public var description: String {
        switch self {
        case .integer(let layout): "\(layout.isSigned ? "" : "u")int\(layout.size * 8)"
        case .bool: "bool"
        case .string: "string"
        case .bytes: "bytes"
        case .pointer: "pointer"
        }
    }

    /// Reads a type as documents and C++ write it, at the start of `text`:
    /// `int64`, `uint32_t`, `unsigned int`, `size_t`, `bool`, `pointer to
    /// C-style String`, `pointer to unsigned chars`, `const char*` and so on;
    /// case does not matter and text after the type is ignored. Nil when
    /// `text` starts with no type it knows.
    public init?(parsing text: some StringProtocol) {
        let (words, stars) = Self.leadingWords(of: text.lowercased())
        guard let first = words.first else { return nil }
        if first == "pointer" {
            let pointee = words.dropFirst().first == "to" ? Array(words.dropFirst(2).prefix(3)) : []
            if pointee.contains(where: { $0.hasPrefix("string") }) {
                self = .string
            } else if pointee.contains(where: { $0.hasPrefix("byte") || $0.hasPrefix("uint8") })
                        || (pointee.contains("unsigned") && pointee.contains { $0.hasPrefix("char") }) {
                self = .bytes
            } else if pointee.first.map({ $0.hasPrefix("char") }) ?? false {
                self = .string
            } else {
                self = .pointer
            }
            return
        }
        // C spellings, longest first: "unsigned long long", "const char*".
        for length in stride(from: min(4, words.count), through: 1, by: -1) {
            let pointers = length == words.count ? stars : 0
            if let type = Self.named(words.prefix(length), pointers: pointers) {
                self = type
                return
            }
        }
        return nil
    }

    /// A type named in C or in a document, with `pointers` stars after it.
    private static func named(_ words: ArraySlice<String>, pointers: Int) -> ArgumentType? {
        let name = words.filter { !["const", "volatile"].contains($0) }
            .map { $0.hasPrefix("std::") ? String($0.dropFirst(5)) : $0 }
            .joined(separator: " ")
        if pointers > 0 {
            guard integerLayouts[name] != nil || ["void", "bool"].contains(name) else { return nil }
            if pointers == 1, ["char", "signed char"].contains(name) { return .string }
            if pointers == 1, ["unsigned char", "uint8_t", "uint8"].contains(name) { return .bytes }
            return .pointer
        }
        if ["bool", "boolean", "_bool"].contains(name) { return .bool }
        return integerLayouts[name].map(ArgumentType.integer)
    }

    /// The words `text` starts with (letters, digits, `_`, `-`, `::`), up to
    /// the first other character, and how many `*` follow them.
    private static func leadingWords(of text: String) -> (words: [String], stars: Int) {
        var words: [String] = []
        var current = ""
        var stars = 0
        for character in text {
            if stars == 0, character.isLetter || character.isNumber || "_-:".contains(character) {
                current.append(character)
                continue
            }
            if !current.isEmpty { words.append(current) }
            current = ""
            if character == "*" { stars += 1 } else if character != " " && character != "\t" { break }
        }
        if !current.isEmpty { words.append(current) }
        return (words, stars)
    }

    /// Integer types by name, on LP64 (x86_64, arm64 Linux).
    static let integerLayouts: [String: ValueLayout] = {
        var table: [String: ValueLayout] = [:]
        for bits in [8, 16, 32, 64] {
            table["int\(bits)"] = ValueLayout(size: bits / 8, isSigned: true)
            table["int\(bits)_t"] = ValueLayout(size: bits / 8, isSigned: true)
            table["uint\(bits)"] = ValueLayout(size: bits / 8, isSigned: false)
            table["uint\(bits)_t"] = ValueLayout(size: bits / 8, isSigned: false)
        }
        let c: [(String, Int, Bool)] = [
            ("char", 1, true), ("signed char", 1, true), ("unsigned char", 1, false),
            ("short", 2, true), ("short int", 2, true), ("signed short", 2, true),
            ("unsigned short", 2, false), ("unsigned short int", 2, false),
            ("int", 4, true), ("signed", 4, true), ("signed int", 4, true),
            ("unsigned", 4, false), ("unsigned int", 4, false),
            ("long", 8, true), ("long int", 8, true), ("signed long", 8, true),
            ("unsigned long", 8, false), ("unsigned long int", 8, false),
            ("long long", 8, true), ("long long int", 8, true), ("signed long long", 8, true),
            ("unsigned long long", 8, false), ("unsigned long long int", 8, false),
            ("size_t", 8, false), ("ssize_t", 8, true), ("ptrdiff_t", 8, true),
            ("intptr_t", 8, true), ("uintptr_t", 8, false), ("off_t", 8, true),
            ("intmax_t", 8, true), ("uintmax_t", 8, false),
        ]
        for (name, size, signed) in c { table[name] = ValueLayout(size: size, isSigned: signed) }
        return table
    }()

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        switch text {
        case "string": self = .string
        case "bytes": self = .bytes
        case "pointer": self = .pointer
        default:
            guard let type = ArgumentType(parsing: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an argument type: \(text)"))
            }
            self = type
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

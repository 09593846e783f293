import Foundation

/// One call of a tracing macro in a C or C++ source file: the probe it
/// fires and the expressions it passes.
public struct SourceCallSite: Sendable, Hashable, Codable {
    public var probe: ProbeName
    /// Where the macro's name is; the file is relative to the scanned folder.
    public var location: SourceLine
    /// The line of the call's closing parenthesis.
    public var endLine: Int
    /// The macro called: `TRACE6`, `TRACEPOINT`, `DTRACE_PROBE2`.
    public var macro: String
    /// The argument count the macro's name promises (6 for `TRACE6`); nil
    /// for the variadic `TRACEPOINT`.
    public var declaredCount: Int?
    /// The arguments after provider and name.
    public var arguments: [SourceArgument]

    /// Whether `line` lies within the call (it may span several lines).
    public func contains(line: Int) -> Bool { (location.line...endLine).contains(line) }
}

/// Finds the calls of tracing macros in C and C++ sources without a compiler.
///
/// It knows tapyrus-core's `TRACE` and `TRACE1` … `TRACE12`, Bitcoin Core's
/// variadic `TRACEPOINT(provider, name, ...)`, and sys/sdt.h's own
/// `DTRACE_PROBE`/`STAP_PROBE` forms. Calls may span lines; commas inside
/// parentheses, brackets, braces and template arguments (`static_cast<T>`,
/// `std::map<K, V>`) do not split arguments; comments, string and character
/// literals are skipped, and so are preprocessor lines (the macros'
/// own `#define`s). A `<` counts as a template bracket when it follows a
/// name directly and a matching `>` comes before the expression ends: `a<b,
/// c>d` reads as one argument, as the compiler reads it for a template `a`.
public enum SourceScanner {
    /// File name endings scanned in a tree.
    public static let sourceExtensions: Set<String> = ["c", "cc", "cpp", "cxx", "c++", "h", "hh", "hpp", "hxx", "ipp", "inl", "tcc"]

    /// The call sites in every C and C++ file under `path`, ordered by file
    /// and line; files are named relative to `path`. Hidden folders are skipped.
    public static func callSites(inTreeAt path: String) throws(ConformanceInputError) -> [SourceCallSite] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .init(path: path, problem: "no such folder; --source names the folder of the C++ sources (tapyrus-core's src)")
        }
        guard isDirectory.boolValue else { throw .init(path: path, problem: "is a file; --source names the folder of the C++ sources") }
        let root = URL(fileURLWithPath: path).standardizedFileURL
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey],
                                                          options: [.skipsHiddenFiles]) else {
            throw .init(path: path, problem: "cannot be listed (check its permissions)")
        }
        let rootPath = root.path.hasSuffix("/") ? root.path : root.path + "/"
        var relativePaths: [String] = []
        for case let url as URL in walker where sourceExtensions.contains(url.pathExtension.lowercased()) {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
            let full = url.standardizedFileURL.path
            relativePaths.append(full.hasPrefix(rootPath) ? String(full.dropFirst(rootPath.count)) : full)
        }
        var sites: [SourceCallSite] = []
        let marker = Data("TRACE".utf8)
        for relative in relativePaths.sorted() {
            guard let data = FileManager.default.contents(atPath: rootPath + relative),
                  data.range(of: marker) != nil
            else { continue }
            sites += callSites(in: [UInt8](data), file: relative)
        }
        return sites
    }

    /// The call sites in one file's text.
    public static func callSites(in text: String, file: String) -> [SourceCallSite] {
        callSites(in: Array(text.utf8), file: file)
    }

    static func callSites(in bytes: [UInt8], file: String) -> [SourceCallSite] {
        var lexer = CLexer(bytes: bytes)
        var sites: [SourceCallSite] = []
        while let (identifier, line) = lexer.nextIdentifier() {
            guard let macro = TracingMacro(identifier) else { continue }
            let checkpoint = lexer
            guard let (arguments, endLine) = lexer.callArguments() else {
                lexer = checkpoint
                continue
            }
            guard arguments.count >= 2,
                  let provider = arguments[0].identifier, let name = arguments[1].identifier
            else { continue }
            sites.append(SourceCallSite(
                probe: ProbeName(provider: provider, name: name),
                location: SourceLine(file: file, line: line),
                endLine: endLine,
                macro: identifier,
                declaredCount: macro.count,
                arguments: arguments.dropFirst(2).map { SourceArgument(expression: $0.text) }))
        }
        return sites
    }
}

/// A tracing macro's name and the argument count it promises.
private struct TracingMacro {
    var count: Int?

    init?(_ identifier: String) {
        if identifier == "TRACEPOINT" {
            count = nil
            return
        }
        for prefix in ["TRACE", "DTRACE_PROBE", "STAP_PROBE"] where identifier.hasPrefix(prefix) {
            let digits = identifier.dropFirst(prefix.count)
            if digits.isEmpty {
                count = 0
                return
            }
            guard digits.allSatisfy(\.isNumber), digits.count <= 2, let value = Int(digits), (0...12).contains(value),
                  !(digits.count == 2 && digits.first == "0")
            else { return nil }
            count = value
            return
        }
        return nil
    }
}

/// One macro argument's text, comments removed and white space collapsed.
private struct RawArgument {
    var text: String

    /// The argument as a bare identifier (a provider or probe name).
    var identifier: String? {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, CLexer.isIdentifierStart(first), bytes.allSatisfy(CLexer.isIdentifierByte) else { return nil }
        return text
    }
}

/// Reads C and C++ bytes: identifiers outside comments, literals and
/// preprocessor lines, and the arguments of a call.
private struct CLexer {
    let bytes: [UInt8]
    var index = 0
    var line = 1
    /// Only white space since the last newline (a `#` here starts a directive).
    var atLineStart = true

    init(bytes: [UInt8]) { self.bytes = bytes }

    static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte == 0x5f
    }

    static func isIdentifierByte(_ byte: UInt8) -> Bool {
        isIdentifierStart(byte) || (byte >= 0x30 && byte <= 0x39)
    }

    private func peek(_ offset: Int = 0) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    /// The next identifier outside comments, literals and directives, with its line.
    mutating func nextIdentifier() -> (String, Int)? {
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\n"):
                line += 1
                atLineStart = true
                index += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), 0x0b, 0x0c:
                index += 1
            case UInt8(ascii: "#") where atLineStart:
                skipDirective()
            default:
                atLineStart = false
                if skipCommentOrLiteral() { continue }
                if Self.isIdentifierStart(byte) {
                    let start = index
                    while index < bytes.count, Self.isIdentifierByte(bytes[index]) { index += 1 }
                    // A raw string's prefix: R"(...)", u8R"x(...)x".
                    if index < bytes.count, bytes[index] == UInt8(ascii: "\""), bytes[index - 1] == UInt8(ascii: "R") {
                        skipRawString()
                        continue
                    }
                    return (String(decoding: bytes[start..<index], as: UTF8.self), line)
                }
                if byte >= 0x30 && byte <= 0x39 {
                    // A number, with digit separators (1'000) and suffixes.
                    while index < bytes.count, Self.isIdentifierByte(bytes[index]) || bytes[index] == UInt8(ascii: ".")
                            || (bytes[index] == UInt8(ascii: "'") && index + 1 < bytes.count && Self.isIdentifierByte(bytes[index + 1])) {
                        index += 1
                    }
                    continue
                }
                index += 1
            }
        }
        return nil
    }

    /// Skips a preprocessor line and its backslash continuations.
    private mutating func skipDirective() {
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\"), peek(1) == UInt8(ascii: "\n") {
                index += 2
                line += 1
            } else if byte == UInt8(ascii: "\\"), peek(1) == UInt8(ascii: "\r"), peek(2) == UInt8(ascii: "\n") {
                index += 3
                line += 1
            } else if byte == UInt8(ascii: "\n") {
                return
            } else if byte == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "*") {
                _ = skipCommentOrLiteral()
            } else {
                index += 1
            }
        }
    }

    /// Skips a comment or a string or character literal at `index`, if one starts there.
    private mutating func skipCommentOrLiteral() -> Bool {
        guard index < bytes.count else { return false }
        let byte = bytes[index]
        if byte == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "/") {
            while index < bytes.count, bytes[index] != UInt8(ascii: "\n") {
                // A backslash at the end continues a line comment.
                if bytes[index] == UInt8(ascii: "\\"), peek(1) == UInt8(ascii: "\n") {
                    index += 1
                    line += 1
                }
                index += 1
            }
            return true
        }
        if byte == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "*") {
            index += 2
            while index < bytes.count, !(bytes[index] == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/")) {
                if bytes[index] == UInt8(ascii: "\n") { line += 1 }
                index += 1
            }
            index = min(bytes.count, index + 2)
            return true
        }
        if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
            index += 1
            while index < bytes.count, bytes[index] != byte {
                if bytes[index] == UInt8(ascii: "\\") { index += 1 }
                if index < bytes.count, bytes[index] == UInt8(ascii: "\n") {
                    line += 1
                    if byte == UInt8(ascii: "'") { break } // not a literal after all (an apostrophe)
                }
                index += 1
            }
            index = min(bytes.count, index + 1)
            return true
        }
        return false
    }

    /// Skips `"delimiter( … )delimiter"` at `index` (the opening quote).
    private mutating func skipRawString() {
        index += 1
        let delimiterStart = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "("), index - delimiterStart < 16 { index += 1 }
        let closing = [UInt8(ascii: ")")] + Array(bytes[delimiterStart..<index]) + [UInt8(ascii: "\"")]
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") { line += 1 }
            if bytes[index] == closing[0], index + closing.count <= bytes.count, Array(bytes[index..<index + closing.count]) == closing {
                index += closing.count
                return
            }
            index += 1
        }
    }

    /// Reads `( a, b, … )` after a macro name: the arguments split at
    /// top-level commas, and the line of the closing parenthesis. Nil when
    /// no `(` follows (the name is not called here) or it is never closed.
    mutating func callArguments() -> ([RawArgument], Int)? {
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\n") {
                line += 1
                index += 1
            } else if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") {
                index += 1
            } else if byte == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "/") || peek(1) == UInt8(ascii: "*") {
                _ = skipCommentOrLiteral()
            } else {
                break
            }
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "(") else { return nil }
        index += 1
        var arguments: [RawArgument] = []
        var current: [UInt8] = []
        /// Open brackets: ( [ { and < for template arguments.
        var open: [UInt8] = []
        var pendingSpace = false

        func append(_ slice: ArraySlice<UInt8>) {
            if pendingSpace, !current.isEmpty { current.append(UInt8(ascii: " ")) }
            pendingSpace = false
            current += slice
        }
        func finishArgument() {
            arguments.append(RawArgument(text: String(decoding: current, as: UTF8.self)))
            current = []
            pendingSpace = false
        }

        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\n"):
                line += 1
                pendingSpace = true
                index += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), 0x0b, 0x0c:
                pendingSpace = true
                index += 1
            case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "/") || peek(1) == UInt8(ascii: "*"):
                _ = skipCommentOrLiteral()
                pendingSpace = true
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                let start = index
                if byte == UInt8(ascii: "'"), index > 0, bytes[index - 1] >= 0x30, bytes[index - 1] <= 0x39 {
                    append(bytes[index...index]) // a digit separator
                    index += 1
                    continue
                }
                if byte == UInt8(ascii: "\""), index > 0, bytes[index - 1] == UInt8(ascii: "R") {
                    skipRawString()
                } else {
                    _ = skipCommentOrLiteral()
                }
                append(bytes[start..<index])
            case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"):
                open.append(byte)
                append(bytes[index...index])
                index += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"):
                // Template brackets never stay open across a closing bracket.
                while open.last == UInt8(ascii: "<") { open.removeLast() }
                if open.isEmpty {
                    guard byte == UInt8(ascii: ")") else { return nil }
                    index += 1
                    if !current.isEmpty || !arguments.isEmpty { finishArgument() }
                    return (arguments, line)
                }
                open.removeLast()
                append(bytes[index...index])
                index += 1
            case UInt8(ascii: "<"):
                if opensTemplate(at: index) { open.append(byte) }
                append(bytes[index...index])
                index += 1
            case UInt8(ascii: ">"):
                let isArrow = index > 0 && bytes[index - 1] == UInt8(ascii: "-")
                if !isArrow, open.last == UInt8(ascii: "<") { open.removeLast() }
                append(bytes[index...index])
                index += 1
            case UInt8(ascii: ",") where open.isEmpty:
                finishArgument()
                index += 1
            case UInt8(ascii: ";"):
                return nil // a statement ended: this was no call
            default:
                let start = index
                if Self.isIdentifierByte(byte) {
                    while index < bytes.count, Self.isIdentifierByte(bytes[index]) { index += 1 }
                } else {
                    index += 1
                }
                append(bytes[start..<index])
            }
        }
        return nil
    }

    /// Whether the `<` at `position` opens template arguments: it follows a
    /// name directly, is not `<<` or `<=`, and a matching `>` comes before
    /// the expression ends (`;`, `{`, `}`, `&&`, `||`, an unmatched `)` or `]`).
    private func opensTemplate(at position: Int) -> Bool {
        guard position > 0, Self.isIdentifierByte(bytes[position - 1]) else { return false }
        if position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "<") || bytes[position + 1] == UInt8(ascii: "=") { return false }
        if position >= 2, bytes[position - 1] == UInt8(ascii: "<") { return false }
        var depth = 0
        var angles = 0
        var cursor = position + 1
        let limit = min(bytes.count, position + 1024)
        while cursor < limit {
            let byte = bytes[cursor]
            switch byte {
            case UInt8(ascii: ";"), UInt8(ascii: "{"), UInt8(ascii: "}"):
                return false
            case UInt8(ascii: "&"), UInt8(ascii: "|"):
                if cursor + 1 < limit, bytes[cursor + 1] == byte { return false }
            case UInt8(ascii: "("), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"):
                if depth == 0 { return false }
                depth -= 1
            case UInt8(ascii: "<") where depth == 0 && Self.isIdentifierByte(bytes[cursor - 1]):
                angles += 1
            case UInt8(ascii: ">") where depth == 0 && bytes[cursor - 1] != UInt8(ascii: "-"):
                if angles == 0 { return true }
                angles -= 1
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                cursor += 1
                while cursor < limit, bytes[cursor] != byte {
                    if bytes[cursor] == UInt8(ascii: "\\") { cursor += 1 }
                    cursor += 1
                }
            default:
                break
            }
            cursor += 1
        }
        return false
    }
}

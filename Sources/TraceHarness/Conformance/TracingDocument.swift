import Foundation

/// A tracepoint document in tapyrus-core's format (its `doc/tracing.md`):
/// each tracepoint under a heading `#### Tracepoint `provider:name``, then
/// its arguments as a numbered list, each naming its type.
///
/// The reader takes the variations the real document has: headings with or
/// without backticks, `1.Text` without a space, the type in backticks or
/// plain after `as`, a type without `as`, items that continue on indented
/// lines. Fenced code blocks are skipped. For example:
///
/// ```
/// #### Tracepoint `net:closed`
///
/// Arguments passed:
/// 1. Peer ID as `int64`
/// 2. Reason as `pointer to C-style String` (max. length 20 characters)
/// ```
public struct TracingDocument: Sendable, Hashable, Codable {
    /// The file the document was read from.
    public var path: String
    /// The documented tracepoints, in document order.
    public var tracepoints: [DocumentedTracepoint]

    /// Reads the document at `path`.
    public init(contentsOf path: String) throws(ConformanceInputError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .init(path: path, problem: "no such file; --doc names a tracing.md such as tapyrus-core's doc/tracing.md")
        }
        guard !isDirectory.boolValue else { throw .init(path: path, problem: "is a directory; --doc names the tracing.md file itself") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .init(path: path, problem: "cannot be read (check its permissions)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw .init(path: path, problem: "is not UTF-8 text") }
        self.init(parsing: text, path: path)
        guard !tracepoints.isEmpty else {
            throw .init(path: path, problem: "documents no tracepoint (no heading such as \"#### Tracepoint `net:inbound_message`\")")
        }
    }

    /// Reads a document held in memory; `path` names it in reports.
    public init(parsing text: String, path: String) {
        self.path = path
        self.tracepoints = DocumentReader(lines: text.components(separatedBy: "\n")).tracepoints()
    }

    /// The first documentation of `probe`.
    public subscript(probe: ProbeName) -> DocumentedTracepoint? {
        tracepoints.first { $0.probe == probe }
    }
}

/// One tracepoint as a document describes it.
public struct DocumentedTracepoint: Sendable, Hashable, Codable {
    public var probe: ProbeName
    /// The line of its heading, 1-based.
    public var line: Int
    public var arguments: [DocumentedArgument]
}

/// One numbered argument of a documented tracepoint.
public struct DocumentedArgument: Sendable, Hashable, Codable {
    /// The item's number as written (1-based).
    public var number: Int
    public var line: Int
    /// What the argument is, as the document names it: `Peer ID`.
    public var name: String
    /// The type as written (`pointer to C-style String`), nil if the item
    /// names none the reader knows.
    public var typeText: String?
    public var type: ArgumentType?
    /// The whole item, continuation lines joined.
    public var text: String
}

/// A conformance input (document, source tree) that cannot be used.
public struct ConformanceInputError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var description: String { "\(path): \(problem)" }
}

/// Walks a document's lines once.
private struct DocumentReader {
    var lines: [String]

    func tracepoints() -> [DocumentedTracepoint] {
        var result: [DocumentedTracepoint] = []
        var current: (probe: ProbeName, line: Int, level: Int, items: [(number: Int, line: Int, text: String)], listEnded: Bool)?
        var inFence = false

        func finish() {
            guard let done = current else { return }
            result.append(DocumentedTracepoint(probe: done.probe, line: done.line,
                                               arguments: done.items.map { Self.argument(number: $0.number, line: $0.line, text: $0.text) }))
            current = nil
        }

        for (index, raw) in lines.enumerated() {
            let line = raw.replacingOccurrences(of: "\r", with: "")
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                inFence.toggle()
                continue
            }
            if inFence { continue }
            if let (level, title) = Self.heading(trimmed) {
                if let open = current, level <= open.level || Self.tracepointName(title) != nil { finish() }
                if let probe = Self.tracepointName(title) {
                    current = (probe, index + 1, level, [], false)
                }
                continue
            }
            guard var open = current, !open.listEnded else { continue }
            if let (number, text) = Self.listItem(line) {
                open.items.append((number, index + 1, text))
            } else if trimmed.isEmpty {
                // A blank line may separate items; a following paragraph ends the list.
            } else if !open.items.isEmpty {
                let indented = line.first == " " || line.first == "\t"
                if indented || !Self.previousLineIsBlank(lines, index) {
                    open.items[open.items.count - 1].text += " " + trimmed
                } else {
                    open.listEnded = true
                }
            }
            current = open
        }
        finish()
        return result
    }

    private static func previousLineIsBlank(_ lines: [String], _ index: Int) -> Bool {
        index > 0 && lines[index - 1].trimmingCharacters(in: .whitespaces).isEmpty
    }

    /// `#### Title` as (4, "Title").
    static func heading(_ line: String) -> (Int, String)? {
        let level = line.prefix { $0 == "#" }.count
        guard (1...6).contains(level) else { return nil }
        let rest = line.dropFirst(level)
        guard rest.isEmpty || rest.first == " " || rest.first == "\t" else { return nil }
        return (level, rest.trimmingCharacters(in: .whitespaces))
    }

    /// The probe of a heading `Tracepoint `provider:name`` (backticks optional).
    static func tracepointName(_ title: String) -> ProbeName? {
        let words = title.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard words.count >= 2, words[0].lowercased() == "tracepoint" else { return nil }
        let name = words[1].trimmingCharacters(in: CharacterSet(charactersIn: "`*_"))
        guard let probe = ProbeName(name),
              [probe.provider, probe.name].allSatisfy({ $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } })
        else { return nil }
        return probe
    }

    /// `1. Text`, `1.Text` or `1) Text`, indented at most three spaces.
    static func listItem(_ line: String) -> (Int, String)? {
        let indent = line.prefix { $0 == " " }.count
        guard indent <= 3 else { return nil }
        let rest = line.dropFirst(indent)
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 3, let number = Int(digits) else { return nil }
        let after = rest.dropFirst(digits.count)
        guard let marker = after.first, marker == "." || marker == ")" else { return nil }
        let text = after.dropFirst()
        // "1.5 seconds" is not an item; "1.Transaction" is.
        if let next = text.first, next.isNumber { return nil }
        return (number, text.trimmingCharacters(in: .whitespaces))
    }

    /// Splits an item into name and type: the first backticked type, else a
    /// type after " as ", else the whole item is the name.
    static func argument(number: Int, line: Int, text: String) -> DocumentedArgument {
        for span in backtickedSpans(text) {
            guard let type = ArgumentType(parsing: span.content) else { continue }
            return DocumentedArgument(number: number, line: line, name: name(before: text[..<span.start]),
                                      typeText: span.content, type: type, text: text)
        }
        var searchStart = text.startIndex
        while let range = text.range(of: " as ", options: .caseInsensitive, range: searchStart..<text.endIndex) {
            let after = text[range.upperBound...].trimmingCharacters(in: .whitespaces)
            if let type = ArgumentType(parsing: after) {
                let typeText = after.prefix { $0 != "(" && $0 != "." && $0 != "," && $0 != ";" }
                    .trimmingCharacters(in: .whitespaces)
                return DocumentedArgument(number: number, line: line, name: name(before: text[..<range.lowerBound]),
                                          typeText: typeText, type: type, text: text)
            }
            searchStart = range.upperBound
        }
        return DocumentedArgument(number: number, line: line, name: name(before: Substring(text)), typeText: nil, type: nil, text: text)
    }

    private static func name(before text: Substring) -> String {
        var name = text.trimmingCharacters(in: .whitespaces)
        if name.lowercased().hasSuffix(" as") { name = String(name.dropLast(3)) }
        return name.trimmingCharacters(in: CharacterSet(charactersIn: " :,-"))
    }

    private static func backtickedSpans(_ text: String) -> [(start: String.Index, content: String)] {
        var spans: [(String.Index, String)] = []
        var index = text.startIndex
        while let open = text[index...].firstIndex(of: "`") {
            let contentStart = text.index(after: open)
            guard let close = text[contentStart...].firstIndex(of: "`") else { break }
            spans.append((open, String(text[contentStart..<close])))
            index = text.index(after: close)
        }
        return spans
    }
}

/// The Swift catalogue declaration of a probe found in a binary: a typed
/// event with its ``Tracepoint``, ready to paste into
/// `TapyrusTracepoints.swift` and to list in ``TracepointCatalogue/tapyrusd``.
///
/// Each field's kind follows from the note's size and sign. An 8-byte
/// unsigned argument may be a `uint64` or a pointer (a string, a hash, a
/// payload): the note cannot tell, so the field is declared `.uint64` and
/// marked for the developer to choose, unless the call site's expression
/// tells (`.c_str()` is a string, `.begin()` a hash, `.data()` a payload).
/// Fields are named `arg0`, `arg1`, … to rename, or after the call site's
/// expressions when one is given.
public struct CatalogueDeclaration: Sendable, Hashable {
    /// One field of the declaration.
    public struct DeclaredField: Sendable, Hashable {
        public var field: Field
        /// What the developer should check or choose, if anything.
        public var choice: String?
        /// The note's spec (`-8@%rax`) or the call's expression it comes from.
        public var origin: String
    }

    public var probe: ProbeName
    /// The event type's name: the probe name in UpperCamelCase.
    public var typeName: String
    public var fields: [DeclaredField]
    /// Warnings about the probe's sites (sites that disagree).
    public var warnings: [String]

    /// The declaration for `probe`, from its sites (they should agree; the
    /// first site decides where they do not) and optionally one of its calls.
    public init(probe: ProbeName, sites: [ProbeSite], call: SourceCallSite? = nil) {
        self.probe = probe
        typeName = probe.name.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        let specs = sites.first?.arguments ?? []
        var warnings: [String] = []
        for site in sites.dropFirst() where site.arguments.map(\.layout) != specs.map(\.layout) {
            warnings.append("site 0x\(String(site.address, radix: 16)) passes [\(site.arguments.map(\.layout.description).joined(separator: " "))], "
                            + "the first site [\(specs.map(\.layout.description).joined(separator: " "))]: the declaration follows the first")
        }
        if let call, call.arguments.count != specs.count {
            warnings.append("the call at \(call.location) passes \(call.arguments.count) arguments, the note \(specs.count): names come from the note")
        }
        let arguments = call.flatMap { $0.arguments.count == specs.count ? $0.arguments : nil }
        var names = specs.indices.map { index in arguments.flatMap { Self.name(for: $0[index].expression) } ?? "arg\(index)" }
        for (index, name) in names.enumerated() where names.filter({ $0 == name }).count > 1 { names[index] = "\(name)\(index)" }
        fields = specs.enumerated().map { index, spec in
            Self.field(named: names[index], spec: spec, argument: arguments?[index], all: arguments, names: names)
        }
        self.warnings = warnings
    }

    private static func field(named name: String, spec: ArgumentSpec, argument: SourceArgument?,
                              all: [SourceArgument]?, names: [String]) -> DeclaredField {
        let origin = argument.map { "\(spec.text): \($0.expression)" } ?? spec.text
        switch (spec.size, spec.isSigned) {
        case (8, true): return DeclaredField(field: .int64(name), origin: origin)
        case (4, true): return DeclaredField(field: .int32(name), origin: origin)
        case (4, false): return DeclaredField(field: .uint32(name), origin: origin)
        case (1, false):
            return DeclaredField(field: .bool(name), choice: "1 byte unsigned: a bool, or Field(\"\(name)\", .integer(bytes: 1, signed: false))", origin: origin)
        case (8, false):
            let pointerChoice = "8 bytes unsigned: a uint64, or a pointer: .string(\"\(name)\", maxLength: N), .hash256(\"\(name)\") or .payload(\"\(name)\", lengthField: \"…\", maxLength: N)"
            switch argument?.type {
            case .string?:
                return DeclaredField(field: .string(name, maxLength: 127), choice: "a C string: choose maxLength", origin: origin)
            case .bytes? where argument!.expression.hasSuffix(".data()") || argument!.expression.hasSuffix("->data()"):
                // A payload whose length another argument passes: X.data() with X.size().
                let base = argument!.expression.dropLast("data()".count)
                if let lengthIndex = all?.firstIndex(where: { $0.expression == base + "size()" }) {
                    return DeclaredField(field: .payload(name, lengthField: names[lengthIndex], maxLength: 0x0200_0000),
                                         choice: "bytes of the length \(names[lengthIndex]) passes: choose maxLength", origin: origin)
                }
                return DeclaredField(field: .uint64(name), choice: pointerChoice, origin: origin)
            case .bytes?:
                return DeclaredField(field: .hash256(name), choice: "a pointer to bytes: a 32-byte hash, or .payload(…)", origin: origin)
            case .pointer?:
                return DeclaredField(field: .uint64(name), choice: "an address: read it as a uint64, or as what it points to", origin: origin)
            default:
                return DeclaredField(field: .uint64(name), choice: argument?.type == nil ? pointerChoice : nil, origin: origin)
            }
        default:
            return DeclaredField(field: Field(name, .integer(bytes: spec.size, signed: spec.isSigned)), origin: origin)
        }
    }

    /// A field name from an expression: its last top-level identifier that
    /// says what the value is, in snake_case (`it->second.coin.nHeight` is
    /// `height`).
    static func name(for expression: String) -> String? {
        let noise: Set<String> = ["c_str", "begin", "data", "GetHex", "ToString", "toHexString", "get", "first", "second", "it",
                                  "static_cast", "reinterpret_cast", "const_cast", "int64_t", "uint64_t", "int32_t", "uint32_t",
                                  "int16_t", "uint16_t", "int8_t", "uint8_t", "bool", "size_t", "unsigned", "int", "long", "char", "const"]
        // What is called or read at the top level, not its arguments:
        // `CNode::GetConnectionType(pfrom)` is a connection type.
        var depth = 0
        var outer = ""
        for character in expression {
            if "([{".contains(character) { depth += 1; outer.append(" ") }
            else if ")]}".contains(character) { depth = max(0, depth - 1) }
            else if depth == 0 { outer.append(character) }
        }
        let identifiers = outer.split { !($0.isLetter || $0.isNumber || $0 == "_") }.map(String.init)
            .filter { !noise.contains($0) && !($0.first?.isNumber ?? true) }
        guard let last = identifiers.last else { return nil }
        let words = Words.split(last.hasPrefix("Get") && last.count > 3 ? String(last.dropFirst(3)) : last)
        let name = words.joined(separator: "_")
        return name.isEmpty ? nil : name
    }

    /// The Swift source: the typed event with its tracepoint, fields and
    /// initialiser, with a comment on each field that needs a choice.
    public var swiftSource: String {
        var lines: [String] = []
        lines.append("/// `\(probe)`: <#what happened#>.")
        for warning in warnings { lines.append("/// - Warning: \(warning)") }
        lines.append("public struct \(typeName): CataloguedEvent {")
        lines.append("    public static let tracepoint = Tracepoint(\"\(probe.provider)\", \"\(probe.name)\", \"<#what happened#>\", fields: [")
        for declared in fields {
            let comment = ["from \(declared.origin)", declared.choice].compactMap { $0 }.joined(separator: "; ")
            lines.append("        \(Self.literal(declared.field)),  // \(comment)")
        }
        lines.append("    ])")
        for declared in fields {
            lines.append("    public var \(Self.propertyName(declared.field.name)): \(Self.swiftType(declared.field.kind))")
        }
        lines.append("")
        lines.append("    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) {")
        for declared in fields {
            lines.append("        \(Self.propertyName(declared.field.name)) = \(Self.reader(declared.field.kind))")
        }
        lines.append("    }")
        lines.append("}")
        lines.append("// Then list \(typeName).self in TracepointCatalogue.tapyrusd.")
        return lines.joined(separator: "\n")
    }

    /// `.int64("name")`, as the catalogue writes fields.
    static func literal(_ field: Field) -> String {
        let name = "\"\(field.name)\""
        switch field.kind {
        case .integer(8, true): return ".int64(\(name))"
        case .integer(8, false): return ".uint64(\(name))"
        case .integer(4, true): return ".int32(\(name))"
        case .integer(4, false): return ".uint32(\(name))"
        case .integer(let bytes, let signed): return "Field(\(name), .integer(bytes: \(bytes), signed: \(signed)))"
        case .bool: return ".bool(\(name))"
        case .string(let maxLength): return ".string(\(name), maxLength: \(maxLength))"
        case .hash256: return ".hash256(\(name))"
        case .payload(let lengthField, let maxLength):
            return ".payload(\(name), lengthField: \"\(lengthField)\", maxLength: 0x\(String(maxLength, radix: 16)))"
        }
    }

    static func swiftType(_ kind: Field.Kind) -> String {
        switch kind {
        case .integer(let bytes, let signed): "\(signed ? "" : "U")Int\(bytes * 8)"
        case .bool: "Bool"
        case .string: "String"
        case .hash256: "Hash256"
        case .payload: "Payload"
        }
    }

    /// How the initialiser reads a field of `kind`: the next slot, in
    /// declaration order (``EventFieldReader``).
    static func reader(_ kind: Field.Kind) -> String {
        switch kind {
        case .integer(8, true): return "try reader.int64()"
        case .integer(8, false): return "try reader.uint64()"
        case .integer(4, true): return "try reader.int32()"
        case .integer(4, false): return "try reader.uint32()"
        case .integer(let bytes, let signed):
            return "\(signed ? "" : "U")Int\(bytes * 8)(truncatingIfNeeded: try reader.\(signed ? "int64" : "uint64")())"
        case .bool: return "try reader.bool()"
        case .string: return "try reader.string()"
        case .hash256: return "try reader.hash()"
        case .payload: return "try reader.payload()"
        }
    }

    /// `peer_id` as `peerID`-style lowerCamelCase: `peerId`.
    static func propertyName(_ name: String) -> String {
        let parts = name.split(separator: "_")
        guard let first = parts.first else { return name }
        let camel = first.lowercased() + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        return Self.keywords.contains(camel) ? "`\(camel)`" : camel
    }

    private static let keywords: Set<String> = ["default", "case", "class", "struct", "enum", "func", "var", "let", "in", "is", "as",
                                                "self", "Self", "init", "deinit", "return", "if", "else", "for", "while", "switch",
                                                "where", "protocol", "extension", "import", "static", "public", "private", "internal",
                                                "operator", "subscript", "typealias", "true", "false", "nil", "repeat", "do", "try",
                                                "throw", "throws", "rethrows", "catch", "break", "continue", "fallthrough", "guard", "defer"]
}

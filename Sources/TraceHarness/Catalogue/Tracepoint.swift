/// The declaration of one tracepoint: its probe name and its arguments in order.
///
/// This is the single source of truth for a tracepoint. From it the harness
/// derives the argument layout the eBPF program follows, the size and sign
/// each argument must have in a binary's ELF note (for `verify`), and the
/// field names of decoded events.
public struct Tracepoint: Sendable, Hashable {
    public var probe: ProbeName
    public var summary: String
    public var fields: [Field]

    public init(_ provider: String, _ name: String, _ summary: String, fields: [Field]) {
        self.probe = ProbeName(provider: provider, name: name)
        self.summary = summary
        self.fields = fields
    }

    /// The index of the field called `name`.
    public func index(of name: String) -> Int? {
        fields.firstIndex { $0.name == name }
    }
}

/// One argument of a tracepoint.
public struct Field: Sendable, Hashable {
    /// How an argument is passed and read.
    public enum Kind: Sendable, Hashable {
        /// An integer of `bytes` bytes passed by value.
        case integer(bytes: Int, signed: Bool)
        /// A `bool` passed by value (one byte).
        case bool
        /// A pointer to a NUL-terminated string of at most `maxLength`
        /// characters (longer strings arrive cut and marked truncated).
        case string(maxLength: Int)
        /// A pointer to a 32-byte hash stored little-endian, as in memory.
        case hash256
        /// A pointer to as many bytes as the field `lengthField` says, at
        /// most `maxLength`, delivered whole in chunks.
        case payload(lengthField: String, maxLength: Int)
    }

    public var name: String
    public var kind: Kind
    /// Unit or meaning, for people: "µs", "tapyrus units", "0 NONE ...".
    public var note: String?

    public init(_ name: String, _ kind: Kind, note: String? = nil) {
        self.name = name
        self.kind = kind
        self.note = note
    }

    /// The size and sign the argument must have in a binary's ELF note.
    public var expectedSpec: (size: Int, isSigned: Bool) {
        switch kind {
        case .integer(let bytes, let signed): (bytes, signed)
        case .bool: (1, false)
        case .string, .hash256, .payload: (8, false)
        }
    }
}

extension Field {
    public static func int32(_ name: String, note: String? = nil) -> Field { Field(name, .integer(bytes: 4, signed: true), note: note) }
    public static func uint32(_ name: String, note: String? = nil) -> Field { Field(name, .integer(bytes: 4, signed: false), note: note) }
    public static func int64(_ name: String, note: String? = nil) -> Field { Field(name, .integer(bytes: 8, signed: true), note: note) }
    public static func uint64(_ name: String, note: String? = nil) -> Field { Field(name, .integer(bytes: 8, signed: false), note: note) }
    public static func bool(_ name: String, note: String? = nil) -> Field { Field(name, .bool, note: note) }
    public static func string(_ name: String, maxLength: Int, note: String? = nil) -> Field { Field(name, .string(maxLength: maxLength), note: note) }
    public static func hash256(_ name: String, note: String? = nil) -> Field { Field(name, .hash256, note: note) }
    public static func payload(_ name: String, lengthField: String, maxLength: Int, note: String? = nil) -> Field {
        Field(name, .payload(lengthField: lengthField, maxLength: maxLength), note: note)
    }
}

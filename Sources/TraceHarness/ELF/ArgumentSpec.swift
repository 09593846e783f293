/// One argument of a USDT probe site as its ELF note describes it.
///
/// The note stores each argument as `N@operand`: N is the size in bytes, a
/// leading `-` marks it signed, and the operand is where the value lives when
/// the probe fires, in AT&T syntax, for example `-8@-3512(%rbp)`, `4@%eax`
/// or `-4@$5`.
public struct ArgumentSpec: Sendable, Hashable, CustomStringConvertible {
    /// Where an argument's value lives when the probe fires.
    public enum Operand: Sendable, Hashable {
        /// A register, named without `%` (`rax`, `edi`).
        case register(String)
        /// Memory at `offset(base,index,scale)`; `symbol` for forms like
        /// `counter(%rip)`.
        case memory(offset: Int64, symbol: String?, base: String?, index: String?, scale: Int)
        /// A constant (`$5`).
        case constant(Int64)
    }

    /// Size of the value in bytes: 1, 2, 4 or 8.
    public var size: Int
    public var isSigned: Bool
    public var operand: Operand
    /// The spec as written in the note.
    public var text: String

    public var description: String { text }

    /// Whether the operand is addressed relative to the instruction pointer
    /// (`counter(%rip)`, a global variable), which libbpf 1.1's USDT support
    /// cannot read: a probe with such an argument cannot be attached.
    public var isInstructionPointerRelative: Bool {
        if case let .memory(_, _, base, _, _) = operand, let base, ["rip", "eip"].contains(base) { return true }
        return false
    }

    /// Parses one spec such as `-8@-3512(%rbp)`.
    public init(parsing text: String) throws(ArgumentSpecError) {
        self.text = text
        guard let at = text.firstIndex(of: "@") else { throw ArgumentSpecError(spec: text, reason: "missing '@'") }
        var sizeText = text[..<at]
        isSigned = sizeText.hasPrefix("-")
        if isSigned { sizeText = sizeText.dropFirst() }
        guard let size = Int(sizeText), [1, 2, 4, 8].contains(size) else {
            throw ArgumentSpecError(spec: text, reason: "size must be 1, 2, 4 or 8 bytes")
        }
        self.size = size
        operand = try Self.parseOperand(String(text[text.index(after: at)...]), spec: text)
    }

    private static func parseOperand(_ operand: String, spec: String) throws(ArgumentSpecError) -> Operand {
        if operand.hasPrefix("%") {
            let name = operand.dropFirst()
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber }) else {
                throw ArgumentSpecError(spec: spec, reason: "bad register '\(operand)'")
            }
            return .register(String(name))
        }
        if operand.hasPrefix("$") {
            guard let value = parseInteger(operand.dropFirst()) else {
                throw ArgumentSpecError(spec: spec, reason: "bad constant '\(operand)'")
            }
            return .constant(value)
        }
        // displacement(base,index,scale), each part optional.
        let open = operand.firstIndex(of: "(") ?? operand.endIndex
        let displacement = operand[..<open]
        var offset: Int64 = 0
        var symbol: String?
        if !displacement.isEmpty {
            if let value = parseInteger(displacement) {
                offset = value
            } else {
                // symbol, symbol+N or symbol-N
                let sign = displacement.lastIndex(where: { $0 == "+" || $0 == "-" })
                if let sign, sign != displacement.startIndex, let value = parseInteger(displacement[sign...].drop(while: { $0 == "+" })) {
                    symbol = String(displacement[..<sign])
                    offset = value
                } else {
                    symbol = String(displacement)
                }
            }
        }
        var base: String?
        var index: String?
        var scale = 1
        if open != operand.endIndex {
            guard operand.hasSuffix(")") else {
                throw ArgumentSpecError(spec: spec, reason: "unbalanced parenthesis in '\(operand)'")
            }
            let inner = operand[operand.index(after: open)..<operand.index(before: operand.endIndex)]
            let parts = inner.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            func register(_ part: String) throws(ArgumentSpecError) -> String? {
                if part.isEmpty { return nil }
                guard part.hasPrefix("%"), part.count > 1 else {
                    throw ArgumentSpecError(spec: spec, reason: "bad register '\(part)'")
                }
                return String(part.dropFirst())
            }
            guard (1...3).contains(parts.count) else {
                throw ArgumentSpecError(spec: spec, reason: "bad memory operand '\(operand)'")
            }
            base = try register(parts[0])
            if parts.count > 1 { index = try register(parts[1]) }
            if parts.count > 2 {
                guard let value = Int(parts[2]), [1, 2, 4, 8].contains(value) else {
                    throw ArgumentSpecError(spec: spec, reason: "bad scale '\(parts[2])'")
                }
                scale = value
            }
        } else if symbol == nil {
            throw ArgumentSpecError(spec: spec, reason: "unrecognised operand '\(operand)'")
        }
        return .memory(offset: offset, symbol: symbol, base: base, index: index, scale: scale)
    }

    private static func parseInteger(_ text: Substring) -> Int64? {
        var digits = text
        let negative = digits.hasPrefix("-")
        if negative || digits.hasPrefix("+") { digits = digits.dropFirst() }
        let magnitude: UInt64?
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            magnitude = UInt64(digits.dropFirst(2), radix: 16)
        } else {
            magnitude = UInt64(digits)
        }
        guard let magnitude else { return nil }
        return negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(truncatingIfNeeded: magnitude)
    }
}

/// A USDT argument spec that could not be parsed.
public struct ArgumentSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    public var spec: String
    public var reason: String
    public var description: String { "cannot parse USDT argument '\(spec)': \(reason)" }
}

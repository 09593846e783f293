/// One expression a call site passes to a tracing macro, and what its text
/// says about its type (no compiler is involved, so only what is written).
public struct SourceArgument: Sendable, Hashable, Codable {
    /// The expression, comments removed and white space collapsed.
    public var expression: String
    /// The type the whole expression is cast to, as written (`uint32_t`,
    /// `const char*`, `CAmount`); nil if it is not cast as a whole.
    public var cast: String?
    /// Whether the expression passes an address taken with `&`.
    public var passesAddress: Bool
    /// What the expression passes, where its text tells: the cast's type; a
    /// pointer for `&x`; a string for a string literal or `.c_str()`; bytes
    /// for `.begin()` or `.data()`; a `uint64` for `.size()`; a literal's
    /// type. Nil otherwise (a variable of a type the text does not name).
    public var type: ArgumentType?

    public init(expression: String) {
        self.expression = expression
        let parsed = CExpression(expression)
        cast = parsed.cast
        passesAddress = parsed.passesAddress
        type = parsed.type
    }
}

/// The little of C++ expression syntax the call-site reader needs: casts,
/// address-of, literals and a few well-known member calls.
struct CExpression {
    var cast: String?
    var passesAddress = false
    var type: ArgumentType?

    init(_ text: String) {
        var operand = Self.strippingParentheses(Array(text.trimmingCharacters(in: .whitespaces)))
        var castTypes: [String] = []
        while let (castType, inner) = Self.splitCast(operand) {
            castTypes.append(castType)
            operand = Self.strippingParentheses(inner)
        }
        cast = castTypes.first
        passesAddress = operand.first == "&" && operand.dropFirst().first != "&"
        if let cast {
            // A cast to a type the text does not define (CAmount) says nothing.
            type = Self.typeOfCast(cast) ?? (cast.hasSuffix("*") ? .pointer : nil)
        } else {
            type = Self.typeOfOperand(operand, passesAddress: passesAddress)
        }
    }

    /// The type a cast names, if it is one the reader knows.
    private static func typeOfCast(_ text: String) -> ArgumentType? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let type = ArgumentType(parsing: trimmed) else { return nil }
        // The whole cast must be that type ("unsigned int", not "unsigned foo").
        let words = trimmed.split(whereSeparator: { $0 == " " || $0 == "*" || $0 == "&" })
        let known: Set<String> = ["const", "volatile", "unsigned", "signed", "short", "long", "int", "char", "void", "bool"]
        guard words.allSatisfy({ known.contains(String($0)) || ArgumentType.integerLayouts[String($0).replacingOccurrences(of: "std::", with: "")] != nil })
        else { return nil }
        return type
    }

    private static func typeOfOperand(_ operand: [Character], passesAddress: Bool) -> ArgumentType? {
        if passesAddress { return .pointer }
        let text = String(operand)
        if isStringLiteral(operand) { return .string }
        if let (whenTrue, whenFalse) = ternaryBranches(operand),
           isStringLiteral(strippingParentheses(whenTrue)), isStringLiteral(strippingParentheses(whenFalse)) {
            return .string
        }
        for (suffix, type) in [(".c_str()", ArgumentType.string), ("->c_str()", .string),
                               (".begin()", .bytes), ("->begin()", .bytes), (".data()", .bytes), ("->data()", .bytes),
                               (".size()", .integer(.init(size: 8, isSigned: false))), ("->size()", .integer(.init(size: 8, isSigned: false))),
                               (".length()", .integer(.init(size: 8, isSigned: false)))] where text.hasSuffix(suffix) {
            return type
        }
        if text == "true" || text == "false" { return .bool }
        return integerLiteralType(text)
    }

    /// The type of a decimal or hexadecimal integer literal (`42`, `7u`, `1ull`).
    private static func integerLiteralType(_ text: String) -> ArgumentType? {
        let body = text.hasPrefix("-") ? String(text.dropFirst()) : text
        let digits = body.prefix { $0.isHexDigit || $0 == "x" || $0 == "X" || $0 == "'" }
        guard let first = digits.first, first.isNumber else { return nil }
        let suffix = body.dropFirst(digits.count).lowercased()
        switch suffix {
        case "": return .integer(.init(size: 4, isSigned: true))
        case "u": return .integer(.init(size: 4, isSigned: false))
        case "l", "ll": return .integer(.init(size: 8, isSigned: true))
        case "ul", "lu", "ull", "llu": return .integer(.init(size: 8, isSigned: false))
        default: return nil
        }
    }

    /// `"…"`, or adjacent literals `"a" "b"`, with encoding prefixes.
    private static func isStringLiteral(_ text: [Character]) -> Bool {
        var index = 0
        var sawLiteral = false
        while index < text.count {
            if text[index] == " " { index += 1; continue }
            var cursor = index
            while cursor < text.count, "uU8L".contains(text[cursor]) { cursor += 1 }
            guard cursor < text.count, text[cursor] == "\"" else { return false }
            guard let close = closingQuote(text, from: cursor) else { return false }
            sawLiteral = true
            index = close + 1
        }
        return sawLiteral
    }

    private static func closingQuote(_ text: [Character], from open: Int) -> Int? {
        var index = open + 1
        while index < text.count {
            if text[index] == "\\" { index += 2; continue }
            if text[index] == text[open] { return index }
            index += 1
        }
        return nil
    }

    /// `c ? a : b` at the top level, as (a, b).
    private static func ternaryBranches(_ text: [Character]) -> ([Character], [Character])? {
        var question: Int?
        var nested = 0
        var index = 0
        while index < text.count {
            let character = text[index]
            if character == "\"" || character == "'" {
                index = (closingQuote(text, from: index) ?? text.count) + 1
                continue
            }
            if "([{".contains(character) {
                index = (matchingClose(text, from: index) ?? text.count) + 1
                continue
            }
            if character == "?" {
                if question == nil { question = index } else { nested += 1 }
            } else if character == ":" {
                if index + 1 < text.count, text[index + 1] == ":" { index += 2; continue }
                if index > 0, text[index - 1] == ":" { index += 1; continue }
                if let question, nested == 0 {
                    return (Array(text[(question + 1)..<index]), Array(text[(index + 1)...]))
                }
                nested -= 1
            }
            index += 1
        }
        return nil
    }

    /// Removes parentheses that enclose the whole expression: `((x))` is `x`.
    static func strippingParentheses(_ text: [Character]) -> [Character] {
        var text = trimmed(text)
        while text.first == "(", let close = matchingClose(text, from: 0), close == text.count - 1 {
            text = trimmed(Array(text[1..<close]))
        }
        return text
    }

    private static func trimmed(_ text: [Character]) -> [Character] {
        Array(String(text).trimmingCharacters(in: .whitespaces))
    }

    /// The index of the bracket closing the one at `open`, skipping literals.
    static func matchingClose(_ text: [Character], from open: Int) -> Int? {
        let pairs: [Character: Character] = ["(": ")", "[": "]", "{": "}", "<": ">"]
        guard let closer = pairs[text[open]] else { return nil }
        var depth = 0
        var index = open
        while index < text.count {
            let character = text[index]
            if character == "\"" || character == "'" {
                index = (closingQuote(text, from: index) ?? text.count) + 1
                continue
            }
            if character == text[open] {
                depth += 1
            } else if character == closer, !(closer == ">" && index > 0 && text[index - 1] == "-") {
                depth -= 1
                if depth == 0 { return index }
            } else if text[open] != "<", "([{".contains(character), character != text[open] {
                index = (matchingClose(text, from: index) ?? text.count) + 1
                continue
            }
            index += 1
        }
        return nil
    }

    /// A cast over the whole expression, as (type, operand): `static_cast<T>(e)`,
    /// `(T)e`, `T(e)` or `T{e}` for a type the reader knows.
    static func splitCast(_ text: [Character]) -> (String, [Character])? {
        let string = String(text)
        for keyword in ["static_cast", "reinterpret_cast", "const_cast", "dynamic_cast", "std::bit_cast", "bit_cast"]
        where string.hasPrefix(keyword) {
            var index = keyword.count
            while index < text.count, text[index] == " " { index += 1 }
            guard index < text.count, text[index] == "<", let close = matchingClose(text, from: index) else { return nil }
            let type = String(text[(index + 1)..<close]).trimmingCharacters(in: .whitespaces)
            var open = close + 1
            while open < text.count, text[open] == " " { open += 1 }
            guard open < text.count, text[open] == "(", matchingClose(text, from: open) == text.count - 1 else { return nil }
            return (type, Array(text[(open + 1)..<(text.count - 1)]))
        }
        if text.first == "(", let close = matchingClose(text, from: 0), close < text.count - 1 {
            let type = String(text[1..<close]).trimmingCharacters(in: .whitespaces)
            let rest = trimmed(Array(text[(close + 1)...]))
            guard !rest.isEmpty, looksLikeCastType(type, before: rest), isUnaryExpression(rest) else { return nil }
            return (type, rest)
        }
        // Functional casts of known types: uint32_t(x), int64_t{x}.
        let name = text.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
        if !name.isEmpty, name.count < text.count, text[name.count] == "(" || text[name.count] == "{",
           let close = matchingClose(text, from: name.count), close == text.count - 1,
           let type = typeOfCast(String(name)), !type.isPointer {
            return (String(name), Array(text[(name.count + 1)..<close]))
        }
        return nil
    }

    /// Whether `(type)` before `rest` is a cast and not parenthesised
    /// arithmetic: a type the reader knows, a `_t` name, a pointer type, or
    /// any name directly followed by an operand (`(CAmount)nValue`).
    private static func looksLikeCastType(_ type: String, before rest: [Character]) -> Bool {
        guard !type.isEmpty, type.allSatisfy({ $0.isLetter || $0.isNumber || "_:*& <>,".contains($0) }) else { return false }
        if typeOfCast(type) != nil || type.hasSuffix("_t") || type.hasSuffix("*") || type.hasPrefix("const ") { return true }
        let isName = type.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
        guard isName, let first = rest.first else { return false }
        return first.isLetter || first.isNumber || first == "_" || first == "\""
    }

    /// Whether `text` is one operand with postfix parts only (`a.b->c(d)[e]`,
    /// `-x`, `!f()`), so that a cast before it applies to all of it.
    static func isUnaryExpression(_ text: [Character]) -> Bool {
        var index = 0
        while index < text.count, "-+!~*&".contains(text[index]) { index += 1 }
        guard index < text.count else { return false }
        // The primary expression.
        if "([{".contains(text[index]) {
            guard let close = matchingClose(text, from: index) else { return false }
            index = close + 1
        } else if text[index] == "\"" || text[index] == "'" {
            guard let close = closingQuote(text, from: index) else { return false }
            index = close + 1
        } else if text[index].isLetter || text[index].isNumber || text[index] == "_" || text[index] == ":" {
            while index < text.count, text[index].isLetter || text[index].isNumber || "_:.'".contains(text[index]) { index += 1 }
        } else {
            return false
        }
        // Postfix parts.
        while index < text.count {
            let character = text[index]
            if character == "(" || character == "[" {
                guard let close = matchingClose(text, from: index) else { return false }
                index = close + 1
            } else if character == "." || (character == "-" && index + 1 < text.count && text[index + 1] == ">") {
                index += character == "." ? 1 : 2
                guard index < text.count, text[index].isLetter || text[index] == "_" || text[index] == "~" else { return false }
                while index < text.count, text[index].isLetter || text[index].isNumber || "_~:".contains(text[index]) { index += 1 }
            } else if character == ":" && index + 1 < text.count && text[index + 1] == ":" {
                index += 2
                while index < text.count, text[index].isLetter || text[index].isNumber || text[index] == "_" { index += 1 }
            } else if (character == "+" || character == "-") && index + 1 < text.count && text[index + 1] == character {
                index += 2
            } else {
                return false
            }
        }
        return true
    }
}

/// How a tracepoint's documented arguments line up with the arguments its
/// code passes (positions `arg0`, `arg1`, … of the macro and the note).
///
/// Each documented argument is paired with at most one position, so that
/// the pairs score highest: shared words between the documented name and
/// the expressions passed there (`Selected target value` and `targetValue`;
/// rare words count more; a few abbreviations are known: `tx`, `msg`,
/// `num`, `need`/`require`; a name about a measure, `Position of the
/// change`, fits an expression without that measure, `nChange`, less),
/// staying in the same position, and the note's
/// size and sign matching the documented type. A pointer is never paired
/// with a position that passes a value, nor a value with one that passes a
/// string. What stays unpaired is paired in order where the types allow,
/// then position by position, so that a wrong type shows as a type
/// disagreement and not as an argument missing on both sides. When the
/// counts agree, the documented order stands unless another beats it by
/// more than the in-place bonus: a reordering needs evidence.
struct ArgumentAlignment: Sendable, Hashable {
    /// What one position passes, over every call site and probe site.
    struct Evidence: Sendable, Hashable {
        var expressions: [SourceArgument] = []
        var layouts: [ValueLayout] = []
    }

    /// For each documented argument, the position it is passed in, or nil.
    var positions: [Int?]
    /// Positions no documented argument is paired with.
    var undocumented: [Int]

    /// Whether the paired positions run in another order than the documented arguments.
    var isReordered: Bool {
        let paired = positions.compactMap { $0 }
        return zip(paired, paired.dropFirst()).contains { $0 >= $1 }
    }

    init(documented: [DocumentedArgument], evidence: [Evidence]) {
        let scores = Self.scores(documented: documented, evidence: evidence)
        var positions = Self.bestAssignment(scores: scores, positions: evidence.count)
        // The documented order is the prior: another must beat it by more
        // than the bonus for staying in place.
        let inPlace = documented.indices.compactMap { $0 < evidence.count ? scores[$0][$0] : nil }
        if documented.count == evidence.count, inPlace.count == documented.count {
            let best = positions.enumerated().reduce(0.0) { total, pair in total + (pair.element.flatMap { scores[pair.offset][$0] } ?? 0) }
            if best - inPlace.reduce(0, +) <= Self.inPlaceBonus { positions = Array(documented.indices) }
        }
        var free = Set(0..<evidence.count).subtracting(positions.compactMap { $0 })
        // Leftovers in order, where the types allow; then position by position.
        for index in documented.indices where positions[index] == nil {
            if let position = free.sorted().first(where: { scores[index][$0] != nil }) {
                positions[index] = position
                free.remove(position)
            }
        }
        for index in documented.indices where positions[index] == nil && free.contains(index) {
            positions[index] = index
            free.remove(index)
        }
        self.positions = positions
        self.undocumented = free.sorted()
    }

    static let inPlaceBonus = 0.3

    /// Score of each (documented argument, position) pair; nil where the
    /// types rule the pair out.
    static func scores(documented: [DocumentedArgument], evidence: [Evidence]) -> [[Double?]] {
        let positionWords = evidence.map { item in item.expressions.reduce(into: Set<String>()) { $0.formUnion(Words.of(expression: $1.expression)) } }
        var frequency: [String: Int] = [:]
        for words in positionWords { for word in words { frequency[word, default: 0] += 1 } }
        return documented.enumerated().map { index, argument in
            let words = Words.of(document: argument)
            let measures = Words.of(name: argument.name).intersection(Words.measures)
            return evidence.enumerated().map { position, item -> Double? in
                guard isCompatible(argument.type, with: item) else { return nil }
                var score = words.intersection(positionWords[position]).reduce(0.0) { $0 + 1 / Double(frequency[$1] ?? 1) }
                // "Position of the change" is a position: less likely `nChange`.
                if !measures.isEmpty, measures.isDisjoint(with: positionWords[position]) { score = max(0, score - 0.25) }
                if position == index { score += inPlaceBonus }
                // A little above the in-place bonus: after an argument left
                // out, matching sizes and signs tell the shift.
                if let type = argument.type, !item.layouts.isEmpty, item.layouts.allSatisfy({ $0 == type.layout }) { score += 0.35 }
                return score
            }
        }
    }

    /// Whether a documented type can be what a position passes: a pointer
    /// needs an 8-byte unsigned note and no value expression; a value needs
    /// no string or bytes expression (an address `&x` is let through, to be
    /// reported as such).
    static func isCompatible(_ type: ArgumentType?, with evidence: Evidence) -> Bool {
        guard let type else { return true }
        if type.isPointer {
            if evidence.layouts.contains(where: { $0 != .pointer }) { return false }
            return !evidence.expressions.contains { ($0.type.map { !$0.isPointer } ?? false) }
        }
        return !evidence.expressions.contains { !$0.passesAddress && ($0.type?.isPointer ?? false) }
    }

    /// The assignment of positions to documented arguments with the highest
    /// total score (pairs scoring 0 or less are left out), by dynamic
    /// programming over the used positions; among equal totals the one
    /// whose pairs move the least.
    static func bestAssignment(scores: [[Double?]], positions: Int) -> [Int?] {
        let count = scores.count
        guard count > 0, positions > 0, positions <= 16 else { return Array(repeating: nil, count: count) }
        // best[i][mask]: the best total for arguments i… with `mask` positions taken.
        var best = Array(repeating: [Double](repeating: -1, count: 1 << positions), count: count + 1)
        var choice = Array(repeating: [Int](repeating: -1, count: 1 << positions), count: count + 1)
        for mask in 0..<(1 << positions) { best[count][mask] = 0 }
        for index in stride(from: count - 1, through: 0, by: -1) {
            for mask in 0..<(1 << positions) {
                var value = best[index + 1][mask]
                var chosen = -1
                for position in 0..<positions where mask & (1 << position) == 0 {
                    guard let score = scores[index][position], score > 0 else { continue }
                    let total = score - 0.001 * Double(abs(position - index)) + best[index + 1][mask | (1 << position)]
                    if total > value + 1e-9 {
                        value = total
                        chosen = position
                    }
                }
                best[index][mask] = value
                choice[index][mask] = chosen
            }
        }
        var result: [Int?] = []
        var mask = 0
        for index in 0..<count {
            let position = choice[index][mask]
            if position >= 0 {
                result.append(position)
                mask |= 1 << position
            } else {
                result.append(nil)
            }
        }
        return result
    }
}

/// The words a documented name or an expression is made of, stemmed, so
/// that `nFeeNeeded`, `fee required` and `Fees` share `fe` and `need`.
enum Words {
    static func of(document argument: DocumentedArgument) -> Set<String> {
        var text = argument.text
        if let typeText = argument.typeText { text = text.replacingOccurrences(of: typeText, with: " ") }
        return Set(split(text).compactMap(normalised))
    }

    /// The words of a documented argument's name alone.
    static func of(name: String) -> Set<String> {
        Set(split(name).compactMap(normalised))
    }

    /// Stems of words that say what is measured: a value documented with
    /// one is usually passed by an expression that names it.
    static let measures = Set(["position", "index", "number", "size", "length", "time", "height", "id", "hash", "name", "type"]
        .compactMap(normalised))

    static func of(expression: String) -> Set<String> {
        Set(split(expression).filter { !expressionNoise.contains($0) }.compactMap(normalised))
    }

    /// Words of identifiers and prose: `nSigOpsCost` is sig, ops, cost;
    /// `GetHashMalFix` is get, hash, mal, fix; `UTXO-set` is utxo, set.
    static func split(_ text: String) -> [String] {
        var words: [String] = []
        for token in text.split(whereSeparator: { !($0.isLetter || $0.isNumber) }) {
            var token = Substring(token)
            // Hungarian prefixes: nValue, fFlush, pNode, strCommand, CNode.
            for prefix in ["str", "n", "f", "p", "v", "C", "m", "g", "s"] where token.hasPrefix(prefix) {
                let rest = token.dropFirst(prefix.count)
                if let first = rest.first, first.isUppercase, rest.count > 1 { token = rest }
                break
            }
            var current = ""
            var previous: Character?
            for (offset, character) in token.enumerated() {
                let nextIsLower = token.dropFirst(offset + 1).first?.isLowercase ?? false
                let boundary = previous.map { previous in
                    (character.isUppercase && (previous.isLowercase || previous.isNumber))
                        || (character.isUppercase && previous.isUppercase && nextIsLower)
                        || (character.isNumber != previous.isNumber)
                } ?? false
                if boundary, !current.isEmpty {
                    words.append(current)
                    current = ""
                }
                current.append(character)
                previous = character
            }
            if !current.isEmpty { words.append(current) }
        }
        return words.map { $0.lowercased() }
    }

    /// The stem of a word, or nil for words that say nothing of meaning.
    static func normalised(_ word: String) -> String? {
        guard !stopWords.contains(word), !word.allSatisfy(\.isNumber), word.count > 1 else { return nil }
        var stem = word
        for suffix in ["ing", "ed", "es", "s", "e"] where stem.hasSuffix(suffix) && stem.count - suffix.count >= 2 {
            stem = String(stem.dropLast(suffix.count))
            break
        }
        return synonyms[stem] ?? stem
    }

    private static let stopWords: Set<String> = [
        "a", "an", "the", "of", "in", "on", "to", "as", "is", "be", "by", "for", "and", "or", "if", "it", "its", "this",
        "that", "with", "from", "at", "was", "were", "are", "may", "can", "into", "ie", "eg", "e", "i", "g", "etc",
        "max", "length", "characters", "character", "chars", "char", "byte", "bytes", "pointer", "style", "string",
        "unsigned", "signed", "int", "uint", "bool", "passed", "called", "argument", "so", "we", "our", "has", "have", "which",
    ]

    /// Identifiers that say how a value is reached, not what it is.
    private static let expressionNoise: Set<String> = [
        "c", "str", "begin", "end", "data", "get", "to", "hex", "string", "it", "second", "first", "this", "const",
        "static", "cast", "reinterpret", "std", "true", "false", "is", "int", "uint", "t", "auto", "ptr", "ref",
    ]

    /// Stems of abbreviations and synonyms, to the stem they stand for.
    private static let synonyms: [String: String] = [
        "requir": "need", "num": "number", "count": "number", "cnt": "number", "colour": "color",
        "msg": "messag", "tx": "transaction", "txn": "transaction", "addr": "addres",
        "pos": "position", "idx": "index", "val": "valu", "amount": "valu", "hdr": "header",
    ]
}

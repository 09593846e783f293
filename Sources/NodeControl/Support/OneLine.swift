extension String {
    /// The text on one line: line breaks become ` | `, so error messages stay one line.
    var oneLine: String {
        split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " | ")
    }
}

extension Substring {
    var oneLine: String { String(self).oneLine }
}

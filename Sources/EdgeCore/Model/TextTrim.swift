extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and line breaks (what Foundation's
    /// `trimmingCharacters(in: .whitespacesAndNewlines)` gives, for the ASCII the agent meets).
    public var trimmedOfWhitespace: String { trimmed { $0 == " " || $0 == "\t" || $0.isNewline } }

    /// The text without leading and trailing line breaks only: a password may start with a space.
    public var trimmedOfNewlines: String { trimmed { $0.isNewline } }

    private func trimmed(_ drop: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !drop($0) }), let last = lastIndex(where: { !drop($0) }) else { return "" }
        return String(self[first...last])
    }
}

/// The two path operations the agent needs, on plain strings (Foundation's `NSString` path
/// methods are not in FoundationEssentials).
public enum FilePath {
    /// `/var/lib/coop-edge/outbox.db` → `/var/lib/coop-edge`; `outbox.db` → `""`; `/x` → `/`.
    public static func directory(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        if slash == trimmed.startIndex { return "/" }
        return String(trimmed[..<slash])
    }

    /// `/var/lib/coop-edge/outbox.db` → `outbox.db`.
    public static func lastComponent(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/"), trimmed.count > 1 else { return String(trimmed) }
        return String(trimmed[trimmed.index(after: slash)...])
    }
}

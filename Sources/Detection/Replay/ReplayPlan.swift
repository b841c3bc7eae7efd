/// The pure half of replaying a directory: which CSV files to replay, where each output goes
/// (the same relative path under the output directory) and which channel kind each one is.
public enum ReplayPlan {
    public struct Item: Sendable, Hashable {
        /// Path relative to the input directory, `/`-separated.
        public var input: String
        /// Path relative to the output directory (equal to `input`: the tree is mirrored).
        public var output: String
        public var kind: ChannelKind
    }

    /// Keeps `.csv` files (case-insensitive), sorted by path, skipping hidden files and folders.
    /// `kind` overrides inference; otherwise the kind comes from the file name, then its folders from the
    /// nearest up, then `rootName` (the input directory's own name), else `.generic`.
    public static func items(relativePaths: [String], kind: ChannelKind?, rootName: String = "") -> [Item] {
        relativePaths
            .filter { path in
                let parts = path.split(separator: "/")
                return path.lowercased().hasSuffix(".csv") && !parts.contains { $0.hasPrefix(".") }
            }
            .sorted()
            .map { Item(input: $0, output: $0, kind: kind ?? inferKind(path: $0, rootName: rootName)) }
    }

    /// The kind named by the file name or the nearest folder that names one.
    public static func inferKind(path: String, rootName: String = "") -> ChannelKind {
        var parts = path.split(separator: "/")
        if !rootName.isEmpty { parts.insert(Substring(rootName), at: 0) }
        for part in parts.reversed() {
            if let k = ChannelKind.infer(fromName: part) { return k }
        }
        return .generic
    }
}

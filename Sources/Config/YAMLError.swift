/// Why a YAML text could not be composed into one document: where, and what an installer should
/// read. `ConfigLoader.compose` turns it into a `ConfigDiagnostic`.
struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, for code and tests that branch on it; `message` is for people.
    struct Code: Sendable, Hashable, CustomStringConvertible {
        let description: String
        /// libyaml's scanner or parser refused the text (a tab in indentation, an unclosed bracket).
        static let syntax = Code(description: "syntax")
        /// libyaml's reader refused a character (DEL, a C1 control, U+FFFE).
        static let unreadable = Code(description: "unreadable")
        /// A mapping repeats a key; the mark is the repeat.
        static let duplicateKey = Code(description: "duplicate key")
        /// `*name` with no complete `&name` node before it.
        static let undefinedAlias = Code(description: "undefined alias")
        /// Aliases expand the tree past `YAMLDocument.maxAliasExpansion` nodes.
        static let aliasExpansion = Code(description: "alias expansion")
        /// Collections nested deeper than `YAMLDocument.maxDepth`.
        static let tooDeep = Code(description: "too deep")
        /// A second document (`---`) follows the first.
        static let multipleDocuments = Code(description: "multiple documents")
        /// libyaml could not allocate memory.
        static let outOfMemory = Code(description: "out of memory")
    }

    var code: Code
    var mark: YAMLNode.Mark
    var message: String

    init(_ code: Code, _ mark: YAMLNode.Mark, _ message: String) {
        self.code = code
        self.mark = mark
        self.message = message
    }

    var description: String { "\(mark): \(message)" }
}

/// One problem in a configuration file, located so an installer can jump to it.
public struct ConfigDiagnostic: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    /// Dotted path of the field, e.g. `devices[2].poll`; empty for whole-file problems.
    public var path: String
    public var message: String

    public init(file: String, line: Int, column: Int, path: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
    }

    /// `file:line:column: message (at path)`, the format editors and CI annotate.
    public var description: String {
        "\(file):\(line):\(column): \(message)" + (path.isEmpty ? "" : " (at \(path))")
    }
}

/// Loading failed; `diagnostics` lists every problem found, not only the first.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [ConfigDiagnostic]
    public init(_ diagnostics: [ConfigDiagnostic]) { self.diagnostics = diagnostics }
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

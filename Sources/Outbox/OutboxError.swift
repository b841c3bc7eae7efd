/// The outbox could not do what was asked. `message` names the file and what to do.
public struct OutboxError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable {
        public let rawValue: String
        public static let open = Code(rawValue: "open")
        public static let diskFull = Code(rawValue: "disk_full")
        public static let corrupt = Code(rawValue: "corrupt")
        public static let io = Code(rawValue: "io")
        public static let busy = Code(rawValue: "busy")
        public static let other = Code(rawValue: "other")
    }
    public var code: Code
    public var message: String
    /// The SQLite result code, for the log.
    public var sqliteCode: Int32

    public init(_ code: Code, _ message: String, sqliteCode: Int32 = 0) {
        self.code = code
        self.message = message
        self.sqliteCode = sqliteCode
    }

    public var description: String { message }
}

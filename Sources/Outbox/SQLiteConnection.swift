internal import CSQLite
internal import FoundationEssentials

/// A thin owner of one `sqlite3*` handle and its prepared statements. Not thread-safe: only the
/// `Outbox` actor, on its own thread, touches it.
final class SQLiteConnection {
    private(set) var db: OpaquePointer?
    let path: String
    private var statements: [String: OpaquePointer] = [:]

    /// `readOnly` opens an existing file without creating or changing it (to read what is left of a
    /// damaged one).
    init(path: String, readOnly: Bool = false) throws(OutboxError) {
        self.path = path
        var handle: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        let rc = sqlite3_open_v2(path, &handle, flags | SQLITE_OPEN_NOMUTEX, nil)
        if rc != SQLITE_OK {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            throw OutboxError(.open, "cannot open the outbox \(path): \(message) — does the state directory exist and belong to the service user?", sqliteCode: rc)
        }
        db = handle
        sqlite3_extended_result_codes(db, 1)
    }

    func close() {
        for (_, s) in statements { sqlite3_finalize(s) }
        statements.removeAll()
        if let db { sqlite3_close_v2(db) }
        db = nil
    }

    deinit { close() }

    /// The single place where SQLite result codes become `OutboxError`s.
    func error(_ rc: Int32, _ what: String) -> OutboxError {
        let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "closed"
        switch rc & 0xFF {
        case SQLITE_FULL: return OutboxError(.diskFull, "disk full while \(what) in \(path): \(message)", sqliteCode: rc)
        case SQLITE_CORRUPT, SQLITE_NOTADB: return OutboxError(.corrupt, "the outbox \(path) is damaged (\(message)) while \(what)", sqliteCode: rc)
        case SQLITE_IOERR: return OutboxError(.io, "I/O error while \(what) in \(path): \(message) — is the SD card failing?", sqliteCode: rc)
        case SQLITE_BUSY, SQLITE_LOCKED: return OutboxError(.busy, "the outbox \(path) is locked by another process while \(what)", sqliteCode: rc)
        case SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_READONLY: return OutboxError(.open, "cannot write \(path) while \(what): \(message)", sqliteCode: rc)
        default: return OutboxError(.other, "SQLite error while \(what) in \(path): \(message)", sqliteCode: rc)
        }
    }

    func exec(_ sql: String) throws(OutboxError) {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &err)
        sqlite3_free(err)
        if rc != SQLITE_OK { throw error(rc, "running \(sql.prefix(40))") }
    }

    /// A cached prepared statement, reset and with its bindings cleared.
    func statement(_ sql: String) throws(OutboxError) -> Statement {
        if let s = statements[sql] {
            sqlite3_reset(s)
            sqlite3_clear_bindings(s)
            return Statement(handle: s, connection: self)
        }
        var s: OpaquePointer?
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &s, nil)
        guard rc == SQLITE_OK, let s else { throw error(rc, "preparing \(sql.prefix(40))") }
        statements[sql] = s
        return Statement(handle: s, connection: self)
    }

    func scalarInt(_ sql: String) throws(OutboxError) -> Int64 {
        let s = try statement(sql)
        defer { s.reset() }
        return try s.step() ? s.int(0) : 0
    }

    var changes: Int { Int(sqlite3_changes(db)) }
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(db) }

    struct Statement {
        let handle: OpaquePointer
        unowned let connection: SQLiteConnection

        func bind(_ i: Int32, _ v: Int64) { sqlite3_bind_int64(handle, i, v) }
        func bind(_ i: Int32, _ v: Double) { sqlite3_bind_double(handle, i, v) }
        func bind(_ i: Int32, _ v: String) { sqlite3_bind_text(handle, i, v, -1, CSQLite_TRANSIENT()) }
        func bind(_ i: Int32, _ v: [UInt8]) {
            v.withUnsafeBytes { buf in
                _ = sqlite3_bind_blob(handle, i, buf.baseAddress, Int32(buf.count), CSQLite_TRANSIENT())
            }
        }

        /// True when a row is available; false when done. Blocks on disk I/O.
        @discardableResult
        func step() throws(OutboxError) -> Bool {
            let rc = sqlite3_step(handle)
            if rc == SQLITE_ROW { return true }
            if rc == SQLITE_DONE { return false }
            throw connection.error(rc, "writing")
        }

        /// Ends the statement's read: a statement left mid-result keeps its read transaction open,
        /// which blocks checkpoints and can deadlock a writer in another process.
        func reset() { sqlite3_reset(handle) }

        func int(_ i: Int32) -> Int64 { sqlite3_column_int64(handle, i) }
        func double(_ i: Int32) -> Double { sqlite3_column_double(handle, i) }
        func isNull(_ i: Int32) -> Bool { sqlite3_column_type(handle, i) == SQLITE_NULL }
        func text(_ i: Int32) -> String {
            guard let p = sqlite3_column_text(handle, i) else { return "" }
            return String(cString: p)
        }
        func blob(_ i: Int32) -> [UInt8] {
            let n = Int(sqlite3_column_bytes(handle, i))
            guard n > 0, let p = sqlite3_column_blob(handle, i) else { return [] }
            return [UInt8](UnsafeRawBufferPointer(start: p, count: n))
        }
    }
}

public import EdgeCore
internal import IOThread
internal import Foundation
internal import Glibc

/// Which queue a message waits in. Alerts always leave before the reading backlog.
public enum Lane: Int, Sendable, CaseIterable {
    case alerts = 0
    case readings = 1
}

/// A message to store: what will be published, and where.
public struct NewMessage: Sendable {
    public var lane: Lane
    public var topic: String
    public var payload: [UInt8]
    public var retain: Bool
    /// Wall-clock time the message describes, seconds since 1970.
    public var created: Double

    public init(lane: Lane, topic: String, payload: [UInt8], retain: Bool = false, created: Double) {
        self.lane = lane
        self.topic = topic
        self.payload = payload
        self.retain = retain
        self.created = created
    }
}

/// A stored message waiting for the broker's acknowledgement.
public struct StoredMessage: Sendable, Equatable {
    public var id: Int64
    public var lane: Lane
    public var topic: String
    public var payload: [UInt8]
    public var retain: Bool
    public var created: Double
}

/// A damaged outbox that `Outbox.openRecovering` moved aside before starting a fresh one.
public struct DamagedOutbox: Sendable, Equatable {
    /// Where the damaged file now is (its WAL, if any, next to it with `-wal`).
    public var movedTo: String
    /// What SQLite said about it.
    public var reason: String
    /// The sequence numbers read back from it; nil when even those were unreadable (numbering then
    /// continues from `Outbox.sequenceFloor()`).
    public var salvagedSequences: [String: UInt64]?
}

public struct OutboxStats: Sendable, Equatable {
    public var pendingAlerts: Int
    public var pendingReadings: Int
    public var oldestPending: Double?
    public var delivered: Int64
    public var dropped: Int64
    /// Messages the MQTT client refused for good (a topic no broker accepts), removed and counted.
    public var rejected: Int64
    public var fileBytes: Int64
}

/// The durable queue between the pollers and the broker: SQLite in WAL mode.
///
/// Promises (ARCHITECTURE.md, invariant 1): a message is committed before anything can read it
/// for publishing, and leaves only through `acknowledge` (the broker has it) or retention, which
/// counts what it drops. Every call runs on the outbox's own thread and blocks it for the disk
/// I/O (`sqlite3_step`), never Swift's cooperative pool.
public actor Outbox {
    private let executor: IOThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    public nonisolated let config: StorageConfig
    private var db: SQLiteConnection?

    private init(config: StorageConfig) {
        self.config = config
        self.executor = IOThreadExecutor(name: "outbox")
    }

    // The connection closes itself in its own deinit (see ModbusConnection on isolated deinit).
    deinit {
        executor.shutdown()
    }

    /// Opens (creating if needed) the outbox at `config.path`, with its directory.
    public static func open(_ config: StorageConfig) async throws(OutboxError) -> Outbox {
        let outbox = Outbox(config: config)
        try await outbox.setUp()
        return outbox
    }

    /// Opens the outbox like `open`; if the file is damaged (`PRAGMA quick_check`, or damage that only
    /// shows when it is read), moves it and its WAL aside to `PATH.damaged-YYYYMMDD-HHMMSS` and starts a
    /// fresh one: repair is unreliable (FIELD-NOTES.md), and refusing to start would lose every reading
    /// from now on. The old file stays for `sqlite3 FILE .recover`. Numbering continues: the sequence
    /// numbers are read back from the damaged file when they can be, and otherwise every device
    /// continues above a floor no old number can reach (the time in milliseconds), so the co-op side
    /// never drops a new poll as a copy of an old one. Returns what was moved aside, if anything.
    public static func openRecovering(_ config: StorageConfig) async throws(OutboxError) -> (Outbox, DamagedOutbox?) {
        let outbox = Outbox(config: config)
        let damage = try await outbox.setUpRecovering()
        return (outbox, damage)
    }

    private func setUpRecovering() throws(OutboxError) -> DamagedOutbox? {
        do {
            try setUp()
            // Some damage only shows when the tables are read.
            _ = try sequences()
            _ = try stats()
            return nil
        } catch where error.code == .corrupt {
            db?.close()
            db = nil
            let reason = error.message
            let salvaged = Self.readSequences(of: config.path)
            let stamp = Self.fileStamp(Date())
            let movedTo = config.path + ".damaged-" + stamp
            let fm = FileManager.default
            do {
                try fm.moveItem(atPath: config.path, toPath: movedTo)
                if fm.fileExists(atPath: config.path + "-wal") {
                    try fm.moveItem(atPath: config.path + "-wal", toPath: movedTo + "-wal")
                }
                try? fm.removeItem(atPath: config.path + "-shm")
            } catch {
                throw OutboxError(.open, "the outbox \(config.path) is damaged (\(reason)) and could not be moved aside: \(error.localizedDescription)")
            }
            try setUp()
            let db = try connection()
            try db.exec("BEGIN IMMEDIATE")
            do {
                if let salvaged {
                    for (device, seq) in salvaged {
                        let s = try db.statement("INSERT INTO sequences(device, seq) VALUES(?1, ?2)")
                        s.bind(1, device)
                        s.bind(2, Int64(bitPattern: seq))
                        try s.step()
                    }
                } else {
                    let s = try db.statement("INSERT INTO counters(name, value) VALUES('sequence_floor', ?1)")
                    s.bind(1, Int64(Date().timeIntervalSince1970 * 1000))
                    try s.step()
                }
                try db.exec("COMMIT")
            } catch {
                try? db.exec("ROLLBACK")
                throw error
            }
            return DamagedOutbox(movedTo: movedTo, reason: reason, salvagedSequences: salvaged)
        }
    }

    /// The sequence numbers a damaged file still yields, or nil if it yields none.
    private static func readSequences(of path: String) -> [String: UInt64]? {
        do throws(OutboxError) {
            let old = try SQLiteConnection(path: path, readOnly: true)
            defer { old.close() }
            let s = try old.statement("SELECT device, seq FROM sequences")
            var out: [String: UInt64] = [:]
            while try s.step() { out[s.text(0)] = UInt64(bitPattern: s.int(1)) }
            return out
        } catch {
            return nil
        }
    }

    /// `20261127-093000` (UTC): sortable, and no colons for tools that dislike them.
    private static func fileStamp(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return f.string(from: date)
    }

    private func setUp() throws(OutboxError) {
        let dir = (config.path as NSString).deletingLastPathComponent
        if !dir.isEmpty, !FileManager.default.fileExists(atPath: dir) {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            catch { throw OutboxError(.open, "cannot create the state directory \(dir): \(error.localizedDescription)") }
        }
        let db = try SQLiteConnection(path: config.path)
        self.db = db
        refillBallast()
        do throws(OutboxError) {
            try db.exec("PRAGMA busy_timeout = 5000")
            // Only takes effect on a new file: lets retention give pages back to the card.
            try db.exec("PRAGMA auto_vacuum = INCREMENTAL")
            try db.exec("PRAGMA journal_mode = WAL")
            try db.exec("PRAGMA synchronous = \(config.durability == .full ? "FULL" : "NORMAL")")
            // A bounded WAL: checkpoint after ~1 MiB of frames instead of the default 4 MiB.
            try db.exec("PRAGMA wal_autocheckpoint = 256")
            try db.exec("PRAGMA journal_size_limit = 4194304")
            let check = try db.statement("PRAGMA quick_check")
            defer { check.reset() }
            if try check.step(), check.text(0) != "ok" {
                throw OutboxError(.corrupt, "the outbox \(config.path) is damaged: \(check.text(0))")
            }
            try db.exec("""
                CREATE TABLE IF NOT EXISTS outbox(
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    lane INTEGER NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL,
                    retain INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL);
                CREATE INDEX IF NOT EXISTS outbox_lane ON outbox(lane, id);
                CREATE TABLE IF NOT EXISTS sequences(device TEXT PRIMARY KEY, seq INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, value BLOB NOT NULL);
                """)
        } catch {
            db.close()
            self.db = nil
            throw error
        }
    }

    private func connection() throws(OutboxError) -> SQLiteConnection {
        guard let db else { throw OutboxError(.open, "the outbox \(config.path) is closed") }
        return db
    }

    /// Commits `messages`, the devices' latest sequence numbers and `state` entries (see `saveState`)
    /// in one transaction, and returns the ids given to the messages. Nothing is visible to `pending`
    /// before the commit.
    @discardableResult
    public func append(_ messages: [NewMessage], sequences: [String: UInt64] = [:], state: [String: [UInt8]] = [:]) throws(OutboxError) -> [Int64] {
        let db = try connection()
        try db.exec("BEGIN IMMEDIATE")
        do {
            var ids: [Int64] = []
            ids.reserveCapacity(messages.count)
            for m in messages {
                let s = try db.statement("INSERT INTO outbox(lane, topic, payload, retain, created) VALUES(?1, ?2, ?3, ?4, ?5)")
                s.bind(1, Int64(m.lane.rawValue))
                s.bind(2, m.topic)
                s.bind(3, m.payload)
                s.bind(4, Int64(m.retain ? 1 : 0))
                s.bind(5, m.created)
                try s.step()
                ids.append(db.lastInsertRowID)
            }
            for (device, seq) in sequences {
                let s = try db.statement("INSERT INTO sequences(device, seq) VALUES(?1, ?2) ON CONFLICT(device) DO UPDATE SET seq = excluded.seq")
                s.bind(1, device)
                s.bind(2, Int64(bitPattern: seq))
                try s.step()
            }
            for (key, value) in state {
                let s = try db.statement("INSERT INTO state(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
                s.bind(1, key)
                s.bind(2, value)
                try s.step()
            }
            try db.exec("COMMIT")
            if ballastDue > 0 {
                ballastDue -= 1
                if ballastDue == 0 { refillBallast() }
            }
            return ids
        } catch {
            try? db.exec("ROLLBACK")
            throw error
        }
    }

    /// Up to `limit` messages of `lane` with an id above `after`, oldest first.
    public func pending(lane: Lane, after: Int64, limit: Int) throws(OutboxError) -> [StoredMessage] {
        let db = try connection()
        let s = try db.statement("SELECT id, topic, payload, retain, created FROM outbox WHERE lane = ?1 AND id > ?2 ORDER BY id LIMIT ?3")
        s.bind(1, Int64(lane.rawValue))
        s.bind(2, after)
        s.bind(3, Int64(limit))
        var out: [StoredMessage] = []
        while try s.step() {
            out.append(StoredMessage(id: s.int(0), lane: lane, topic: s.text(1), payload: s.blob(2), retain: s.int(3) != 0, created: s.double(4)))
        }
        return out
    }

    /// Removes messages the broker has acknowledged, in one transaction.
    public func acknowledge(_ ids: [Int64]) throws(OutboxError) {
        try delete(ids, counting: "delivered")
    }

    /// Removes messages that can never be published (the client refused them for good), counted
    /// as `rejected` in the same transaction.
    public func reject(_ ids: [Int64]) throws(OutboxError) {
        try delete(ids, counting: "rejected")
    }

    private func delete(_ ids: [Int64], counting counter: String) throws(OutboxError) {
        guard !ids.isEmpty else { return }
        let db = try connection()
        try db.exec("BEGIN IMMEDIATE")
        do throws(OutboxError) {
            var removed: Int64 = 0
            for id in ids {
                let s = try db.statement("DELETE FROM outbox WHERE id = ?1")
                s.bind(1, id)
                try s.step()
                removed += Int64(db.changes)
            }
            try bump(counter, by: removed, db)
            try db.exec("COMMIT")
        } catch {
            try? db.exec("ROLLBACK")
            throw error
        }
    }

    /// Where numbering continues for a device that has no number of its own yet: 0, or after a damaged
    /// outbox whose numbers were unreadable, a value above any number it held (see `openRecovering`).
    public func sequenceFloor() throws(OutboxError) -> UInt64 {
        let db = try connection()
        let s = try db.statement("SELECT value FROM counters WHERE name = 'sequence_floor'")
        defer { s.reset() }
        return try s.step() ? UInt64(bitPattern: s.int(0)) : 0
    }

    /// The last sequence number committed for each device, so numbering survives restarts.
    public func sequences() throws(OutboxError) -> [String: UInt64] {
        let db = try connection()
        let s = try db.statement("SELECT device, seq FROM sequences")
        var out: [String: UInt64] = [:]
        while try s.step() { out[s.text(0)] = UInt64(bitPattern: s.int(1)) }
        return out
    }

    /// Messages stamped before this (2020-01-01 UTC) were stamped by a clock that was not set (a board
    /// without an RTC that booted at 1970): their age is unknown, so age-based retention keeps them.
    public static let plausibleSince: Double = 1_577_836_800

    /// Drops what the retention policy no longer keeps: readings older than `maxAgeDays`, then the
    /// oldest readings while the file exceeds `maxSizeMB`. Alerts are dropped by age only. Returns
    /// how many messages were dropped; the total is kept in the `dropped` counter.
    ///
    /// Age is judged only with a clock that is set: pass `now: nil` while the board's clock is not
    /// synchronised (only the size limit applies then), and messages stamped before `plausibleSince`
    /// are never dropped for their age. Otherwise readings taken before NTP answered would look
    /// decades old and be thrown away undelivered at the first pass after the sync.
    @discardableResult
    public func enforceRetention(now: Double?) throws(OutboxError) -> Int {
        let db = try connection()
        var dropped = 0
        try db.exec("BEGIN IMMEDIATE")
        do throws(OutboxError) {
            if let now {
                let old = try db.statement("DELETE FROM outbox WHERE created < ?1 AND created >= ?2")
                old.bind(1, now - Double(config.maxAgeDays) * 86_400)
                old.bind(2, Self.plausibleSince)
                try old.step()
                dropped += db.changes
            }
            if dropped > 0 { try bump("dropped", by: Int64(dropped), db) }
            try db.exec("COMMIT")
        } catch {
            try? db.exec("ROLLBACK")
            throw error
        }
        let limit = Int64(config.maxSizeMB) * 1_048_576
        var rounds = 0
        while try fileBytes(db) > limit, rounds < 20 {
            let total = try db.scalarInt("SELECT count(*) FROM outbox WHERE lane = 1")
            if total == 0 { break }
            dropped += try dropOldestReadings(max(1, total / 10), db)
            try db.exec("PRAGMA incremental_vacuum")
            try db.exec("PRAGMA wal_checkpoint(TRUNCATE)")
            rounds += 1
        }
        return dropped
    }

    /// Pages in use (free pages are reused by later inserts, so they do not count).
    private func fileBytes(_ db: SQLiteConnection) throws(OutboxError) -> Int64 {
        let pages = try db.scalarInt("PRAGMA page_count") - db.scalarInt("PRAGMA freelist_count")
        return pages * (try db.scalarInt("PRAGMA page_size"))
    }

    private func bump(_ name: String, by: Int64, _ db: SQLiteConnection) throws(OutboxError) {
        let s = try db.statement("INSERT INTO counters(name, value) VALUES(?1, ?2) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value")
        s.bind(1, name)
        s.bind(2, by)
        try s.step()
    }

    public func stats() throws(OutboxError) -> OutboxStats {
        let db = try connection()
        func counter(_ name: String) throws(OutboxError) -> Int64 {
            let s = try db.statement("SELECT value FROM counters WHERE name = ?1")
            s.bind(1, name)
            defer { s.reset() }
            return try s.step() ? s.int(0) : 0
        }
        let oldest = try db.statement("SELECT min(created) FROM outbox")
        let hasOldest = try oldest.step()
        let oldestValue: Double? = hasOldest && oldest.double(0) > 0 ? oldest.double(0) : nil
        oldest.reset()
        return OutboxStats(
            pendingAlerts: Int(try db.scalarInt("SELECT count(*) FROM outbox WHERE lane = 0")),
            pendingReadings: Int(try db.scalarInt("SELECT count(*) FROM outbox WHERE lane = 1")),
            oldestPending: oldestValue,
            delivered: try counter("delivered"), dropped: try counter("dropped"), rejected: try counter("rejected"),
            fileBytes: try fileBytes(db))
    }

    /// A small persistent key-value store for the agent's own state (detector baselines).
    public func saveState(_ key: String, _ value: [UInt8]) throws(OutboxError) {
        let db = try connection()
        let s = try db.statement("INSERT INTO state(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        s.bind(1, key)
        s.bind(2, value)
        try s.step()
    }

    public func loadState(_ key: String) throws(OutboxError) -> [UInt8]? {
        let db = try connection()
        let s = try db.statement("SELECT value FROM state WHERE key = ?1")
        s.bind(1, key)
        defer { s.reset() }
        return try s.step() ? s.blob(0) : nil
    }

    // MARK: A full disk

    /// Size of the ballast file kept beside the database. When the card fills up, even the
    /// DELETEs and checkpoints that would free space need a little room (FIELD-NOTES.md); deleting
    /// the ballast provides it.
    public static let ballastBytes = 256 * 1024
    private var ballastPath: String { config.path + ".ballast" }

    /// Writes the ballast file if it is missing and there is room for it. Best effort.
    private func refillBallast() {
        guard !FileManager.default.fileExists(atPath: ballastPath) else { return }
        let fd = Glibc.open(ballastPath, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { return }
        let chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var written = 0
        while written < Self.ballastBytes {
            let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            written += n
        }
        let complete = written >= Self.ballastBytes && fsync(fd) == 0
        Glibc.close(fd)
        if !complete { unlink(ballastPath) }  // no room yet; try again after the next relief
    }

    /// Frees room after `append` failed with `.diskFull`: deletes the ballast, checkpoints the WAL
    /// back into the database, then drops the oldest tenth of the undelivered readings (at least
    /// `minimum`), counted in `dropped`. Returns how many readings were dropped. Alerts are kept.
    @discardableResult
    public func relieveFullDisk(minimum: Int = 100) throws(OutboxError) -> Int {
        let db = try connection()
        unlink(ballastPath)
        ballastDue = 50  // write it back only after some commits have succeeded again
        try? db.exec("PRAGMA wal_checkpoint(TRUNCATE)")
        let total = try db.scalarInt("SELECT count(*) FROM outbox WHERE lane = 1")
        let dropped = try dropOldestReadings(max(Int64(minimum), total / 10), db)
        // Give the freed pages back to the file system, then fold the WAL in.
        try? db.exec("PRAGMA incremental_vacuum")
        try? db.exec("PRAGMA wal_checkpoint(TRUNCATE)")
        return dropped
    }

    /// Deletes the `count` oldest readings and counts them as dropped, in one transaction.
    private func dropOldestReadings(_ count: Int64, _ db: SQLiteConnection) throws(OutboxError) -> Int {
        try db.exec("BEGIN IMMEDIATE")
        do throws(OutboxError) {
            let s = try db.statement("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE lane = 1 ORDER BY id LIMIT ?1)")
            s.bind(1, count)
            try s.step()
            let dropped = db.changes
            if dropped > 0 { try bump("dropped", by: Int64(dropped), db) }
            try db.exec("COMMIT")
            return dropped
        } catch {
            try? db.exec("ROLLBACK")
            throw error
        }
    }

    /// Commits to wait after a disk-full relief before the ballast is written back.
    private var ballastDue = 0

    /// Checkpoints the WAL and closes the file. Later calls fail with `.open`.
    public func close() {
        try? db?.exec("PRAGMA wal_checkpoint(TRUNCATE)")
        db?.close()
        db = nil
    }
}

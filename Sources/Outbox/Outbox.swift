public import EdgeCore
internal import IOThread
internal import FoundationEssentials
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

/// A stored poll of the readings lane, as the publisher reads it to build its messages.
public struct StoredPoll: Sendable, Equatable {
    public var id: Int64
    public var sample: DeviceSample
    public var seq: UInt64
    /// When it was polled (the sample's wall-clock time), seconds since 1970.
    public var created: Double { sample.time }
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
    /// PUBACKs in which the broker refused a message (MQTT 5 reason code ≥ 0x80), per reason code,
    /// over the file's life. Each refused attempt counts; the messages stay and are retried.
    public var refusals: [Int32: Int64] = [:]
    /// When the broker last refused a message (seconds since the epoch).
    public var lastRefusal: Double?
    /// Polls removed without a message because the site shares none of their channels in full
    /// (`share: none` / `aggregate`); the farm had them, the co-op gets their aggregates at most.
    public var keptOnFarm: Int64 = 0

    public var refusedTotal: Int64 { refusals.values.reduce(0, +) }
}

/// How the SQLite file is laid out and checkpointed. `OutboxTuning.default` was chosen from
/// `coop-edge-bench outbox` (bytes written per reading at 100 channels × 1 Hz, 2 s commits): see
/// the numbers in `OutboxTuning.default`'s comment. The benchmark passes others to compare.
public struct OutboxTuning: Sendable, Equatable {
    /// Bytes per database page; takes effect only when the file is created (or converted at upgrade).
    public var pageSize: Int
    /// `auto_vacuum = INCREMENTAL` (pages can be given back to the file system after retention) rather than NONE.
    public var incrementalVacuum: Bool
    /// `wal_autocheckpoint`, in pages: the WAL is copied back into the database after this many.
    public var walAutocheckpoint: Int
    /// `journal_size_limit`, in bytes: what the WAL file is truncated to after a checkpoint.
    public var journalSizeLimit: Int

    public init(pageSize: Int, incrementalVacuum: Bool, walAutocheckpoint: Int, journalSizeLimit: Int) {
        self.pageSize = pageSize
        self.incrementalVacuum = incrementalVacuum
        self.walAutocheckpoint = walAutocheckpoint
        self.journalSizeLimit = journalSizeLimit
    }

    /// Chosen from `coop-edge-bench outbox` (release build; 40 devices, 100 channels at 1 Hz, simulated
    /// 30 minutes per case so checkpoints are included; bytes counted by /proc/self/io `write_bytes`):
    ///
    /// | page | auto_vacuum | wal_autocheckpoint | commit delay | broker up | broker down |
    /// |---|---|---|---|---|---|
    /// | **512** | **incremental** | **2000 pages (1 MiB)** | **2 s** | **30.0** | **52.5** bytes/reading |
    /// | 1024 | incremental | 2000 | 2 s | 42.4 | 57.2 |
    /// | 2048 | incremental | 2000 | 2 s | 62.6 | 73.5 |
    /// | 4096 | incremental | 2000 | 2 s | 41.2 | 97.5 |
    /// | 512 | none | 2000 | 2 s | 27.3 | 49.3 |
    /// | 512 | incremental | 500 | 2 s | 32.0 | 59.5 |
    /// | 512 | incremental | 8000 | 2 s | 29.8 | 48.0 |
    /// | 512 | incremental | 2000 | 0 (each poll) | 436.8 | 301.6 |
    /// | 512 | incremental | 2000 | 1 s | 43.8 | 65.4 |
    /// | 512 | incremental | 2000 | 5 s | 24.0 | 44.8 |
    ///
    /// A commit writes every page it touches, whole, to the WAL; with the broker up only a handful are
    /// touched (the newest leaves of `polls`, their parent, the freelist, the counters), so small pages
    /// win. `auto_vacuum = none` saves ~3 bytes but would keep a file at its largest after an outage;
    /// incremental lets retention and a full disk give pages back. Checkpointing less often than 1 MiB
    /// saves little and lets the WAL (and the time to open it) grow; `journal_size_limit` truncates
    /// the WAL back to 1 MiB after the occasional larger one (a long backlog's drain).
    public static let `default` = OutboxTuning(pageSize: 512, incrementalVacuum: true, walAutocheckpoint: 2000, journalSizeLimit: 1 << 20)
}

/// Where numbering goes on after a start (see `Outbox.beginNumbering`).
public struct Numbering: Sendable, Equatable {
    /// The last number of each device whose exact position is known; its next poll gets one more.
    public var last: [String: UInt64]
    /// Any other device's first number is `floor + 1`; no number above `floor` was ever used.
    public var floor: UInt64
    public var previousRun: PreviousRun

    public enum PreviousRun: Sendable, Equatable {
        /// It stopped cleanly: nothing was lost and numbering goes on without a gap.
        case clean
        /// It was killed, crashed or lost power: the polls it had not committed yet are lost (at most
        /// the commit delay's worth); `lastStored` is the time of the newest poll still in the outbox.
        /// Numbering skips above the old reservation.
        case unclean(lastStored: Double?)
        /// No reservation file: a first start, or `PATH.seq` was deleted. Numbering starts above the
        /// clock (milliseconds since 1970) and above anything the outbox holds.
        case unknown
    }
}

/// The durable queue between the pollers and the broker: SQLite in WAL mode.
///
/// Promises (ARCHITECTURE.md, invariant 1): a message is committed before anything can read it
/// for publishing, and leaves only through `acknowledge` (the broker has it) or retention, which
/// counts what it drops. Every call runs on the outbox's own thread and blocks it for the disk
/// I/O (`sqlite3_step`, `fsync`), never Swift's cooperative pool.
///
/// Flash: polls are stored compactly (`PollCodec`) in `polls`; alerts, and readings written before
/// schema 2, are stored whole in `outbox`. Both share one id space, so the publisher's cursor and
/// `acknowledge` need no lane. Acknowledged rows are not deleted one transaction per PUBACK: their ids
/// are kept in memory and deleted inside the next `append` (or once a batch is large, or old, or at
/// `close`). A kill before that only means the broker gets those messages once more (QoS 1 allows
/// it; the key drops the copy).
///
/// Numbering: `beginNumbering` (the agent calls it once) reserves sequence numbers ahead in
/// `PATH.seq` (see `SequenceReservation`), so no number is ever used for two polls, whatever happens
/// to the outbox file.
public actor Outbox {
    private let executor: IOThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    public nonisolated let config: StorageConfig
    public nonisolated let tuning: OutboxTuning
    private var db: SQLiteConnection?

    /// The schema this code writes (`PRAGMA user_version`). 0: schema 1 (every message whole, in `outbox`).
    public static let schemaVersion = 2
    /// Sequence numbers reserved past the highest one used, each time the reservation is extended.
    public static let reservationBlock: UInt64 = 100_000

    /// The next row id (one space for `outbox` and `polls`); never goes back, even when both tables empty.
    private var nextID: Int64 = 1
    private var shapeIDs: [PollCodec.Shape: Int64] = [:]
    private var shapesByID: [Int64: PollCodec.Shape] = [:]
    /// Acknowledged, not yet deleted (see the type's comment).
    private var acked: [Int64] = []
    private var ackedSet: Set<Int64> = []
    /// Of `acked`, the polls kept on the farm (nothing of them is shared): counted as `kept_on_farm`.
    private var keptSet: Set<Int64> = []
    private var ackedSince: ContinuousClock.Instant? = nil
    /// The last number passed to `append` per device, written to `sequences` (and to `PATH.seq`) at `close`.
    private var lastUsed: [String: UInt64] = [:]
    /// Set by `beginNumbering`: numbers at or above this need the reservation extended first.
    private var reservedBelow: UInt64? = nil
    /// What the upgrade from an older schema did, for the log (nil: nothing to do).
    public private(set) var upgradeNote: String? = nil

    private init(config: StorageConfig, tuning: OutboxTuning) {
        self.config = config
        self.tuning = tuning
        self.executor = IOThreadExecutor(name: "outbox")
    }

    // The connection closes itself in its own deinit (see ModbusConnection on isolated deinit).
    deinit {
        executor.shutdown()
    }

    /// Opens (creating if needed) the outbox at `config.path`, with its directory.
    public static func open(_ config: StorageConfig, tuning: OutboxTuning = .default) async throws(OutboxError) -> Outbox {
        let outbox = Outbox(config: config, tuning: tuning)
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
    public static func openRecovering(_ config: StorageConfig, tuning: OutboxTuning = .default) async throws(OutboxError) -> (Outbox, DamagedOutbox?) {
        let outbox = Outbox(config: config, tuning: tuning)
        let damage = try await outbox.setUpRecovering()
        return (outbox, damage)
    }

    private func setUpRecovering() throws(OutboxError) -> DamagedOutbox? {
        do {
            try setUp(convertPages: true)
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
                throw OutboxError(.open, "the outbox \(config.path) is damaged (\(reason)) and could not be moved aside: \(String(describing: error))")
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
    private static func fileStamp(_ date: Date) -> String { Timestamp.fileStamp(date.timeIntervalSince1970) }

    /// Opens the file, applies the tuning, checks it, and creates or upgrades the schema.
    /// `convertPages`: a file from an older version with another page size is rewritten (VACUUM) to
    /// `tuning.pageSize` when it is small enough to do so quickly (the agent's start; never `status`).
    private func setUp(convertPages: Bool = false) throws(OutboxError) {
        let dir = FilePath.directory(of: config.path)
        if !dir.isEmpty, !FileManager.default.fileExists(atPath: dir) {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            catch { throw OutboxError(.open, "cannot create the state directory \(dir): \(String(describing: error))") }
        }
        let db = try SQLiteConnection(path: config.path)
        self.db = db
        refillBallast()
        do throws(OutboxError) {
            try db.exec("PRAGMA busy_timeout = 5000")
            // Page size and auto_vacuum only take effect before the first table exists (a new file).
            try db.exec("PRAGMA page_size = \(tuning.pageSize)")
            try db.exec("PRAGMA auto_vacuum = \(tuning.incrementalVacuum ? "INCREMENTAL" : "NONE")")
            try db.exec("PRAGMA journal_mode = WAL")
            try db.exec("PRAGMA synchronous = \(config.durability == .full ? "FULL" : "NORMAL")")
            // See OutboxTuning.default: chosen from measured bytes written per reading.
            try db.exec("PRAGMA wal_autocheckpoint = \(tuning.walAutocheckpoint)")
            try db.exec("PRAGMA journal_size_limit = \(tuning.journalSizeLimit)")
            let check = try db.statement("PRAGMA quick_check")
            defer { check.reset() }
            if try check.step(), check.text(0) != "ok" {
                throw OutboxError(.corrupt, "the outbox \(config.path) is damaged: \(check.text(0))")
            }
            check.reset()
            let version = Int(try db.scalarInt("PRAGMA user_version"))
            if version > Self.schemaVersion {
                throw OutboxError(.open, "the outbox \(config.path) was written by a newer coop-edge (schema \(version), this one knows \(Self.schemaVersion)); run the newer version until its backlog is delivered, or move the file aside")
            }
            let existed = try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE name = 'outbox'") > 0
            try db.exec("""
                CREATE TABLE IF NOT EXISTS outbox(
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    lane INTEGER NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL,
                    retain INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL);
                CREATE INDEX IF NOT EXISTS outbox_lane ON outbox(lane, id);
                CREATE TABLE IF NOT EXISTS sequences(device TEXT PRIMARY KEY, seq INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, value BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS shapes(id INTEGER PRIMARY KEY, device TEXT NOT NULL, channels BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS polls(id INTEGER PRIMARY KEY, shape INTEGER NOT NULL, seq INTEGER NOT NULL,
                                                 time REAL NOT NULL, data BLOB NOT NULL);
                """)
            if version < Self.schemaVersion {
                try db.exec("PRAGMA user_version = \(Self.schemaVersion)")
                if existed {
                    // Schema 1 kept every reading as its JSON payload in `outbox`. Those rows stay and
                    // are published as they are, oldest first, before anything newer: nothing of the
                    // backlog is converted, so nothing can be lost converting it.
                    let legacy = try db.scalarInt("SELECT count(*) FROM outbox WHERE lane = 1")
                    upgradeNote = "outbox upgraded to schema \(Self.schemaVersion) (compact readings); \(legacy) readings stored before stay as they were and are sent first"
                }
            }
            if convertPages { try convertPageSize(db) }
            nextID = try max(db.scalarInt("SELECT max(id) FROM outbox"), db.scalarInt("SELECT max(id) FROM polls"),
                             db.scalarInt("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'"),
                             db.scalarInt("SELECT value FROM counters WHERE name = 'id_high'")) + 1
        } catch {
            db.close()
            self.db = nil
            throw error
        }
    }

    /// Files created before `OutboxTuning.default` have 4 KiB pages (each commit then writes 4 KiB per page
    /// it touches). Rewrites a small one with the tuned page size; a large one (a long backlog) is left
    /// as it is rather than delaying the start and needing twice its size free. It goes through a
    /// rollback journal, so a kill or power cut midway leaves the old file intact.
    private func convertPageSize(_ db: SQLiteConnection) throws(OutboxError) {
        let pageSize = try db.scalarInt("PRAGMA page_size")
        guard pageSize != Int64(tuning.pageSize) else { return }
        let bytes = try db.scalarInt("PRAGMA page_count") * pageSize
        guard bytes <= 16 << 20 else {
            upgradeNote = (upgradeNote.map { $0 + "; " } ?? "") + "its \(pageSize)-byte pages are kept (the file is \(bytes >> 20) MiB): more flash is written per reading until it is recreated"
            return
        }
        do throws(OutboxError) {
            try db.exec("PRAGMA wal_checkpoint(TRUNCATE)")
            try db.exec("PRAGMA journal_mode = DELETE")
            try db.exec("PRAGMA page_size = \(tuning.pageSize)")
            try db.exec("PRAGMA auto_vacuum = \(tuning.incrementalVacuum ? "INCREMENTAL" : "NONE")")
            try db.exec("VACUUM")
            upgradeNote = (upgradeNote.map { $0 + "; " } ?? "") + "rewritten with \(tuning.pageSize)-byte pages (was \(pageSize))"
        } catch {
            upgradeNote = (upgradeNote.map { $0 + "; " } ?? "") + "could not rewrite it with \(tuning.pageSize)-byte pages (\(error.message)); kept as it is"
        }
        try db.exec("PRAGMA journal_mode = WAL")
    }

    private func connection() throws(OutboxError) -> SQLiteConnection {
        guard let db else { throw OutboxError(.open, "the outbox \(config.path) is closed") }
        return db
    }

    // MARK: Numbering

    /// Reads the reservation in `PATH.seq` and says where each device's numbering goes on, then
    /// reserves numbers ahead of that and records that a run is under way (one durable write of a
    /// small file). Only the agent calls it — not `status` — and only once.
    ///
    /// - After a clean stop, each device goes on from its exact last number: no gap.
    /// - Otherwise (killed, power cut, no file, the outbox deleted or emptied, its WAL lost), every
    ///   device goes on above the old reservation, above the wall clock in milliseconds (in case the
    ///   file is gone too: one poll per millisecond is more than the fastest poll allows, so a run
    ///   that started at a clock reading never numbers past the clock), and above anything the outbox
    ///   holds. A restart then skips numbers rather than reusing them.
    public func beginNumbering(now: Double? = nil) throws(OutboxError) -> Numbering {
        let now = now ?? Date().timeIntervalSince1970
        let path = SequenceReservation.path(for: config.path)
        let file = SequenceReservation.read(path)
        let table = try sequences()
        let stored = max(table.values.max() ?? 0, try sequenceFloor())
        var last: [String: UInt64] = [:]
        let floor: UInt64
        let previous: Numbering.PreviousRun
        if let file, file.clean {
            for (device, seq) in file.last { last[device] = max(seq, table[device] ?? 0) }
            floor = max(file.reservedBelow &- 1, stored)
            previous = .clean
        } else {
            let clock = now.isFinite && now > 0 ? UInt64(now * 1000) : 0
            floor = max(file.map { $0.reservedBelow &- 1 } ?? 0, clock, stored)
            previous = file == nil ? .unknown : .unclean(lastStored: try newestStoredPoll())
        }
        let top = max(floor, last.values.max() ?? 0)
        let reservation = SequenceReservation(reservedBelow: top + 1 + Self.reservationBlock, clean: false, last: [:])
        try reservation.write(path)
        reservedBelow = reservation.reservedBelow
        lastUsed = last
        return Numbering(last: last, floor: floor, previousRun: previous)
    }

    /// What `PATH.seq` says, for `coop-edge status`: the reserved bound and whether the run that wrote
    /// it stopped cleanly (nil when there is no readable reservation).
    public nonisolated static func reservation(forOutbox path: String) -> (reservedBelow: UInt64, clean: Bool)? {
        SequenceReservation.read(SequenceReservation.path(for: path)).map { ($0.reservedBelow, $0.clean) }
    }

    /// Extends the reservation so `seq` is below it, before a commit can store `seq`.
    private func reserve(through seq: UInt64) throws(OutboxError) {
        guard let below = reservedBelow, seq >= below else { return }
        let reservation = SequenceReservation(reservedBelow: seq + 1 + Self.reservationBlock, clean: false, last: [:])
        try reservation.write(SequenceReservation.path(for: config.path))
        reservedBelow = reservation.reservedBelow
    }

    private func newestStoredPoll() throws(OutboxError) -> Double? {
        let db = try connection()
        let s = try db.statement("SELECT max(t) FROM (SELECT max(time) AS t FROM polls UNION ALL SELECT max(created) FROM outbox WHERE lane = 1)")
        defer { s.reset() }
        guard try s.step() else { return nil }
        let t = s.double(0)
        return t > 0 ? t : nil
    }

    // MARK: Writing

    /// Commits `messages` (stored whole), `polls` (stored compactly), the devices' latest sequence
    /// numbers and `state` entries (see `saveState`) in one transaction, together with the deletion of
    /// the rows acknowledged since the last commit. Returns the ids given to the messages, then to
    /// the polls. Nothing is visible to `pending` before the commit.
    ///
    /// With numbering begun, a number at or above the reservation extends it (a durable write of
    /// `PATH.seq`) before the transaction starts.
    @discardableResult
    public func append(_ messages: [NewMessage], polls: [PollRecord] = [], sequences: [String: UInt64] = [:],
                       state: [String: [UInt8]] = [:]) throws(OutboxError) -> [Int64] {
        let db = try connection()
        let highest = max(sequences.values.max() ?? 0, polls.map(\.seq).max() ?? 0)
        try reserve(through: highest)
        let firstID = nextID
        var newShapes: [(PollCodec.Shape, Int64)] = []
        try db.exec("BEGIN IMMEDIATE")
        do {
            try deleteAcknowledged(db)
            var ids: [Int64] = []
            ids.reserveCapacity(messages.count + polls.count)
            var id = firstID
            for m in messages {
                let s = try db.statement("INSERT INTO outbox(id, lane, topic, payload, retain, created) VALUES(?1, ?2, ?3, ?4, ?5, ?6)")
                s.bind(1, id)
                s.bind(2, Int64(m.lane.rawValue))
                s.bind(3, m.topic)
                s.bind(4, m.payload)
                s.bind(5, Int64(m.retain ? 1 : 0))
                s.bind(6, m.created)
                try s.step()
                ids.append(id)
                id += 1
            }
            for p in polls {
                let shape = PollCodec.shape(of: p.sample)
                var shapeID = shapeIDs[shape] ?? newShapes.first(where: { $0.0 == shape })?.1
                if shapeID == nil {
                    shapeID = try findOrInsertShape(shape, db)
                    newShapes.append((shape, shapeID!))
                }
                let s = try db.statement("INSERT INTO polls(id, shape, seq, time, data) VALUES(?1, ?2, ?3, ?4, ?5)")
                s.bind(1, id)
                s.bind(2, shapeID!)
                s.bind(3, Int64(bitPattern: p.seq))
                s.bind(4, p.sample.time)
                s.bind(5, PollCodec.encodeValues(p.sample))
                try s.step()
                ids.append(id)
                id += 1
            }
            for (key, value) in state {
                let s = try db.statement("INSERT INTO state(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
                s.bind(1, key)
                s.bind(2, value)
                try s.step()
            }
            try db.exec("COMMIT")
            nextID = id
            acked.removeAll(keepingCapacity: true)
            ackedSet.removeAll(keepingCapacity: true)
            keptSet.removeAll(keepingCapacity: true)
            ackedSince = nil
            for (shape, sid) in newShapes { shapeIDs[shape] = sid; shapesByID[sid] = shape }
            for (device, seq) in sequences where seq > (lastUsed[device] ?? 0) { lastUsed[device] = seq }
            for p in polls where p.seq > (lastUsed[p.sample.device] ?? 0) { lastUsed[p.sample.device] = p.seq }
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

    private func findOrInsertShape(_ shape: PollCodec.Shape, _ db: SQLiteConnection) throws(OutboxError) -> Int64 {
        let blob = PollCodec.encode(shape)
        let find = try db.statement("SELECT id FROM shapes WHERE device = ?1 AND channels = ?2")
        find.bind(1, shape.device)
        find.bind(2, blob)
        if try find.step() {
            let id = find.int(0)
            find.reset()
            return id
        }
        find.reset()
        let insert = try db.statement("INSERT INTO shapes(device, channels) VALUES(?1, ?2)")
        insert.bind(1, shape.device)
        insert.bind(2, blob)
        try insert.step()
        return db.lastInsertRowID
    }

    /// Deletes the acknowledged rows inside the caller's transaction, counted as `delivered`, and
    /// remembers the highest id deleted so ids are never given again after the tables empty.
    private func deleteAcknowledged(_ db: SQLiteConnection) throws(OutboxError) {
        guard !acked.isEmpty else { return }
        if keptSet.isEmpty {
            try bump("delivered", by: try deleteRows(acked, db), db)
        } else {
            try bump("delivered", by: try deleteRows(acked.filter { !keptSet.contains($0) }, db), db)
            try bump("kept_on_farm", by: try deleteRows(acked.filter { keptSet.contains($0) }, db), db)
        }
    }

    private func deleteRows(_ ids: [Int64], _ db: SQLiteConnection) throws(OutboxError) -> Int64 {
        var removed: Int64 = 0
        for id in ids {
            let s = try db.statement("DELETE FROM polls WHERE id = ?1")
            s.bind(1, id)
            try s.step()
            if db.changes == 0 {
                let m = try db.statement("DELETE FROM outbox WHERE id = ?1")
                m.bind(1, id)
                try m.step()
            }
            removed += Int64(db.changes)
        }
        if let high = ids.max() {
            let s = try db.statement("INSERT INTO counters(name, value) VALUES('id_high', ?1) ON CONFLICT(name) DO UPDATE SET value = max(value, excluded.value)")
            s.bind(1, high)
            try s.step()
        }
        return removed
    }

    /// Up to `limit` messages of `lane` with an id above `after`, oldest first. Readings stored
    /// compactly are turned into messages by `render` (without one: topic = device, payload =
    /// `StatePayload` with an empty site name — for tools and tests).
    public func pending(lane: Lane, after: Int64, limit: Int, render: PollRenderer? = nil) throws(OutboxError) -> [StoredMessage] {
        let db = try connection()
        let s = try db.statement("SELECT id, topic, payload, retain, created FROM outbox WHERE lane = ?1 AND id > ?2 ORDER BY id LIMIT ?3")
        s.bind(1, Int64(lane.rawValue))
        s.bind(2, after)
        s.bind(3, Int64(limit + acked.count))
        var out: [StoredMessage] = []
        while try s.step() {
            let id = s.int(0)
            if ackedSet.contains(id) { continue }
            out.append(StoredMessage(id: id, lane: lane, topic: s.text(1), payload: s.blob(2), retain: s.int(3) != 0, created: s.double(4)))
            if out.count == limit { break }
        }
        s.reset()
        guard lane == .readings else { return out }
        let p = try db.statement("SELECT id, shape, seq, time, data FROM polls WHERE id > ?1 ORDER BY id LIMIT ?2")
        p.bind(1, after)
        p.bind(2, Int64(limit + acked.count))
        var polls: [StoredMessage] = []
        while try p.step() {
            let id = p.int(0)
            if ackedSet.contains(id) { continue }
            let shapeID = p.int(1)
            let seq = UInt64(bitPattern: p.int(2))
            let time = p.double(3)
            let data = p.blob(4)
            guard let shape = try shape(shapeID, db), let sample = PollCodec.decode(data, shape: shape, time: time) else {
                p.reset()
                throw OutboxError(.corrupt, "the outbox \(config.path) holds a poll (id \(id)) that cannot be decoded")
            }
            let (topic, payload) = render?(sample, seq) ?? (sample.device, StatePayload.encode(sample, seq: seq, site: ""))
            polls.append(StoredMessage(id: id, lane: .readings, topic: topic, payload: payload, retain: false, created: time))
            if polls.count == limit { break }
        }
        p.reset()
        if out.isEmpty { return polls }
        if polls.isEmpty { return out }
        return Array((out + polls).sorted { $0.id < $1.id }.prefix(limit))
    }

    /// The readings lane from `after` (exclusive) through `through`, oldest first, at most `limit`
    /// rows: rows an older version stored as JSON (`messages`) and compact polls (`polls`). Rows
    /// acknowledged but not yet deleted are skipped, and so are the ids in `skipping` (in flight).
    public func pendingReadings(after: Int64, through: Int64 = .max, limit: Int,
                                skipping: Set<Int64> = []) throws(OutboxError) -> (messages: [StoredMessage], polls: [StoredPoll]) {
        let db = try connection()
        let scan = Int64(limit + acked.count + skipping.count)
        var messages: [StoredMessage] = []
        let s = try db.statement("SELECT id, topic, payload, retain, created FROM outbox WHERE lane = ?1 AND id > ?2 AND id <= ?3 ORDER BY id LIMIT ?4")
        s.bind(1, Int64(Lane.readings.rawValue))
        s.bind(2, after)
        s.bind(3, through)
        s.bind(4, scan)
        while try s.step() {
            let id = s.int(0)
            if ackedSet.contains(id) || skipping.contains(id) { continue }
            messages.append(StoredMessage(id: id, lane: .readings, topic: s.text(1), payload: s.blob(2), retain: s.int(3) != 0, created: s.double(4)))
            if messages.count == limit { break }
        }
        s.reset()
        var polls: [StoredPoll] = []
        let p = try db.statement("SELECT id, shape, seq, time, data FROM polls WHERE id > ?1 AND id <= ?2 ORDER BY id LIMIT ?3")
        p.bind(1, after)
        p.bind(2, through)
        p.bind(3, scan)
        while try p.step() {
            let id = p.int(0)
            if ackedSet.contains(id) || skipping.contains(id) { continue }
            guard let shape = try shape(p.int(1), db), let sample = PollCodec.decode(p.blob(4), shape: shape, time: p.double(3)) else {
                p.reset()
                throw OutboxError(.corrupt, "the outbox \(config.path) holds a poll (id \(id)) that cannot be decoded")
            }
            polls.append(StoredPoll(id: id, sample: sample, seq: UInt64(bitPattern: p.int(2))))
            if polls.count == limit { break }
        }
        p.reset()
        // Together at most `limit`, the oldest first: trim whichever lane runs past the other.
        if messages.count + polls.count > limit, !messages.isEmpty {
            let ids = (messages.map(\.id) + polls.map(\.id)).sorted()
            let last = ids[limit - 1]
            messages.removeAll { $0.id > last }
            polls.removeAll { $0.id > last }
        }
        return (messages, polls)
    }

    /// The newest id in the readings lane and when the oldest undelivered reading was polled (nil
    /// when none waits): where the backlog ends when the broker comes back.
    public func readingsExtent() throws(OutboxError) -> (newest: Int64, oldest: Double?) {
        let db = try connection()
        let newest = max(try db.scalarInt("SELECT coalesce(max(id), 0) FROM polls"),
                         try db.scalarInt("SELECT coalesce(max(id), 0) FROM outbox WHERE lane = 1"))
        let s = try db.statement("SELECT min(t) FROM (SELECT min(time) AS t FROM polls UNION ALL SELECT min(created) FROM outbox WHERE lane = 1)")
        defer { s.reset() }
        let oldest: Double? = try s.step() && !s.isNull(0) ? s.double(0) : nil
        return (newest, oldest)
    }

    private func shape(_ id: Int64, _ db: SQLiteConnection) throws(OutboxError) -> PollCodec.Shape? {
        if let s = shapesByID[id] { return s }
        let s = try db.statement("SELECT device, channels FROM shapes WHERE id = ?1")
        s.bind(1, id)
        defer { s.reset() }
        guard try s.step(), let shape = PollCodec.decodeShape(device: s.text(0), s.blob(1)) else { return nil }
        shapesByID[id] = shape
        shapeIDs[shape] = id
        return shape
    }

    /// Ids acknowledged but not yet deleted, after which `acknowledge` deletes them by itself.
    public static let acknowledgedBatch = 4096

    /// Records that the broker has these messages. They are deleted with the next `append` (one
    /// transaction for both), or in a transaction of their own once `acknowledgedBatch` are waiting or
    /// the oldest has waited twice the commit delay (at least a second) — when polling has stopped —
    /// and at `close`. Until then `pending` skips them. `promptly` deletes them now (the publisher asks
    /// for alerts: rare, and a kill must not send one twice).
    ///
    /// `keptOnFarm`: polls the site shares nothing of (every channel `none` or `aggregate`): the
    /// publisher sends no message for them, and they go with the acknowledged ones, counted apart.
    public func acknowledge(_ ids: [Int64], keptOnFarm: [Int64] = [], promptly: Bool = false) throws(OutboxError) {
        if !keptOnFarm.isEmpty {
            if ackedSince == nil { ackedSince = .now }
            for id in keptOnFarm where ackedSet.insert(id).inserted { acked.append(id); keptSet.insert(id) }
        }
        if !ids.isEmpty {
            if ackedSince == nil { ackedSince = .now }
            for id in ids where ackedSet.insert(id).inserted { acked.append(id) }
        }
        guard let since = ackedSince else { return }
        let patience = max(1.0, 2 * config.commitDelay)
        if promptly || acked.count >= Self.acknowledgedBatch || since.duration(to: .now) > .milliseconds(Int64(patience * 1000)) {
            try flushAcknowledged()
        }
    }

    /// Deletes the acknowledged rows now, in one transaction.
    public func flushAcknowledged() throws(OutboxError) {
        guard !acked.isEmpty else { return }
        let db = try connection()
        try db.exec("BEGIN IMMEDIATE")
        do throws(OutboxError) {
            try deleteAcknowledged(db)
            try db.exec("COMMIT")
            acked.removeAll(keepingCapacity: true)
            ackedSet.removeAll(keepingCapacity: true)
            keptSet.removeAll(keepingCapacity: true)
            ackedSince = nil
        } catch {
            try? db.exec("ROLLBACK")
            throw error
        }
    }

    /// Removes messages that can never be published (the client refused them for good), counted
    /// as `rejected` in the same transaction.
    public func reject(_ ids: [Int64]) throws(OutboxError) {
        guard !ids.isEmpty else { return }
        let db = try connection()
        try db.exec("BEGIN IMMEDIATE")
        do throws(OutboxError) {
            let removed = try deleteRows(ids, db)
            try bump("rejected", by: removed, db)
            try db.exec("COMMIT")
        } catch {
            try? db.exec("ROLLBACK")
            throw error
        }
    }

    /// Corrects the time of stored polls of `device` numbered `seqs` that were taken before the clock
    /// was synchronised: `shift` seconds added, flagged synchronised and re-stamped. Polls already
    /// delivered are gone from here and stay as they were published (`clock_synced: false`).
    /// Returns how many were corrected. Batches of 5,000 rows per transaction.
    public func restamp(device: String, seqs: ClosedRange<UInt64>, shift: Double) throws(OutboxError) -> Int {
        let db = try connection()
        var shapes: [Int64] = []
        let s = try db.statement("SELECT id FROM shapes WHERE device = ?1")
        s.bind(1, device)
        while try s.step() { shapes.append(s.int(0)) }
        s.reset()
        var total = 0
        for shape in shapes {
            var after: Int64 = Int64.min
            while true {
                let select = try db.statement("SELECT id, time, data FROM polls WHERE shape = ?1 AND seq BETWEEN ?2 AND ?3 AND id > ?4 ORDER BY id LIMIT 5000")
                select.bind(1, shape)
                select.bind(2, Int64(bitPattern: seqs.lowerBound))
                select.bind(3, Int64(bitPattern: seqs.upperBound))
                select.bind(4, after)
                var rows: [(id: Int64, time: Double, data: [UInt8])] = []
                while try select.step() { rows.append((select.int(0), select.double(1), select.blob(2))) }
                select.reset()
                guard let last = rows.last else { break }
                after = last.id
                try db.exec("BEGIN IMMEDIATE")
                do throws(OutboxError) {
                    let update = try db.statement("UPDATE polls SET time = ?1, data = ?2 WHERE id = ?3")
                    for var row in rows where !row.data.isEmpty && row.data[0] & 1 == 0 {
                        row.data[0] |= 1 | 4
                        update.bind(1, row.time + shift)
                        update.bind(2, row.data)
                        update.bind(3, row.id)
                        try update.step()
                        update.reset()
                        total += 1
                    }
                    try db.exec("COMMIT")
                } catch {
                    try? db.exec("ROLLBACK")
                    throw error
                }
            }
        }
        return total
    }

    /// Adds refused PUBACKs to the per-reason counters (`refused_0x87`, …) and stamps the last one,
    /// in one small transaction. The publisher calls it at most once a tick, only while refusals come.
    public func countRefusals(_ counts: [Int32: Int], at time: Double) throws(OutboxError) {
        guard !counts.isEmpty else { return }
        let db = try connection()
        try db.exec("BEGIN IMMEDIATE")
        do throws(OutboxError) {
            for (reason, n) in counts.sorted(by: { $0.key < $1.key }) {
                try bump(Self.refusalCounter(reason), by: Int64(n), db)
            }
            let s = try db.statement("INSERT INTO counters(name, value) VALUES('refused_last', ?1) ON CONFLICT(name) DO UPDATE SET value = excluded.value")
            s.bind(1, Int64(time))
            try s.step()
            try db.exec("COMMIT")
        } catch {
            try? db.exec("ROLLBACK")
            throw error
        }
    }

    static func refusalCounter(_ reason: Int32) -> String {
        let digits = String(reason, radix: 16)
        return "refused_0x" + (digits.count < 2 ? "0" : "") + digits
    }

    /// Where numbering continues for a device that has no number of its own yet: 0, or after a damaged
    /// outbox whose numbers were unreadable, a value above any number it held (see `openRecovering`).
    public func sequenceFloor() throws(OutboxError) -> UInt64 {
        let db = try connection()
        let s = try db.statement("SELECT value FROM counters WHERE name = 'sequence_floor'")
        defer { s.reset() }
        return try s.step() ? UInt64(bitPattern: s.int(0)) : 0
    }

    /// The last sequence number of each device as the outbox knows it: written to the file at `close`
    /// (not in every commit: `PATH.seq` is what keeps numbers from being reused after a crash).
    public func sequences() throws(OutboxError) -> [String: UInt64] {
        let db = try connection()
        let s = try db.statement("SELECT device, seq FROM sequences")
        var out: [String: UInt64] = [:]
        while try s.step() { out[s.text(0)] = UInt64(bitPattern: s.int(1)) }
        for (device, seq) in lastUsed where seq > (out[device] ?? 0) { out[device] = seq }
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
                let cutoff = now - Double(config.maxAgeDays) * 86_400
                let old = try db.statement("DELETE FROM outbox WHERE created < ?1 AND created >= ?2")
                old.bind(1, cutoff)
                old.bind(2, Self.plausibleSince)
                try old.step()
                dropped += db.changes
                let oldPolls = try db.statement("DELETE FROM polls WHERE time < ?1 AND time >= ?2")
                oldPolls.bind(1, cutoff)
                oldPolls.bind(2, Self.plausibleSince)
                try oldPolls.step()
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
            let total = try pendingReadingRows(db)
            if total == 0 { break }
            dropped += try dropOldestReadings(max(1, total / 10), db)
            if tuning.incrementalVacuum { try db.exec("PRAGMA incremental_vacuum") }
            try db.exec("PRAGMA wal_checkpoint(TRUNCATE)")
            rounds += 1
        }
        return dropped
    }

    private func pendingReadingRows(_ db: SQLiteConnection) throws(OutboxError) -> Int64 {
        try db.scalarInt("SELECT count(*) FROM outbox WHERE lane = 1") + db.scalarInt("SELECT count(*) FROM polls")
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

    /// What the file holds, after deleting what was acknowledged (so the counts are exact; one small
    /// transaction — the agent asks every five minutes).
    public func stats() throws(OutboxError) -> OutboxStats {
        let db = try connection()
        try flushAcknowledged()
        func counter(_ name: String) throws(OutboxError) -> Int64 {
            let s = try db.statement("SELECT value FROM counters WHERE name = ?1")
            s.bind(1, name)
            defer { s.reset() }
            return try s.step() ? s.int(0) : 0
        }
        let oldest = try db.statement("SELECT min(t) FROM (SELECT min(created) AS t FROM outbox UNION ALL SELECT min(time) FROM polls)")
        let hasOldest = try oldest.step()
        let oldestValue: Double? = hasOldest && oldest.double(0) > 0 ? oldest.double(0) : nil
        oldest.reset()
        var refusals: [Int32: Int64] = [:]
        let r = try db.statement("SELECT name, value FROM counters WHERE name LIKE 'refused_0x%'")
        while try r.step() {
            if let code = Int32(r.text(0).dropFirst("refused_0x".count), radix: 16) { refusals[code] = r.int(1) }
        }
        r.reset()
        let last = try counter("refused_last")
        return OutboxStats(
            pendingAlerts: Int(try db.scalarInt("SELECT count(*) FROM outbox WHERE lane = 0")),
            pendingReadings: Int(try pendingReadingRows(db)),
            oldestPending: oldestValue,
            delivered: try counter("delivered"), dropped: try counter("dropped"), rejected: try counter("rejected"),
            fileBytes: try fileBytes(db), refusals: refusals, lastRefusal: last > 0 ? Double(last) : nil,
            keptOnFarm: try counter("kept_on_farm"))
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
        let total = try pendingReadingRows(db)
        let dropped = try dropOldestReadings(max(Int64(minimum), total / 10), db)
        // Give the freed pages back to the file system, then fold the WAL in.
        if tuning.incrementalVacuum { try? db.exec("PRAGMA incremental_vacuum") }
        try? db.exec("PRAGMA wal_checkpoint(TRUNCATE)")
        return dropped
    }

    /// Deletes the `count` oldest readings (those stored before schema 2 first: they are older) and
    /// counts them as dropped, in one transaction.
    private func dropOldestReadings(_ count: Int64, _ db: SQLiteConnection) throws(OutboxError) -> Int {
        try db.exec("BEGIN IMMEDIATE")
        do throws(OutboxError) {
            let s = try db.statement("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE lane = 1 ORDER BY id LIMIT ?1)")
            s.bind(1, count)
            try s.step()
            var dropped = db.changes
            if Int64(dropped) < count {
                let p = try db.statement("DELETE FROM polls WHERE id IN (SELECT id FROM polls ORDER BY id LIMIT ?1)")
                p.bind(1, count - Int64(dropped))
                try p.step()
                dropped += db.changes
            }
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

    /// Deletes what was acknowledged, writes the devices' last numbers into the file, checkpoints the
    /// WAL and closes the file; then, if numbering was begun, marks the reservation clean with those
    /// numbers, so the next start goes on without a gap. Later calls fail with `.open`.
    public func close() {
        guard let db else { return }
        try? flushAcknowledged()
        if !lastUsed.isEmpty {
            do throws(OutboxError) {
                try db.exec("BEGIN IMMEDIATE")
                for (device, seq) in lastUsed {
                    let s = try db.statement("INSERT INTO sequences(device, seq) VALUES(?1, ?2) ON CONFLICT(device) DO UPDATE SET seq = max(seq, excluded.seq)")
                    s.bind(1, device)
                    s.bind(2, Int64(bitPattern: seq))
                    try s.step()
                }
                try db.exec("COMMIT")
            } catch {
                try? db.exec("ROLLBACK")
            }
        }
        try? db.exec("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        self.db = nil
        if let below = reservedBelow {
            // Best effort: without it the next start skips above the reservation, which is safe.
            try? SequenceReservation(reservedBelow: below, clean: true, last: lastUsed).write(SequenceReservation.path(for: config.path))
            reservedBelow = nil
        }
    }
}

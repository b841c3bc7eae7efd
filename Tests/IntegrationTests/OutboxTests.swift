import EdgeCore
import Foundation
import Outbox
import Testing

/// The outbox against real SQLite files in a temporary folder.
@Suite(.serialized)
struct OutboxTests {
    func message(_ lane: Lane, _ n: Int, created: Double = Date().timeIntervalSince1970) -> NewMessage {
        NewMessage(lane: lane, topic: "t/\(n)", payload: Array("{\"n\":\(n)}".utf8), created: created)
    }

    @Test("alerts leave before readings, each lane oldest first; acknowledged rows are gone and counted")
    func lanesAndAcknowledgement() async throws {
        let dir = try TempDir()
        let outbox = try await Outbox.open(StorageConfig(path: dir.path + "/o.sqlite"))
        let ids = try await outbox.append([message(.readings, 1), message(.readings, 2), message(.alerts, 3), message(.readings, 4)])
        #expect(ids.count == 4 && ids == ids.sorted())
        let alerts = try await outbox.pending(lane: .alerts, after: 0, limit: 10)
        #expect(alerts.map(\.topic) == ["t/3"])
        let readings = try await outbox.pending(lane: .readings, after: 0, limit: 10)
        #expect(readings.map(\.topic) == ["t/1", "t/2", "t/4"])
        #expect(try await outbox.pending(lane: .readings, after: readings[1].id, limit: 10).map(\.topic) == ["t/4"])
        try await outbox.acknowledge([readings[0].id, alerts[0].id])
        let stats = try await outbox.stats()
        #expect(stats.pendingReadings == 2)
        #expect(stats.pendingAlerts == 0)
        #expect(stats.delivered == 2)
        await outbox.close()
    }

    @Test("sequence numbers and undelivered messages survive closing and reopening; ids are never reused")
    func survivesReopen() async throws {
        let dir = try TempDir()
        let config = StorageConfig(path: dir.path + "/o.sqlite")
        var outbox = try await Outbox.open(config)
        let first = try await outbox.append([message(.readings, 1)], sequences: ["cold-room-1": 41])
        try await outbox.acknowledge(first)
        await outbox.close()
        outbox = try await Outbox.open(config)
        #expect(try await outbox.sequences() == ["cold-room-1": 41])
        let second = try await outbox.append([message(.readings, 2)])
        // AUTOINCREMENT: after the table emptied, a new row must not take an id the publisher's
        // cursor has already passed.
        #expect(second[0] > first[0])
        await outbox.close()
    }

    @Test("retention drops what is too old and counts it; alerts younger than the limit stay")
    func retentionCountsWhatItDrops() async throws {
        let dir = try TempDir()
        let outbox = try await Outbox.open(StorageConfig(path: dir.path + "/o.sqlite", maxAgeDays: 1))
        let now = Date().timeIntervalSince1970
        try await outbox.append([message(.readings, 1, created: now - 3 * 86_400), message(.readings, 2, created: now - 2 * 86_400),
                                 message(.readings, 3, created: now), message(.alerts, 4, created: now)])
        let dropped = try await outbox.enforceRetention(now: now)
        #expect(dropped == 2)
        let stats = try await outbox.stats()
        #expect(stats.dropped == 2)
        #expect(stats.pendingReadings == 1)
        #expect(stats.pendingAlerts == 1)
        await outbox.close()
    }

    @Test("age is judged only with a set clock: readings stamped by an unset clock (1970) are kept, not thrown away as decades old")
    func retentionIgnoresUnsetClockStamps() async throws {
        let dir = try TempDir()
        let outbox = try await Outbox.open(StorageConfig(path: dir.path + "/o.sqlite", maxAgeDays: 1))
        let now = Date().timeIntervalSince1970
        // Taken after a boot without an RTC, before NTP answered: stamped a few hours after 1970.
        try await outbox.append([message(.readings, 1, created: 3 * 3600), message(.readings, 2, created: 5 * 3600),
                                 message(.readings, 3, created: now - 3 * 86_400), message(.readings, 4, created: now)])
        // Not synchronised yet: nothing is judged by age.
        #expect(try await outbox.enforceRetention(now: nil) == 0)
        // Synchronised: the real three-day-old reading goes; the unset-clock ones stay for delivery.
        #expect(try await outbox.enforceRetention(now: now) == 1)
        let left = try await outbox.pending(lane: .readings, after: 0, limit: 10).map(\.topic)
        #expect(left == ["t/1", "t/2", "t/4"])
        await outbox.close()
    }

    @Test("a damaged file is refused with a message that says what to do, not a crash")
    func corruptFileIsReported() async throws {
        let dir = try TempDir()
        let path = try await damagedOutbox(dir, garbageAt: 4096, bytes: 8192)     // the middle of the file
        do {
            let reopened = try await Outbox.open(StorageConfig(path: path))
            // Some damage only shows on use; it must surface as an OutboxError, never a trap.
            _ = try await reopened.stats()
            Issue.record("a damaged outbox opened without complaint")
        } catch {
            #expect(error.code == .corrupt, "\(error)")
            #expect(error.message.contains(path))
        }
    }

    /// Fills an outbox with 200 readings and sequence numbers, then writes garbage over part of it.
    private func damagedOutbox(_ dir: TempDir, garbageAt offset: UInt64, bytes: Int) async throws -> String {
        let path = dir.path + "/o.sqlite"
        let outbox = try await Outbox.open(StorageConfig(path: path))
        try await outbox.append((0..<200).map { message(.readings, $0) }, sequences: ["cold-room-1": 200, "/alerts": 7])
        await outbox.close()
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seek(toOffset: offset)
        handle.write(Data(repeating: 0xA5, count: bytes))
        try handle.close()
        return path
    }

    @Test("a damaged outbox is moved aside and kept; a fresh one records, and numbering goes on above the old numbers")
    func damagedOutboxIsMovedAside() async throws {
        let dir = try TempDir()
        let path = try await damagedOutbox(dir, garbageAt: 4096, bytes: 8192)
        let (outbox, damage) = try await Outbox.openRecovering(StorageConfig(path: path))
        let moved = try #require(damage, "the damage went unnoticed")
        #expect(moved.movedTo.hasPrefix(path + ".damaged-"))
        #expect(FileManager.default.fileExists(atPath: moved.movedTo), "the damaged file must be kept for recovery")
        // Whether the numbers could be read back or not, a new reading numbers above the old ones.
        let sequences = try await outbox.sequences()
        let floor = try await outbox.sequenceFloor()
        #expect((sequences["cold-room-1"] ?? floor) >= 200)
        #expect((sequences["/alerts"] ?? floor) >= 7)
        if let salvaged = moved.salvagedSequences { #expect(salvaged["cold-room-1"] == 200) }
        // The fresh file works and holds nothing from the old one.
        #expect(try await outbox.stats().pendingReadings == 0)
        try await outbox.append([message(.readings, 1)])
        #expect(try await outbox.stats().pendingReadings == 1)
        await outbox.close()
        // And next time it opens as it is.
        let (again, damageAgain) = try await Outbox.openRecovering(StorageConfig(path: path))
        #expect(damageAgain == nil)
        #expect(try await again.stats().pendingReadings == 1)
        await again.close()
    }

    @Test("when even the numbers are unreadable, numbering continues from a floor above any old number")
    func unreadableNumbersGiveAFloor() async throws {
        let dir = try TempDir()
        let path = try await damagedOutbox(dir, garbageAt: 0, bytes: 64 * 1024)     // the header too
        let before = UInt64(Date().timeIntervalSince1970 * 1000)
        let (outbox, damage) = try await Outbox.openRecovering(StorageConfig(path: path))
        let moved = try #require(damage)
        #expect(moved.salvagedSequences == nil)
        #expect(try await outbox.sequences().isEmpty)
        let floor = try await outbox.sequenceFloor()
        #expect(floor >= before && floor > 200)
        await outbox.close()
        // The floor is kept: a restart does not fall back to 0.
        let reopened = try await Outbox.open(StorageConfig(path: path))
        #expect(try await reopened.sequenceFloor() == floor)
        await reopened.close()
    }

    @Test("a full disk fails the commit cleanly; relieving it drops the oldest readings (counted) and recording goes on")
    func fullDiskIsRelieved() async throws {
        let mount = NSTemporaryDirectory() + "coop-edge-full-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        defer { _ = try? run("/bin/umount", [mount]); try? FileManager.default.removeItem(atPath: mount) }
        let status = try run("/bin/mount", ["-t", "tmpfs", "-o", "size=1536k", "tmpfs", mount])
        try #require(status == 0, "mounting a 1.5 MiB tmpfs needs root (FIELD-NOTES.md: fault-injection tests run as root)")

        let outbox = try await Outbox.open(StorageConfig(path: mount + "/o.sqlite"))
        #expect(FileManager.default.fileExists(atPath: mount + "/o.sqlite.ballast"))
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 2000)
        var committed = 0
        var failure: OutboxError? = nil
        for i in 0..<2000 {
            do {
                try await outbox.append([NewMessage(lane: .readings, topic: "t/\(i)", payload: payload, created: 1.8e9 + Double(i))])
                committed += 1
            } catch {
                failure = error
                break
            }
        }
        let full = try #require(failure, "the disk never filled")
        #expect(full.code == .diskFull, "\(full)")
        #expect(committed > 100)
        let dropped = try await outbox.relieveFullDisk()
        #expect(dropped >= 100)
        try await outbox.append([NewMessage(lane: .readings, topic: "after", payload: payload, created: 2e9)])
        let stats = try await outbox.stats()
        #expect(stats.dropped == Int64(dropped))
        #expect(stats.pendingReadings == committed - dropped + 1, "nothing but the counted drops may be lost")
        // The oldest went first.
        let first = try await outbox.pending(lane: .readings, after: 0, limit: 1)
        #expect(first.first?.topic == "t/\(dropped)")
        await outbox.close()
    }

    // MARK: Compact polls, batched acknowledgements, numbering (issue 9)

    func sample(_ device: String, _ t: Double) -> DeviceSample {
        DeviceSample(device: device, time: t, monotonic: 1, clockSynced: t > 2e9, readings: [
            Reading(channel: "temperature", value: 4.1 + t.truncatingRemainder(dividingBy: 1), quality: .good, unit: "°C"),
            Reading(channel: "humidity", value: 101.5, quality: .outOfRange, unit: "%RH"),
            Reading(channel: "door", value: nil, quality: .commFault, unit: "", fault: "exception 2: illegal data address"),
            Reading(channel: "level", value: nil, quality: .sentinel, unit: "mm", fault: "sensor reports no reading"),
        ])
    }

    @Test("a poll stored compactly is published exactly as its JSON would have been at poll time; acknowledged rows go with the next commit")
    func compactPollsRoundTrip() async throws {
        let dir = try TempDir()
        let outbox = try await Outbox.open(StorageConfig(path: dir.path + "/o.sqlite"))
        var offline = sample("cold-room-1", 1.8e9 + 1.0)
        offline.offline = true  // kept with the poll: published as "offline": true
        let samples = [sample("cold-room-1", 1.8e9 + 0.123), sample("cold-room-2", 2.1e9 + 0.5), offline]
        let render: PollRenderer = { s, seq in ("t/\(s.device)", StatePayload.encode(s, seq: seq, site: "farm-1")) }
        let ids = try await outbox.append([message(.alerts, 1)], polls: samples.enumerated().map { PollRecord(sample: $1, seq: UInt64(40 + $0)) })
        let pending = try await outbox.pending(lane: .readings, after: 0, limit: 10, render: render)
        #expect(pending.map(\.id) == Array(ids.dropFirst()))
        for (i, m) in pending.enumerated() {
            #expect(m.topic == "t/\(samples[i].device)")
            #expect(m.payload == StatePayload.encode(samples[i], seq: UInt64(40 + i), site: "farm-1"), "\(String(decoding: m.payload, as: UTF8.self))")
            #expect(m.created == samples[i].time)
        }
        #expect(String(decoding: pending[2].payload, as: UTF8.self).contains("\"offline\":true"))
        #expect(!String(decoding: pending[0].payload, as: UTF8.self).contains("offline"))
        // Acknowledged: no longer pending at once, deleted (and counted) with the next commit.
        try await outbox.acknowledge([ids[1], ids[2]])
        #expect(try await outbox.pending(lane: .readings, after: 0, limit: 10, render: render).map(\.id) == [ids[3]])
        try await outbox.append([], polls: [PollRecord(sample: sample("cold-room-2", 1.8e9 + 2), seq: 43)])
        let stats = try await outbox.stats()
        #expect(stats.delivered == 2)
        #expect(stats.pendingReadings == 2)
        await outbox.close()
    }

    @Test("numbering: a clean stop goes on without a gap; a kill, a deleted outbox or a deleted reservation go on above everything used")
    func numberingNeverGoesBack() async throws {
        let dir = try TempDir()
        let config = StorageConfig(path: dir.path + "/o.sqlite")
        let now = Date().timeIntervalSince1970
        // First start: no reservation, so above the clock.
        var outbox = try await Outbox.open(config)
        var n = try await outbox.beginNumbering(now: now)
        #expect(n.previousRun == .unknown)
        #expect(n.floor >= UInt64(now * 1000))
        let first = n.floor + 1
        try await outbox.append([], polls: [PollRecord(sample: sample("a", now), seq: first)], sequences: ["/alerts": 7])
        await outbox.close()

        // Clean stop: exactly where it was.
        outbox = try await Outbox.open(config)
        n = try await outbox.beginNumbering(now: now)
        #expect(n.previousRun == .clean)
        #expect(n.last["a"] == first && n.last["/alerts"] == 7)
        #expect(n.floor >= first)
        // Numbers far beyond the reservation extend it before they are stored.
        let far = first + 3 * Outbox.reservationBlock
        try await outbox.append([], polls: [PollRecord(sample: sample("a", now + 1), seq: far)])
        // Killed here (no close): the next start skips above all of it, even with the outbox deleted.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: config.path + suffix) }
        let again = try await Outbox.open(config)
        n = try await again.beginNumbering(now: now)
        guard case .unclean = n.previousRun else { Issue.record("a kill must be seen: \(n.previousRun)"); return }
        #expect(n.last.isEmpty)
        #expect(n.floor >= far)
        await again.close()

        // The reservation deleted as well: the clock still puts numbering above the first run's start.
        try FileManager.default.removeItem(atPath: config.path + ".seq")
        let later = try await Outbox.open(config)
        n = try await later.beginNumbering(now: now + 60)
        #expect(n.previousRun == .unknown)
        #expect(n.floor >= first)
        await later.close()
        _ = outbox
    }

    @Test("an outbox from schema 1 (JSON rows, 4 KiB pages) is upgraded in place: its backlog is kept and sent first, then compact polls")
    func schemaOneIsUpgraded() async throws {
        let dir = try TempDir()
        let path = dir.path + "/o.sqlite"
        // A file as the previous version wrote it.
        #expect(try await runAsync("/usr/bin/sqlite3", [path, """
            PRAGMA page_size = 4096; PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL;
            CREATE TABLE outbox(id INTEGER PRIMARY KEY AUTOINCREMENT, lane INTEGER NOT NULL, topic TEXT NOT NULL,
                payload BLOB NOT NULL, retain INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL);
            CREATE INDEX outbox_lane ON outbox(lane, id);
            CREATE TABLE sequences(device TEXT PRIMARY KEY, seq INTEGER NOT NULL);
            CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            CREATE TABLE state(key TEXT PRIMARY KEY, value BLOB NOT NULL);
            INSERT INTO outbox(lane, topic, payload, created) VALUES (1, 'old/1', '{"seq":1}', 1.8e9), (1, 'old/2', '{"seq":2}', 1.8e9 + 1);
            INSERT INTO sequences VALUES ('cold-room-1', 2);
            """]) == 0)
        let (outbox, damage) = try await Outbox.openRecovering(StorageConfig(path: path))
        #expect(damage == nil)
        let note = try #require(await outbox.upgradeNote)
        #expect(note.contains("2 readings stored before"), "\(note)")
        #expect(note.contains("\(OutboxTuning.default.pageSize)-byte pages"), "\(note)")
        let n = try await outbox.beginNumbering()
        #expect(n.floor >= 2)
        try await outbox.append([], polls: [PollRecord(sample: sample("cold-room-1", 1.8e9 + 5), seq: n.floor + 1)])
        let pending = try await outbox.pending(lane: .readings, after: 0, limit: 10)
        #expect(pending.map(\.topic) == ["old/1", "old/2", "cold-room-1"])
        #expect(pending[0].payload == Array("{\"seq\":1}".utf8))
        await outbox.close()
    }
}

/// Runs a command to completion; returns its exit status.
func run(_ path: String, _ args: [String]) throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    try p.run()
    p.waitUntilExit()
    return p.terminationStatus
}

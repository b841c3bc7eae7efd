internal import EdgeCore
internal import FoundationEssentials
internal import Glibc

/// The sequence-number reservation kept beside the outbox, in `PATH.seq`: a few lines of text,
/// replaced whole (written to `PATH.seq.tmp`, fsync, rename, fsync of the directory) so a crash or a
/// power cut leaves either the old file or the new one, never half of one.
///
/// Why a file of its own: the numbers that went into a key (`{site}/{device}/{seq}`) must never be
/// used again for another poll, and the outbox cannot promise that by itself. Its commits are not
/// synced under `durability: normal`, so a power cut can take back the last ones (and with them the
/// last numbers), and an operator may delete or empty it. This file is written rarely (at start, at a
/// clean stop, and whenever numbering reaches the reserved bound: every `Outbox.reservationBlock`
/// numbers), always with fsync, and *before* any number beyond the old bound is committed — so it
/// bounds every number that was ever stored or published.
///
/// ```
/// coop-edge sequences 1
/// reserved_below 1767225600123
/// clean 1
/// last cold-room-1 1767225600044
/// last /alerts 7
/// ```
/// `clean 1` is written only by a clean stop, after the last commit; the `last` lines then give the
/// exact number each device stopped at, and numbering goes on from there without a gap.
struct SequenceReservation: Equatable {
    /// Every number below this may have been used; none at or above it has been.
    var reservedBelow: UInt64
    /// The run that wrote this stopped cleanly: `last` is exact.
    var clean: Bool
    /// The last number of each device (`/alerts` for the alert stream), when `clean`.
    var last: [String: UInt64]

    static let header = "coop-edge sequences 1"

    static func path(for outbox: String) -> String { outbox + ".seq" }

    /// The reservation at `path`; nil when there is none or it cannot be read (numbering then starts
    /// above the clock floor: see `Outbox.beginNumbering`).
    static func read(_ path: String) -> SequenceReservation? {
        guard let data = FileManager.default.contents(atPath: path),
              let text = String(data: data, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n")
        guard lines.first == Substring(header) else { return nil }
        var reserved: UInt64? = nil
        var clean = false
        var last: [String: UInt64] = [:]
        var complete = false
        for line in lines.dropFirst() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            switch fields.first {
            case "reserved_below": reserved = fields.count == 2 ? UInt64(fields[1]) : nil
            case "clean": clean = fields.count == 2 && fields[1] == "1"
            case "last":
                guard fields.count == 3, let v = UInt64(fields[2]) else { return nil }
                last[String(fields[1])] = v
            case "end": complete = true
            default: return nil
            }
        }
        guard let reserved, complete else { return nil }
        return SequenceReservation(reservedBelow: reserved, clean: clean, last: last)
    }

    var text: String {
        var s = Self.header + "\nreserved_below\t\(reservedBelow)\nclean\t\(clean ? 1 : 0)\n"
        if clean {
            for (device, seq) in last.sorted(by: { $0.key < $1.key }) { s += "last\t\(device)\t\(seq)\n" }
        }
        return s + "end\n"
    }

    /// Replaces the file at `path` durably. Blocks on two fsyncs; call it from the outbox's thread.
    func write(_ path: String) throws(OutboxError) {
        let tmp = path + ".tmp"
        let bytes = Array(text.utf8)
        let fd = Glibc.open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Self.failure(errno, "creating \(tmp)") }
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                Glibc.close(fd)
                throw Self.failure(e, "writing \(tmp)")
            }
            done += n
        }
        if fsync(fd) != 0 {
            let e = errno
            Glibc.close(fd)
            throw Self.failure(e, "syncing \(tmp)")
        }
        Glibc.close(fd)
        guard rename(tmp, path) == 0 else { throw Self.failure(errno, "renaming \(tmp)") }
        // The rename itself must reach the card too.
        let dir = FilePath.directory(of: path)
        let dfd = Glibc.open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); Glibc.close(dfd) }
    }

    /// The one place an errno from the reservation file becomes an `OutboxError`.
    private static func failure(_ e: Int32, _ what: String) -> OutboxError {
        let reason = String(cString: strerror(e))
        switch e {
        case ENOSPC, EDQUOT: return OutboxError(.diskFull, "disk full while \(what): \(reason)")
        case EACCES, EPERM, EROFS: return OutboxError(.open, "cannot write the sequence reservation (\(what)): \(reason) — the state directory must be writable by the service user")
        default: return OutboxError(.io, "I/O error while \(what): \(reason) — is the SD card failing?")
        }
    }
}

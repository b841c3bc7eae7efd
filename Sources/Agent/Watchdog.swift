internal import FoundationEssentials
internal import Glibc
public import Logging
public import ServiceLifecycle
internal import Synchronization

/// Tells systemd how the agent is doing over `$NOTIFY_SOCKET` (sd_notify(3) without libsystemd):
/// `READY=1` once the pipeline runs, `WATCHDOG=1` while it makes progress, `STATUS=…` for
/// `systemctl status`, `STOPPING=1` at shutdown. Datagrams are sent with `MSG_DONTWAIT`: a full
/// socket buffer drops one message, it never blocks a thread of the cooperative pool.
public final class SystemdNotifier: Sendable {
    private let fd: Int32
    private let address: [UInt8]   // sockaddr_un bytes, with its length

    /// nil when `NOTIFY_SOCKET` is unset (not started by systemd with `Type=notify`) or unusable.
    public convenience init?() { self.init(environment: ProcessInfo.processInfo.environment) }

    public init?(environment: [String: String]) {
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty else { return nil }
        var name = Array(path.utf8)
        if name.first == UInt8(ascii: "@") { name[0] = 0 }          // abstract namespace
        else if name.first != UInt8(ascii: "/") { return nil }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        guard name.count < MemoryLayout.size(ofValue: addr.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: name) }
        let length = MemoryLayout<sa_family_t>.size + name.count
        address = withUnsafeBytes(of: &addr) { Array($0.prefix(length)) }
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
    }

    deinit { close(fd) }

    /// Sends one notification (lines `KEY=value`); false if it could not be sent.
    @discardableResult
    public func send(_ state: String) -> Bool {
        let bytes = Array(state.utf8)
        return address.withUnsafeBytes { a in
            bytes.withUnsafeBytes { b in
                sendto(fd, b.baseAddress, b.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL),
                       a.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(a.count)) == b.count
            }
        }
    }

    /// The watchdog interval systemd expects pings within (`WATCHDOG_USEC`), if it is meant for
    /// this process (`WATCHDOG_PID`, when set, is our pid).
    public static func watchdogInterval() -> Duration? { watchdogInterval(environment: ProcessInfo.processInfo.environment) }

    public static func watchdogInterval(environment: [String: String]) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"], let p = Int32(pid), p != getpid() { return nil }
        return .microseconds(Int64(clamping: usec))
    }
}

/// Progress marks from the parts of the pipeline that can hang: each bus (a poll finished, even a
/// failed one) and the recorder (nothing waits in the sample queue for long). A dead sensor or an
/// unreachable broker is not a hang: the bus still finishes its polls, and the outbox keeps what
/// the broker has not taken.
public final class Liveness: Sendable {
    private struct Part {
        var limit: Duration
        var last: ContinuousClock.Instant
    }
    private let parts = Mutex<[String: Part]>([:])

    public init() {}

    /// Watches `part`, which must mark progress at least every `limit`.
    public func register(_ part: String, limit: Duration) {
        parts.withLock { $0[part] = Part(limit: limit, last: .now) }
    }

    /// Stops watching `part` (a bus that a reload removed).
    public func unregister(_ part: String) {
        _ = parts.withLock { $0.removeValue(forKey: part) }
    }

    public func beat(_ part: String) {
        let now = ContinuousClock.now
        parts.withLock { $0[part]?.last = now }
    }

    /// Parts without progress for longer than their limit, and for how long, oldest first.
    public func stalled(at now: ContinuousClock.Instant = .now) -> [(part: String, since: Duration)] {
        parts.withLock { parts in
            parts.compactMap { name, p in
                let age = p.last.duration(to: now)
                return age > p.limit ? (name, age) : nil
            }.sorted { $0.since > $1.since }
        }
    }
}

/// Sends `READY=1`, then pings systemd's watchdog at half its interval for as long as every part
/// of the pipeline makes progress, and `STOPPING=1` when the agent shuts down. When a part stalls
/// (a bus thread stuck, a commit that never returns on a dead SD card) the pings stop, the status
/// and the log say which part, and systemd restarts the agent after `WatchdogSec`.
public struct WatchdogService: Service {
    private let notifier: SystemdNotifier
    private let interval: Duration?
    private let liveness: Liveness
    private let queue: SampleQueue
    private let queueLimit: Duration
    private let summary: String
    private let logger: Logger

    public init(notifier: SystemdNotifier, interval: Duration?, liveness: Liveness, queue: SampleQueue,
                queueLimit: Duration, summary: String, logger: Logger) {
        self.notifier = notifier
        self.interval = interval
        self.liveness = liveness
        self.queue = queue
        self.queueLimit = queueLimit
        self.summary = summary
        self.logger = logger
    }

    /// The parts without progress: buses, and the recorder when a sample has waited too long.
    func stalls() -> [String] {
        var out = liveness.stalled().map { "\($0.part) (\(Self.seconds($0.since)))" }
        if let waited = queue.waitingFor(), waited > queueLimit {
            out.append("recorder: readings waiting \(Self.seconds(waited)) for the outbox (storage stalled?)")
        }
        return out
    }

    private static func seconds(_ d: Duration) -> String {
        "\(d.components.seconds) s"
    }

    public func run() async {
        notifier.send("READY=1\nSTATUS=running: \(summary)")
        logger.info("systemd notified", metadata: ["watchdog": "\(interval.map { "\($0)" } ?? "off")"])
        guard let interval else {
            try? await gracefulShutdown()
            notifier.send("STOPPING=1\nSTATUS=stopping")
            return
        }
        let period = interval / 2
        await cancelWhenGracefulShutdown {
            var stalledBefore = false
            while !Task.isCancelled {
                let stalled = stalls()
                if stalled.isEmpty {
                    notifier.send(stalledBefore ? "WATCHDOG=1\nSTATUS=running: \(summary)" : "WATCHDOG=1")
                    if stalledBefore { logger.notice("pipeline moving again; watchdog pings resumed") }
                    stalledBefore = false
                } else {
                    let what = stalled.joined(separator: "; ")
                    notifier.send("STATUS=stalled: \(what)")
                    if !stalledBefore {
                        logger.critical("pipeline stalled; watchdog pings stopped, systemd will restart the agent", metadata: ["stalled": "\(what)"])
                    }
                    stalledBefore = true
                }
                do { try await Task.sleep(for: period) } catch { break }
            }
        }
        notifier.send("STOPPING=1\nSTATUS=stopping")
    }
}

extension WatchdogService: CustomStringConvertible {
    public var description: String { "WatchdogService" }
}

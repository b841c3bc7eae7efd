public import EdgeCore
internal import FoundationEssentials
public import Logging
public import MQTT
internal import Outbox
internal import ServiceLifecycle
internal import UnixSignals

/// The whole daemon: polling → recorder (outbox) → publisher, in one `ServiceGroup`.
///
/// Shutdown is graceful and ordered (services stop in reverse order): polling stops first, the
/// recorder commits what was polled, the publisher hands the broker what it can within a few
/// seconds and says `offline`, then the outbox is checkpointed and closed.
public enum CoopEdgeAgent {
    /// Runs until SIGTERM or SIGINT (or `signals` is empty and the task is cancelled). With
    /// `reload` (and `handleSignals`), SIGHUP loads the site again through it and applies what
    /// can change while running (`SiteUpdates`); it is called on a thread of its own.
    public static func run(site: Site, logger: Logger, handleSignals: Bool = true,
                           reload: (@Sendable () throws -> Site)? = nil) async throws {
        var site = site
        site.storage.path = absolute(site.storage.path)
        let (outbox, damage) = try await Outbox.openRecovering(site.storage)
        if let damage {
            logger.critical("the outbox was damaged and has been moved aside; recording starts afresh", metadata: [
                "moved_to": "\(damage.movedTo)", "reason": "\(damage.reason)",
                "numbering": "\(damage.salvagedSequences == nil ? "continues above the time in ms (old numbers unreadable)" : "continues from the old file")",
                "undelivered": "readings still in the old file are not sent; `sqlite3 \(damage.movedTo) .recover` may get them back",
            ])
        }
        if let note = await outbox.upgradeNote {
            logger.notice("\(note)", metadata: ["path": "\(site.storage.path)"])
        }
        let stats = try await outbox.stats()
        logger.info("outbox open", metadata: ["path": "\(site.storage.path)", "pending": "\(stats.pendingReadings + stats.pendingAlerts)",
                                             "durability": "\(site.storage.durability.rawValue)",
                                             "commit_delay": "\(site.storage.commitDelay) s"])
        let options = try mqttOptions(for: site)
        let sharing = SharingTable(site: site)
        let health = HealthBoard(site: site, started: Date().timeIntervalSince1970)
        let publisher = Publisher(site: site, outbox: outbox, options: options, logger: logger, sharing: sharing, health: health)
        let queue = SampleQueue()
        let liveness = Liveness()
        let updates = SiteUpdates()
        let polling = PollingService(site: site, queue: queue, logger: logger, liveness: liveness, updates: updates)
        let recorder = Recorder(site: site, outbox: outbox, queue: queue, logger: logger, updates: updates, sharing: sharing, health: health,
                                onCommit: { publisher.notify() })
        logger.info("starting", metadata: ["site": "\(site.coop)/\(site.site)", "buses": "\(site.buses.count)", "devices": "\(site.devices.count)"])
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: publisher),
            .init(service: recorder),
            .init(service: polling),
        ]
        if handleSignals, let reload {
            services.append(.init(service: ReloadService(running: site, load: reload, updates: updates, logger: logger)))
        }
        // Under systemd (Type=notify): READY=1, watchdog pings while the pipeline moves. Last in the
        // list, so it is the first told to stop and says STOPPING=1 before the others wind down.
        if let notifier = SystemdNotifier() {
            let interval = SystemdNotifier.watchdogInterval()
            services.append(.init(service: WatchdogService(
                notifier: notifier, interval: interval, liveness: liveness, queue: queue,
                queueLimit: max(interval ?? .seconds(60), .seconds(1)),
                summary: "\(site.coop)/\(site.site), \(site.devices.count) devices on \(site.buses.count) buses, outbox \(stats.pendingReadings + stats.pendingAlerts) pending at start",
                logger: logger)))
        }
        let group = ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
            cancellationSignals: [],
            logger: logger))
        do {
            try await group.run()
        } catch {
            await outbox.close()
            throw error
        }
        await outbox.close()
        logger.info("stopped cleanly")
    }

    /// A storage path as the agent uses it: relative paths are taken from the working directory.
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// Broker options from the site, with the password read from its file (or from
    /// `$CREDENTIALS_DIRECTORY` when the path is a bare credential name, as systemd's
    /// `LoadCredential=` provides).
    public static func mqttOptions(for site: Site) throws(AgentError) -> MQTTOptions {
        var password: String? = nil
        if let file = site.broker.passwordFile {
            var path = file
            if !file.contains("/"), let dir = ProcessInfo.processInfo.environment["CREDENTIALS_DIRECTORY"] { path = dir + "/" + file }
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw AgentError("cannot read the broker password file \(path): check it exists and is readable by the service user")
            }
            // The packaged unit falls back to a blank credential when /etc/coop-edge/broker-password
            // is missing (so a site without a password starts): say so rather than send no password.
            guard !text.trimmedOfWhitespace.isEmpty else {
                throw AgentError("the broker password file \(path) is empty: put the password in it "
                                 + "(under systemd: /etc/coop-edge/broker-password, mode 0600), or remove password_file from the site")
            }
            password = text.trimmedOfNewlines
        }
        return MQTTOptions(host: site.broker.host, port: site.broker.port, clientID: site.broker.clientID,
                           username: site.broker.username, password: password, tls: site.broker.tls,
                           caFile: site.broker.caFile, certFile: site.broker.certFile, keyFile: site.broker.keyFile,
                           keepAliveSeconds: site.broker.keepAliveSeconds, will: Publisher.will(for: site),
                           maxInflight: site.broker.maxInflight,
                           protocolVersion: site.broker.protocolVersion == .v311 ? .v311 : .v5)
    }
}

public struct AgentError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

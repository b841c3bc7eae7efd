internal import Config
public import EdgeCore
internal import IOThread
internal import Logging
internal import ServiceLifecycle
internal import Synchronization
internal import UnixSignals

/// `systemctl reload coop-edge` (SIGHUP): the site file is read again and polling and the detectors
/// follow it, while everything that holds data stays as it is.
///
/// Only the buses, devices and alert rules change on reload. The outbox (buffered readings, sequence
/// numbers) and the MQTT connection are kept: the ids, broker and storage settings of the running
/// site stay in force, and a change to them is logged as needing `systemctl restart coop-edge`. The
/// pollers restart with the new device list (polls in flight finish first; the sample queue stays,
/// so nothing polled is lost); the recorder builds a new alert engine that takes over the state of
/// every unchanged channel (`AlertEngine.takeOver`). A file that does not load is logged with its
/// `file:line:column` problems and the running configuration stays.
public final class SiteUpdates: Sendable {
    private let stream: AsyncStream<Site>
    private let continuation: AsyncStream<Site>.Continuation
    private let pending = Mutex<Site?>(nil)

    public init() {
        (stream, continuation) = AsyncStream.makeStream(of: Site.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Hands `site` to the recorder (taken when it next wakes) and to polling (which restarts its buses).
    public func publish(_ site: Site) {
        pending.withLock { $0 = site }
        continuation.yield(site)
    }

    /// The site reloaded since the last call, if any (the recorder's side).
    public func takePending() -> Site? {
        pending.withLock { s in
            defer { s = nil }
            return s
        }
    }

    /// Waits for the next reloaded site (polling's side); nil when the task is cancelled. One
    /// waiter at a time.
    func next() async -> Site? {
        var iterator = stream.makeAsyncIterator()
        return await iterator.next()
    }
}

/// What a reload changes, worked out before anything is touched.
struct ReloadPlan {
    /// The new site with the running site's ids, broker, storage and time scale (those need a restart).
    var site: Site
    var added: [String] = []
    var removed: [String] = []
    var changed: [String] = []
    var rulesChanged = false
    /// Settings that changed in the file but only take effect after a restart.
    var needRestart: [String] = []

    var changesPolling: Bool { !added.isEmpty || !removed.isEmpty || !changed.isEmpty }

    init(running: Site, loaded: Site) {
        var site = loaded
        if site.coop != running.coop || site.site != running.site || site.topicPrefix != running.topicPrefix {
            needRestart.append("coop/site ids (topics)")
        }
        if site.broker != running.broker { needRestart.append("broker") }
        var storage = site.storage
        storage.path = CoopEdgeAgent.absolute(storage.path)
        if storage != running.storage { needRestart.append("storage") }
        site.coop = running.coop
        site.site = running.site
        site.topicPrefix = running.topicPrefix
        site.broker = running.broker
        site.storage = running.storage
        site.timeScale = running.timeScale
        site.clockOrigin = running.clockOrigin
        let old = Dictionary(running.devices.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let new = Dictionary(site.devices.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        added = site.devices.map(\.name).filter { old[$0] == nil }
        removed = running.devices.map(\.name).filter { new[$0] == nil }
        // A device changes with its own settings or its bus's (address, timeouts).
        changed = site.devices.filter { d in
            guard let o = old[d.name] else { return false }
            return o != d || running.buses.first { $0.name == o.bus } != site.buses.first { $0.name == d.bus }
        }.map(\.name)
        rulesChanged = running.alerts != site.alerts || running.spoilage != site.spoilage
        self.site = site
    }

    /// `reloaded: 4 devices (added a, removed b, changed none)`.
    var summary: String {
        func list(_ names: [String]) -> String { names.isEmpty ? "none" : names.joined(separator: ", ") }
        return "reloaded: \(site.devices.count) devices (added \(list(added)), removed \(list(removed)), changed \(list(changed)))"
            + (rulesChanged ? "; alert rules changed" : "")
    }
}

/// Waits for SIGHUP and reloads the site (see `SiteUpdates`). Reading the file runs on a thread of
/// its own, never on the cooperative pool.
struct ReloadService: Service {
    let running: Site
    let load: @Sendable () throws -> Site
    let updates: SiteUpdates
    let logger: Logger

    func run() async {
        var running = self.running
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() {
            logger.info("SIGHUP: reloading the site file")
            let load = self.load
            let result: Result<Site, any Error> = await withCheckedContinuation { c in
                OSThread.start(name: "coop-edge-reload") { c.resume(returning: Result { try load() }) }
            }
            switch result {
            case .failure(let error):
                let problems = (error as? ConfigError)?.diagnostics.map(\.description) ?? ["\(error)"]
                logger.error("reload refused: \(problems.joined(separator: "; ")); keeping the running configuration")
            case .success(let loaded):
                let plan = ReloadPlan(running: running, loaded: loaded)
                if !plan.needRestart.isEmpty {
                    logger.warning("the site file changes \(plan.needRestart.joined(separator: ", ")): that takes `systemctl restart coop-edge`; the running settings stay until then")
                }
                running = plan.site
                updates.publish(plan.site)
                logger.notice("\(plan.summary)")
            }
        }
    }
}

extension ReloadService: CustomStringConvertible {
    var description: String { "ReloadService" }
}

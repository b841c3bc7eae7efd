internal import CPlatform
public import EdgeCore
internal import Detection
internal import FoundationEssentials
public import Logging
public import Outbox
public import ServiceLifecycle

/// Commits every poll to the outbox before anything publishes it (ARCHITECTURE.md, invariant 1).
///
/// Polls are committed in batches: a poll waits in memory up to the site's commit delay
/// (`storage.commit_delay`, 2 s by default), and everything that arrived meanwhile goes into one
/// transaction, so the card is written once per delay instead of once per poll. The publisher only
/// sees a poll after its commit: the delay is added to every reading's latency, and it bounds what a
/// killed agent loses (the polls not yet committed; the next start says so in the log). An alert
/// does not wait: a batch that raised or cleared one commits at once. Each poll gets its device's next
/// sequence number (`Outbox.beginNumbering` says where numbering goes on, so no number is used twice).
/// It stops when the polling stream ends, after committing all of it.
///
/// Sharing (issue 10): every poll is committed complete, whatever the site shares. The recorder
/// also keeps each device's `aggregate` channels' window (`AggregateWindow`) and, when a poll of the
/// next window arrives, commits the closed window's summary with the polls, on the readings lane,
/// together with the state of the windows under way (so a restart continues them). Alerts of a
/// device with `share_alerts: false` are not turned into messages.
public struct Recorder: Service {
    private let site: Site
    private let outbox: Outbox
    private let queue: SampleQueue
    private let onCommit: @Sendable () -> Void
    private let logger: Logger
    private let updates: SiteUpdates?
    private let sharing: SharingTable?
    private let health: HealthBoard?

    /// With `updates`, a reloaded site replaces the alert engine when the recorder next wakes; the
    /// new engine takes over the state of every unchanged channel (`AlertEngine.takeOver`).
    /// Numbering, the outbox and the commit settings stay those of the running site.
    /// With `sharing`, a reloaded site's policies go there before any poll of it is committed.
    /// With `health`, every poll is recorded there (each device's health, for `…/health`).
    public init(site: Site, outbox: Outbox, queue: SampleQueue, logger: Logger, updates: SiteUpdates? = nil,
                sharing: SharingTable? = nil, health: HealthBoard? = nil, onCommit: @escaping @Sendable () -> Void) {
        self.sharing = sharing
        self.health = health
        self.site = site
        self.outbox = outbox
        self.queue = queue
        self.logger = logger
        self.updates = updates
        self.onCommit = onCommit
    }

    public static let baselineKey = "alert-engine"
    /// State key of one device's aggregate window under way.
    static func aggregateKey(_ device: String) -> String { "aggregate/" + device }
    public static let baselineEvery: Duration = .seconds(300)

    /// While polls wait for their commit, the recorder looks at what gathered at least this often:
    /// the detectors see every poll within it, so an alert (which commits at once) waits at most this.
    static let alertCheck: Duration = .milliseconds(250)

    public func run() async throws {
        let numbering = try await outbox.beginNumbering()
        reportPreviousRun(numbering)
        var sequences = numbering.last
        let floor = numbering.floor
        var engine = AlertEngine(site: site)
        if let saved = try await outbox.loadState(Self.baselineKey) {
            let restored = engine.restore(saved)
            logger.info("detector baselines restored", metadata: ["channels": "\(restored)"])
        }
        // Sharing: aggregate windows per device, and the devices whose alerts stay on the farm.
        var aggregators: [String: AggregateWindow] = [:]
        for d in site.devices where !d.aggregateChannels.isEmpty {
            var a = AggregateWindow(device: d.name, length: d.sharing.aggregateWindow, channels: d.aggregateChannels)
            if let saved = try? await outbox.loadState(Self.aggregateKey(d.name)) { a.restore(saved) }
            aggregators[d.name] = a
        }
        var aggregatesChanged = Set<String>()
        var privateAlerts = Set(site.devices.filter { !$0.sharing.alerts }.map(\.name))
        var lastBaselineSave = ContinuousClock.now
        var alertSeq: UInt64 = sequences["/alerts"] ?? floor
        var lastRetention = ContinuousClock.now.advanced(by: .seconds(-3600))
        var committed = 0
        let delay = Duration.milliseconds(Int64(site.storage.commitDelay * 1000))
        // What waits for the next commit: numbered polls, alert messages, and since when.
        var polls: [PollRecord] = []
        var messages: [NewMessage] = []
        var waitingSince: ContinuousClock.Instant? = nil
        // Polls taken before the clock was set, corrected once it is.
        var restamper = ClockRestamper()
        var corrections: [ClockRestamper.Correction] = []
        var alertsWaiting = false
        var retryAt: ContinuousClock.Instant? = nil

        /// Numbers the fresh polls and runs them through the detectors. `oldest`: when the first of
        /// them reached the queue, where its commit delay starts.
        func take(_ fresh: [DeviceSample], oldest: ContinuousClock.Instant?) {
            guard !fresh.isEmpty else { return }
            if waitingSince == nil { waitingSince = oldest ?? .now }
            for sample in fresh {
                health?.record(sample)
                let seq = (sequences[sample.device] ?? floor) + 1
                sequences[sample.device] = seq
                polls.append(PollRecord(sample: sample, seq: seq))
                if let due = restamper.observe(sample, seq: seq) { corrections = due }
                if var a = aggregators[sample.device] {
                    if let closed = a.add(sample) {
                        messages.append(NewMessage(lane: .readings, topic: site.aggregateTopic(device: sample.device),
                                                   payload: SharingPayload.aggregate(closed, site: site.site), created: closed.end))
                    }
                    aggregators[sample.device] = a
                    aggregatesChanged.insert(sample.device)
                }
                // Alerts go into the same transaction, in the lane that leaves ahead of the backlog.
                let events = engine.process(sample)
                // share_alerts: false keeps the device's alerts on the farm: logged, never a message.
                let shared = !privateAlerts.contains(sample.device)
                for e in events {
                    logger.notice("alert \(e.phase.rawValue): \(e.message)", metadata: ["channel": "\(e.channel)", "kind": "\(e.kind.rawValue)"])
                    guard shared else { continue }
                    alertSeq += 1
                    messages.append(NewMessage(lane: .alerts, topic: site.alertsTopic,
                                               payload: engine.eventPayload(e, device: sample.device, seq: alertSeq), created: sample.time))
                }
                if !events.isEmpty {
                    if shared {
                        messages.append(NewMessage(lane: .alerts, topic: site.activeAlertsTopic, payload: engine.activePayload(time: sample.time, hiding: privateAlerts),
                                                   retain: true, created: sample.time))
                    }
                    alertsWaiting = true
                }
            }
        }

        /// Commits what waits, in one transaction. False when it could not (it stays for a retry).
        func commit() async -> Bool {
            guard !polls.isEmpty || !messages.isEmpty else { return true }
            // An alert raised or cleared: the engine's state goes into the same transaction, so a
            // restart (a crash, the watchdog) finds the episode exactly as published.
            var state = alertsWaiting ? [Self.baselineKey: engine.snapshot()] : [:]
            // The aggregate windows under way commit with the polls that fed them.
            for device in aggregatesChanged { state[Self.aggregateKey(device)] = aggregators[device]?.encodeState() ?? [] }
            do {
                try await outbox.append(messages, polls: polls, sequences: alertsWaiting ? ["/alerts": alertSeq] : [:], state: state)
                committed += polls.count
                polls.removeAll(keepingCapacity: true)
                messages.removeAll(keepingCapacity: true)
                waitingSince = nil
                alertsWaiting = false
                aggregatesChanged.removeAll()
                retryAt = nil
                onCommit()
                return true
            } catch {
                if error.code == .diskFull {
                    // The card is full: make room by dropping the oldest undelivered readings
                    // (counted), so the newest keep being recorded.
                    do {
                        let dropped = try await outbox.relieveFullDisk()
                        logger.error("disk full: dropped the oldest undelivered readings to keep recording", metadata: ["dropped": "\(dropped)"])
                    } catch {
                        logger.critical("disk full and no room could be freed", metadata: ["error": "\(error)"])
                    }
                }
                logger.error("could not store readings; holding them in memory and retrying", metadata: ["error": "\(error)", "polls": "\(polls.count)"])
                if polls.count > queue.capacity {
                    let excess = polls.count - queue.capacity
                    polls.removeFirst(excess)
                    logger.error("readings dropped: the outbox could not keep up", metadata: ["dropped": "\(excess)"])
                }
                retryAt = ContinuousClock.now.advanced(by: max(delay, .seconds(1)))
                return false
            }
        }

        /// The clock was just synchronised: the polls of this run taken before are corrected by the
        /// step it took — those still waiting here in place, the stored ones in the outbox.
        func restamp() async {
            let due = corrections
            corrections = []
            var fixed = 0
            for c in due {
                for i in polls.indices where polls[i].sample.device == c.device && c.seqs.contains(polls[i].seq) && !polls[i].sample.clockSynced {
                    polls[i].sample.time += c.shift
                    polls[i].sample.clockSynced = true
                    polls[i].sample.restamped = true
                    fixed += 1
                }
                do { fixed += try await outbox.restamp(device: c.device, seqs: c.seqs, shift: c.shift) }
                catch { logger.warning("could not correct the time of polls taken before the clock was set; they stay flagged clock_synced: false", metadata: ["device": "\(c.device)", "error": "\(error)"]) }
            }
            let shifts = due.map(\.shift)
            logger.notice("clock synchronised: polls taken before it corrected by the step the clock took", metadata: [
                "polls": "\(fixed)", "step_s": "\(Double(Int((shifts.min() ?? 0) * 10)) / 10)\(shifts.count > 1 && (shifts.max()! - shifts.min()!) > 1 ? "…\(Double(Int(shifts.max()! * 10)) / 10)" : "")",
            ])
        }

        /// Commits when the oldest waiting poll has waited the commit delay, or an alert waits.
        func commitIfDue() async {
            if let retryAt, ContinuousClock.now < retryAt { return }
            guard let since = waitingSince else { return }
            if alertsWaiting || since.duration(to: .now) >= delay { _ = await commit() }
        }

        /// The periodic upkeep: a health line, detector baselines, retention.
        func upkeep() async {
            if lastBaselineSave.duration(to: .now) > Self.baselineEvery {
                lastBaselineSave = .now
                // A health line an installer can read in `journalctl -u coop-edge`.
                if let stats = try? await outbox.stats() {
                    let oldest = stats.oldestPending.map { "\(Int(Date().timeIntervalSince1970 - $0)) s" } ?? "none"
                    logger.info("health", metadata: [
                        "polls_recorded": "\(committed)", "pending": "\(stats.pendingReadings + stats.pendingAlerts)",
                        "oldest_pending": "\(oldest)", "delivered": "\(stats.delivered)", "dropped": "\(stats.dropped)",
                        "active_alerts": "\(engine.active.count)",
                    ])
                }
                do { try await outbox.saveState(Self.baselineKey, engine.snapshot()) }
                catch { logger.warning("could not save detector baselines", metadata: ["error": "\(error)"]) }
            }
            if lastRetention.duration(to: .now) > .seconds(600) {
                lastRetention = .now
                do {
                    // Ages only count with a set clock (FIELD-NOTES: a Pi without an RTC boots in the past).
                    let clockSet = CPlatform_clock_synced() == 1
                    let dropped = try await outbox.enforceRetention(now: clockSet ? Date().timeIntervalSince1970 : nil)
                    if dropped > 0 { logger.warning("retention dropped undelivered messages", metadata: ["dropped": "\(dropped)"]) }
                } catch {
                    logger.error("retention failed", metadata: ["error": "\(error)"])
                }
            }
        }

        /// How long new polls may gather before the recorder looks again: until the oldest waiting
        /// poll's commit is due (or a failed commit's retry), at most `alertCheck`; nil when nothing
        /// waits, so the next poll wakes it.
        func lookAgain() -> Duration? {
            guard let since = waitingSince else { return nil }
            var due = since.advanced(by: delay)
            if let retryAt { due = max(due, retryAt) }
            return max(.milliseconds(1), min(Self.alertCheck, ContinuousClock.now.duration(to: due)))
        }

        /// A reloaded site: a new engine for it, carrying over what did not change. When the set of
        /// open alerts changes (a removed device's alert leaves it), the retained set is sent again.
        func adopt(_ reloaded: Site) {
            // Sharing follows the file: an unchanged device keeps its window under way; a changed
            // one starts a new window (its old one is not published: its policy changed).
            sharing?.adopt(reloaded)
            health?.adopt(reloaded)
            privateAlerts = Set(reloaded.devices.filter { !$0.sharing.alerts }.map(\.name))
            var windows: [String: AggregateWindow] = [:]
            for d in reloaded.devices where !d.aggregateChannels.isEmpty {
                if let old = aggregators[d.name], old.length == d.sharing.aggregateWindow, old.channelNames == d.aggregateChannels {
                    windows[d.name] = old
                } else {
                    windows[d.name] = AggregateWindow(device: d.name, length: d.sharing.aggregateWindow, channels: d.aggregateChannels)
                    aggregatesChanged.insert(d.name)
                }
            }
            for name in aggregators.keys where windows[name] == nil { aggregatesChanged.insert(name) }
            aggregators = windows
            var fresh = AlertEngine(site: reloaded)
            let kept = fresh.takeOver(from: engine)
            let changed = Set(fresh.active.keys) != Set(engine.active.keys)
            engine = fresh
            if changed {
                let now = Date().timeIntervalSince1970
                messages.append(NewMessage(lane: .alerts, topic: site.activeAlertsTopic, payload: engine.activePayload(time: now, hiding: privateAlerts),
                                           retain: true, created: now))
                alertsWaiting = true
                if waitingSince == nil { waitingSince = .now }
            }
            logger.info("detectors follow the reloaded site", metadata: [
                "watched_channels": "\(engine.watchedCount)", "detectors_kept": "\(kept)", "active_alerts": "\(engine.active.count)",
            ])
        }

        await queue.consume { fresh, oldest, dropped in
            if let reloaded = updates?.takePending() { adopt(reloaded) }
            if dropped > 0 {
                logger.error("readings dropped: the outbox could not keep up", metadata: ["dropped": "\(dropped)"])
            }
            take(fresh, oldest: oldest)
            if !corrections.isEmpty { await restamp() }
            await commitIfDue()
            await upkeep()
            return lookAgain()
        }
        // Polling has ended: commit what waits now. If that fails (a full or read-only card), one more
        // try, then say how many polls are given up rather than losing them in silence.
        if !(await commit()), !(await commit()) {
            logger.critical("polls that could not be stored are lost at shutdown", metadata: ["polls": "\(polls.count)"])
        }
        do { try await outbox.saveState(Self.baselineKey, engine.snapshot()) }
        catch { logger.warning("could not save detector baselines", metadata: ["error": "\(error)"]) }
        logger.info("recorder drained", metadata: ["committed": "\(committed)"])
        // Return only once the group asks this service to stop: it stops the services in reverse
        // order (polling, then this one), and one that ends before its turn — here, the moment the
        // polling stream ends, possibly before the group has seen polling return — counts as an
        // unexpected finish and makes the whole agent exit with an error.
        try? await gracefulShutdown()
    }

    /// Says how the previous run ended and what that cost: a run that did not stop cleanly lost the
    /// polls it had not committed yet — at most one commit delay of them.
    private func reportPreviousRun(_ numbering: Numbering) {
        let delay = site.storage.commitDelay
        // What one commit delay holds at this site's poll rates: the most a kill can lose.
        var polls = 0.0, readings = 0.0
        let window = delay + (delay > 0 ? 0.2 : 0)  // the delay, plus the commit itself
        for d in site.devices {
            let n = (window / (Double(d.pollMS) / 1000)).rounded(.up) + 1  // and the poll under way
            polls += n
            readings += n * Double(max(1, d.channels.count))
        }
        switch numbering.previousRun {
        case .clean:
            logger.info("previous run stopped cleanly; numbering goes on without a gap")
        case .unclean(let lastStored):
            let last = lastStored.map { Timestamp.iso8601($0) } ?? "none left in the outbox"
            logger.warning("previous run did not stop cleanly (killed, crashed or power lost): the polls it took after its last commit were not stored", metadata: [
                "lost_at_most": "\(Int(polls)) polls, \(Int(readings)) readings (commit_delay \(delay) s)",
                "last_stored_poll": "\(last)",
                "power_cut": "\(site.storage.durability == .full ? "nothing more" : "under durability normal, also the commits the kernel had not yet written (up to about 30 s)")",
                "numbering": "skips to \(numbering.floor + 1): no number is used twice",
            ])
        case .unknown:
            logger.notice("no sequence reservation found (first start, or it was deleted): numbering starts above the clock", metadata: [
                "floor": "\(numbering.floor)", "file": "\(outbox.config.path).seq",
            ])
        }
    }
}

extension Recorder: CustomStringConvertible {
    public var description: String { "Recorder(\(outbox.config.path))" }
}

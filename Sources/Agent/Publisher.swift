public import EdgeCore
internal import FoundationEssentials
public import Logging
public import MQTT
public import Outbox
public import ServiceLifecycle

/// Moves committed messages from the outbox to the broker and deletes them once acknowledged.
///
/// It sees a poll only once the recorder has committed it (after the commit delay), so nothing
/// reaches the broker that a crash could take back. Acknowledgements go to the outbox, which deletes
/// them in batches with its next commit.
///
/// At most `maxInflight` messages are handed to libmosquitto at a time (its own queue is in
/// memory and unbounded: FIELD-NOTES.md). Each lane is read in id order from a cursor; alerts go
/// ahead of readings. A row is deleted only when its PUBACK arrives. Messages handed over while
/// the link is down stay with libmosquitto, which resends them after reconnect; should one still
/// be unacknowledged two minutes into a healthy connection, the cursor rewinds and it is sent
/// again (the payload's key lets the co-op drop the duplicate).
///
/// After an outage the readings that waited (older than `historicalAfter`) go out several polls of
/// one device per message (`StatePayload.encodeBatch`, up to `pollsPerMessage`), oldest first per
/// device, so a day's backlog drains in minutes. Readings polled after the broker came back go
/// ahead of that backlog (their own cursor), and alerts ahead of both, so a long drain starves
/// neither.
///
/// Under MQTT 5 a PUBACK carries a reason code, and one of 0x80 or above (0x87 not authorized: the
/// co-op's ACL) means the broker did not take the message: its row stays, the lane's cursor
/// rewinds to it, and the lane is held back 1, 2, 4 … 30 s before it is handed out again; the
/// refusal is counted per reason (in the outbox, for `status`) and logged once per reason per
/// episode. An episode ends when the broker accepts the refused row again (or a whole round of the
/// lane goes through without a refusal). Reconnecting is the MQTT client's job (jittered backoff).
///
/// Sharing (issue 10) is enforced here, where a stored poll becomes a message: its `none` and
/// `aggregate` channels are left out of the state payload (`SharingPolicy.shared`), so they never
/// reach the MQTT client. A poll with nothing left to share is not published at all: its row goes
/// with the next acknowledgements, counted as kept on the farm (no PUBACK is awaited for it). At
/// every connect the retained `…/sharing` message states each device's policy.
public actor Publisher: Service {
    public enum Signal: Sendable { case newData, tick, mqtt(MQTTEvent) }

    private let site: Site
    private let outbox: Outbox
    private let logger: Logger
    private let client: MQTTClient
    private let signals: AsyncStream<Signal>
    private let signalContinuation: AsyncStream<Signal>.Continuation
    private let maxInflight: Int
    /// Stored polls become `…/{device}/state` messages here, as they are read for publishing.
    private let render: PollRenderer
    /// Readings older than this when published carry `"historical": true`.
    public static let historicalAfter: Double = 60
    public static let staleAfter: Double = 120
    public static let flushTimeout: Duration = .seconds(5)

    private var connected = false
    private var connectedSince = ContinuousClock.now
    private var cursor: [Lane: Int64] = [.alerts: 0, .readings: 0]
    /// While a backlog drains: the newest reading id it holds. Readings after it are live and are
    /// read from `liveCursor`, ahead of the backlog.
    private var backlogThrough: Int64?
    private var liveCursor: Int64 = 0
    /// Sent-at on the monotonic clock: an NTP step must not make everything look stale.
    private var inflight: [Int32: (ids: [Int64], lane: Lane, sent: ContinuousClock.Instant, topic: String)] = [:]
    /// The reading ids in `inflight`: a cursor only passes ids that went out, and reads skip these.
    private var inflightReadings: Set<Int64> = []
    /// Most polls in one backlog message, and most readings (a message stays well under 256 KiB).
    public static let pollsPerMessage = 100
    public static let readingsPerMessage = 2000
    /// Rows of a backlog read from the outbox at a time.
    static let backlogRead = 2000
    private var rejectedTotal = 0
    /// Lanes the broker refuses (MQTT 5 PUBACK ≥ 0x80), each in its refusal episode.
    private var refusing: [Lane: Refusal] = [:]
    /// Refusals per reason code not yet added to the outbox's counters.
    private var unsavedRefusals: [Int32: Int] = [:]
    private var refusedTotal = 0
    private var acked: [Int64] = []
    /// Polls with nothing to share in full: deleted with the acknowledgements, no message sent.
    private var keptOnFarm: [Int64] = []
    private var keptTotal = 0
    /// Each device's sharing policy (all `full` when the site says nothing), following reloads.
    private let sharingTable: SharingTable
    /// The version of `sharingTable` last announced on `…/sharing` (nil: not since the last connect).
    private var announcedSharing: Int?
    private let health: HealthBoard?
    /// When `…/health` was last published (nil: at the next tick, e.g. after a connect).
    private var lastHealth: ContinuousClock.Instant?
    /// The key under which the last health message is kept in the outbox, for `coop-edge status`.
    public static let healthKey = "health"
    public static let healthEvery: Duration = .seconds(60)
    /// An alert is among `acked`: its row is deleted at once rather than with the next commit, so a
    /// kill cannot make the broker see an alert twice (readings may come twice; the key drops them).
    private var ackedAlert = false
    /// Why the broker could not be reached, each logged once per outage.
    private var loggedFailures: Set<String> = []
    /// The last libmosquitto warning logged while connected (each distinct one is logged once in a row).
    private var lastProblem: String?
    private var sentTotal = 0
    private var ackedTotal = 0
    private var exhausted = false

    public init(site: Site, outbox: Outbox, options: MQTTOptions, logger: Logger, sharing: SharingTable? = nil, health: HealthBoard? = nil) {
        self.health = health
        self.site = site
        self.outbox = outbox
        self.logger = logger
        self.maxInflight = max(1, options.maxInflight)
        self.client = MQTTClient(options: options)
        let siteName = site.site
        self.sharingTable = sharing ?? SharingTable(site: site)
        self.render = { sample, seq in (site.stateTopic(device: sample.device), StatePayload.encode(sample, seq: seq, site: siteName)) }
        (signals, signalContinuation) = AsyncStream.makeStream(of: Signal.self, bufferingPolicy: .unbounded)
    }

    /// Tells the publisher the outbox has new messages. Cheap; call after every commit.
    public nonisolated func notify() { signalContinuation.yield(.newData) }

    /// The will: `offline`, retained, on the status topic.
    public static func will(for site: Site) -> MQTTOptions.Will {
        MQTTOptions.Will(topic: site.statusTopic, payload: Array("offline".utf8), retain: true)
    }

    public func run() async throws {
        if site.broker.protocolVersion == .v311 {
            logger.warning("MQTT 3.1.1 selected: a broker cannot refuse a message under 3.1.1, and mosquitto acknowledges one its ACL denies, so such readings are deleted as delivered; use MQTT 5 unless the broker cannot speak it",
                           metadata: ["broker": "\(site.broker.host):\(site.broker.port)"])
        }
        try await client.start()
        let events = client.events
        let continuation = signalContinuation
        let forward = Task { for await e in events { continuation.yield(.mqtt(e)) } }
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                continuation.yield(.tick)
            }
        }
        defer { forward.cancel(); ticker.cancel() }
        await withGracefulShutdownHandler {
            for await signal in signals {
                if case .mqtt(.disconnected(_, true)) = signal { break }
                await handle(signal)
                if shuttingDown { break }
            }
        } onGracefulShutdown: {
            continuation.yield(.tick)
            Task { await self.beginShutdown() }
        }
        await finish()
    }

    /// Logs why the broker cannot be reached, once per distinct reason per outage (a TLS failure
    /// reports OpenSSL's reason and libmosquitto's, alternately, at every attempt).
    private func reportUnreachable(_ reason: String) {
        guard loggedFailures.count < 16, loggedFailures.insert(reason).inserted else { return }
        logger.warning("broker unreachable; buffering in the outbox",
                       metadata: ["broker": "\(site.broker.host):\(site.broker.port)", "reason": "\(reason)"])
    }

    private var shuttingDown = false
    private func beginShutdown() { shuttingDown = true; signalContinuation.yield(.tick) }

    private func handle(_ signal: Signal) async {
        switch signal {
        case .mqtt(.connected):
            connected = true
            connectedSince = .now
            loggedFailures.removeAll()
            logger.info("connected to broker", metadata: ["broker": "\(site.broker.host):\(site.broker.port)", "mqtt": "\(site.broker.protocolVersion.rawValue)"])
            _ = try? await client.publish(topic: site.statusTopic, payload: Array("online".utf8), qos: 1, retain: true)
            announcedSharing = nil
            // Health 5 s after a connect: the devices have been polled by then.
            lastHealth = ContinuousClock.now - Self.healthEvery + .seconds(5)
            await announceSharing()
            await markBacklog()
        case .mqtt(.connectFailed(_, let reason)):
            reportUnreachable(reason)
            connected = false
        case .mqtt(.disconnected(_, let expected)):
            // Only a connection the broker had accepted ends this way; a failed attempt (TLS
            // verification, a refused client certificate) arrives as connectFailed.
            if connected && !expected {
                logger.warning("lost the broker; buffering in the outbox", metadata: ["inflight": "\(inflight.count)"])
            }
            connected = false
        case .mqtt(.problem(let message)):
            if connected {
                if message != lastProblem {
                    logger.warning("MQTT client: \(message)", metadata: ["broker": "\(site.broker.host):\(site.broker.port)"])
                    lastProblem = message
                }
            } else {
                let tlsTrouble = message.contains("SSL") || message.contains("TLS") || message.contains("certificate")
                reportUnreachable(site.broker.tls && tlsTrouble ? message + MQTTClient.tlsHint : message)
            }
        case .mqtt(.reconnecting(let wait)):
            logger.debug("next connection attempt", metadata: ["in_ms": "\(Self.milliseconds(wait))"])
        case .mqtt(.acknowledged):
            _ = takeAcknowledged()
        case .tick:
            await announceSharing()
            await reportHealth()
            rewindStale()
            resumeRefusedLanes()
            await saveRefusals()
        case .newData:
            exhausted = false
        }
        // Hand acknowledgements to the outbox in groups (one hop per 64, or per tick when traffic is
        // light); it deletes them with its next commit, not one transaction per PUBACK.
        let done = acked.count + keptOnFarm.count
        if done >= 64 || (done > 0 && (inflight.isEmpty || isTick(signal))) { await flushAcks() }
        await fillWindow()
    }

    /// Each device's health, the backlog and the agent's version and uptime: retained on `…/health`
    /// once a minute and right after each connect, and kept in the outbox for `coop-edge status`
    /// (one small write a minute, broker or not).
    private func reportHealth() async {
        guard let health else { return }
        if let last = lastHealth, last.duration(to: .now) < Self.healthEvery { return }
        lastHealth = .now
        guard let stats = try? await outbox.stats() else { return }
        let now = Date().timeIntervalSince1970
        func payload(hiding: Set<String>) -> [UInt8] {
            health.payload(now: now, version: BuildInfo.version, build: BuildInfo.build, connected: connected,
                           backlog: (stats.pendingReadings, stats.pendingAlerts, stats.oldestPending),
                           delivered: stats.delivered, dropped: stats.dropped, refused: stats.refusedTotal, hiding: hiding)
        }
        // Locally every device; to the co-op only those that share something of their readings.
        try? await outbox.saveState(Self.healthKey, payload(hiding: []))
        if connected {
            let policies = sharingTable.current.policies
            let hidden = Set(policies.filter { $0.value.defaultMode == .none && $0.value.channels.values.allSatisfy { $0 == .none } }.keys)
            _ = try? await client.publish(topic: site.healthTopic, payload: payload(hiding: hidden), qos: 1, retain: true)
        }
    }

    /// The farm's choice of what leaves it, retained on `…/sharing` for the co-op (the status payload
    /// stays a bare `online`): at every connect, and again when a reload changes it.
    private func announceSharing() async {
        guard connected else { return }
        let now = sharingTable.current
        guard announcedSharing != now.version else { return }
        if (try? await client.publish(topic: site.sharingTopic, payload: now.payload, qos: 1, retain: true)) != nil {
            announcedSharing = now.version
        }
    }

    /// Moves the messages the broker accepted from `inflight` to `acked`; a refused one (reason
    /// ≥ 0x80) stays in the outbox and holds its lane back. Returns the ids of acknowledgements for
    /// messages not in flight (the status messages).
    private func takeAcknowledged() -> [Int32] {
        var others: [Int32] = []
        for ack in client.takeAcknowledged() {
            guard let entry = inflight.removeValue(forKey: ack.mid) else {
                others.append(ack.mid)
                continue
            }
            if entry.lane == .readings { inflightReadings.subtract(entry.ids) }
            if ack.accepted {
                acked.append(contentsOf: entry.ids)
                if entry.lane == .alerts { ackedAlert = true }
                ackedTotal += entry.ids.count
                if var r = refusing[entry.lane] {
                    r.acceptedThisRound = true
                    if entry.ids.contains(r.blockedAt) { endEpisode(entry.lane, r) } else { refusing[entry.lane] = r }
                }
            } else {
                refused(entry.ids.min() ?? 0, lane: entry.lane, topic: entry.topic, reason: ack.reason)
            }
        }
        return others
    }

    /// A refusal episode of one lane.
    struct Refusal {
        /// 1, 2, 4 … 30 s between rounds (no jitter: one board, one broker decision).
        var backoff = Backoff(base: .seconds(1), cap: .seconds(30), jitter: false)
        /// Held back until then; nil once handed out again (a new round).
        var resumeAt: ContinuousClock.Instant?
        /// The oldest row refused in the latest round: its acceptance ends the episode.
        var blockedAt: Int64 = .max
        /// Reason codes logged in this episode (each once, even when two alternate).
        var logged: Set<Int32> = []
        var refusedThisRound = false
        var acceptedThisRound = false
        var count = 0
    }

    /// The broker did not take row `id` (PUBACK reason ≥ 0x80): keep it, count it, log the reason
    /// once per episode, rewind the lane to it and hold the lane back for the next backoff step
    /// (one step per round, however many of the round's messages come back refused).
    private func refused(_ id: Int64, lane: Lane, topic: String, reason: Int32) {
        refusedTotal += 1
        unsavedRefusals[reason, default: 0] += 1
        var r = refusing[lane] ?? Refusal()
        r.count += 1
        r.refusedThisRound = true
        if lane == .readings, let end = backlogThrough, id > end { liveCursor = min(liveCursor, id - 1) }
        else { cursor[lane] = min(cursor[lane] ?? 0, id - 1) }
        if r.resumeAt == nil {
            let wait = r.backoff.next()
            r.resumeAt = ContinuousClock.now.advanced(by: wait)
            r.blockedAt = id
        } else {
            r.blockedAt = min(r.blockedAt, id)
        }
        if r.logged.insert(reason).inserted {
            logger.error("the broker refuses \(topic): \(Self.refusalName(reason))\(Self.refusalHint(reason)); kept in the outbox and retried (backoff up to 30 s)",
                         metadata: ["lane": "\(lane)", "reason": "\(MQTTClient.hex(reason))"])
        }
        refusing[lane] = r
    }

    private func endEpisode(_ lane: Lane, _ r: Refusal) {
        refusing[lane] = nil
        exhausted = false
        logger.notice("the broker accepts the \(lane) lane again", metadata: ["refusals": "\(r.count)"])
    }

    /// Hands held-back lanes out again once their wait is over; ends an episode whose lane went a
    /// whole round without a refusal (its refused rows may have been dropped by retention).
    private func resumeRefusedLanes() {
        let now = ContinuousClock.now
        for (lane, var r) in refusing {
            if let at = r.resumeAt {
                guard now >= at else { continue }
                r.resumeAt = nil
                r.refusedThisRound = false
                r.acceptedThisRound = false
                refusing[lane] = r
                exhausted = false
            } else if r.acceptedThisRound && !r.refusedThisRound && !inflight.values.contains(where: { $0.lane == lane }) {
                endEpisode(lane, r)
            }
        }
    }

    /// Adds the refusals counted since the last call to the outbox's counters (for `status`).
    private func saveRefusals() async {
        guard !unsavedRefusals.isEmpty else { return }
        let counts = unsavedRefusals
        unsavedRefusals.removeAll()
        do { try await outbox.countRefusals(counts, at: Date().timeIntervalSince1970) }
        catch {
            for (reason, n) in counts { unsavedRefusals[reason, default: 0] += n }
            logger.debug("could not count refusals yet", metadata: ["error": "\(error)"])
        }
    }

    /// "not authorized (0x87)": a PUBACK reason code as the log and `status` show it.
    public static func refusalName(_ reason: Int32) -> String {
        "\(MQTTClient.reasonName(reason)) (\(MQTTClient.hex(reason)))"
    }

    /// What to check, for the reasons a co-op's broker gives in practice.
    static func refusalHint(_ reason: Int32) -> String {
        switch reason {
        case 0x87: return " — check the co-op's ACL for this farm's topics"
        case 0x97: return " — the broker's quota for this client is used up"
        case 0x95: return " — the message is larger than the broker's maximum packet size"
        case 0x90: return " — the broker does not accept this topic name: check topic_prefix"
        case 0x99: return " — the broker does not accept this payload"
        default: return ""
        }
    }

    static func milliseconds(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        return s * 1000 + atto / 1_000_000_000_000_000
    }

    private func isTick(_ s: Signal) -> Bool {
        if case .tick = s { return true }
        return false
    }

    private func flushAcks() async {
        guard !acked.isEmpty || !keptOnFarm.isEmpty else { return }
        let ids = acked
        let kept = keptOnFarm
        acked.removeAll(keepingCapacity: true)
        keptOnFarm.removeAll(keepingCapacity: true)
        let promptly = ackedAlert
        ackedAlert = false
        do { try await outbox.acknowledge(ids, keptOnFarm: kept, promptly: promptly) }
        catch {
            // Kept, and tried again on the next tick: the broker has these, the rows must go.
            acked.append(contentsOf: ids)
            keptOnFarm.append(contentsOf: kept)
            if promptly { ackedAlert = true }
            logger.error("could not mark delivered messages; retrying", metadata: ["error": "\(error)"])
        }
    }

    /// When the broker comes back and the oldest waiting reading is older than `historicalAfter`,
    /// everything stored so far is a backlog: readings polled from now on are read from their own
    /// cursor and go ahead of it.
    private func markBacklog() async {
        guard backlogThrough == nil, let extent = try? await outbox.readingsExtent(), let oldest = extent.oldest,
              Date().timeIntervalSince1970 - oldest > Self.historicalAfter, extent.newest > (cursor[.readings] ?? 0) else { return }
        backlogThrough = extent.newest
        liveCursor = extent.newest
        logger.info("sending the backlog, oldest first; new readings go ahead of it",
                    metadata: ["oldest": "\(Timestamp.iso8601(oldest))"])
    }

    /// Hands pending messages to libmosquitto until the window is full: alerts first, then live
    /// readings, then the backlog. Refills only once the window is half empty, so a steady stream of
    /// PUBACKs costs one outbox query per half window, not one per message.
    private func fillWindow() async {
        guard connected, inflight.count <= maxInflight / 2 else { return }
        while inflight.count < maxInflight && !exhausted {
            let room = maxInflight - inflight.count
            // A lane the broker refuses is held back (`refusing`); the other one still goes.
            var alerts: [StoredMessage] = []
            do {
                if refusing[.alerts]?.resumeAt == nil {
                    alerts = try await outbox.pending(lane: .alerts, after: cursor[.alerts] ?? 0, limit: room)
                }
            } catch {
                logger.error("cannot read the outbox", metadata: ["error": "\(error)"])
                return
            }
            if !alerts.isEmpty {
                let sent = await send(alerts.map { ([$0.id], OutgoingMessage(topic: $0.topic, payload: $0.payload, qos: 1, retain: $0.retain)) }, lane: .alerts)
                guard let sent else { return }
                if let last = sent.last { cursor[.alerts] = last }
                continue
            }
            var progressed = false
            if refusing[.readings]?.resumeAt != nil {
                exhausted = true
                return
            }
            if backlogThrough != nil {
                guard let n = await sendReadings(live: true, room: room) else { return }
                progressed = n > 0
            }
            if !progressed {
                guard let n = await sendReadings(live: false, room: room) else { return }
                progressed = n > 0
                if n == 0 && backlogThrough != nil {
                    // The backlog is out (or all in flight): one cursor again.
                    backlogThrough = nil
                    cursor[.readings] = max(cursor[.readings] ?? 0, liveCursor)
                    logger.info("backlog sent")
                    continue
                }
            }
            if !progressed { exhausted = true }
        }
    }

    /// Reads the readings after one cursor (the live part, or the backlog / all readings), turns them
    /// into messages and sends at most `room`. Returns how many rows were fetched (0: nothing left
    /// there), or nil when a publish failed (stop filling until the next event).
    private func sendReadings(live: Bool, room: Int) async -> Int? {
        let after = live ? liveCursor : (cursor[.readings] ?? 0)
        let through = live ? Int64.max : (backlogThrough ?? .max)
        // A backlog is read deep (many polls per message; at most `backlogRead` rows at a time, which
        // bounds the memory a drain takes); live readings go one poll per message.
        let limit = live || backlogThrough == nil ? room : min(room * Self.pollsPerMessage, Self.backlogRead)
        let fetched: (messages: [StoredMessage], polls: [StoredPoll])
        do { fetched = try await outbox.pendingReadings(after: after, through: through, limit: limit, skipping: inflightReadings) } catch {
            logger.error("cannot read the outbox", metadata: ["error": "\(error)"])
            return nil
        }
        let rows = fetched.messages.count + fetched.polls.count
        guard rows > 0 else { return 0 }
        let now = Date().timeIntervalSince1970
        var built: [(ids: [Int64], message: OutgoingMessage)] = []
        // Every row of a backlog waited out the outage: historical, whatever its age.
        let backlog = !live && backlogThrough != nil
        func waited(_ created: Double) -> Bool { backlog || now - created > Self.historicalAfter }
        for m in fetched.messages {  // stored as JSON by an older version
            built.append(([m.id], OutgoingMessage(topic: m.topic, payload: waited(m.created) ? StatePayload.markHistorical(m.payload) : m.payload, qos: 1)))
        }
        // Waited polls: grouped per device, oldest first, in messages of up to pollsPerMessage.
        var groups: [String: [StoredPoll]] = [:]
        var order: [String] = []
        func closeGroup(_ device: String) {
            guard let polls = groups.removeValue(forKey: device), !polls.isEmpty else { return }
            let payload = polls.count == 1
                ? StatePayload.markHistorical(render(polls[0].sample, polls[0].seq).payload)
                : StatePayload.encodeBatch(device: device, polls: polls.map { ($0.sample, $0.seq) }, site: site.site)
            built.append((polls.map(\.id), OutgoingMessage(topic: site.stateTopic(device: device), payload: payload, qos: 1)))
        }
        var kept: [Int64] = []
        let sharing = sharingTable.current.policies
        for var p in fetched.polls {
            // Only what the site shares in full goes into a state message.
            if let policy = sharing[p.sample.device], !policy.sharesEverything {
                guard let shared = policy.shared(p.sample) else { kept.append(p.id); continue }
                p.sample = shared
            }
            if !waited(p.created) {
                let (topic, payload) = render(p.sample, p.seq)
                built.append(([p.id], OutgoingMessage(topic: topic, payload: payload, qos: 1)))
                continue
            }
            let device = p.sample.device
            if let g = groups[device], g.count >= Self.pollsPerMessage
                || g.reduce(0, { $0 + $1.sample.readings.count }) + p.sample.readings.count > Self.readingsPerMessage {
                closeGroup(device)
            }
            if groups[device] == nil { order.append(device) }
            groups[device, default: []].append(p)
        }
        for device in order { closeGroup(device) }
        built.sort { $0.ids[0] < $1.ids[0] }
        // Kept on the farm: nothing to send, nothing to wait for; they go with the acknowledgements.
        if !kept.isEmpty {
            keptOnFarm.append(contentsOf: kept)
            keptTotal += kept.count
        }
        let sent = await send(Array(built.prefix(room)), lane: .readings)
        // The cursor passes only a run of ids that all went out (or were kept on the farm); later
        // ones are skipped while in flight.
        if let sent {
            let out = Set(sent).union(kept)
            var c = after
            for id in (fetched.messages.map(\.id) + fetched.polls.map(\.id)).sorted() {
                guard out.contains(id) || inflightReadings.contains(id) else { break }
                c = id
            }
            if live { liveCursor = c } else { cursor[.readings] = c }
            return rows
        }
        return nil
    }

    /// Publishes `messages` (each standing for the stored rows `ids`) in one hop to the client and
    /// records what went out. Returns the ids handled (in flight, or set aside as refused for good),
    /// or nil when a publish failed and the rest must wait.
    private func send(_ messages: [(ids: [Int64], message: OutgoingMessage)], lane: Lane) async -> [Int64]? {
        guard !messages.isEmpty else { return [] }
        let sentAt = ContinuousClock.now
        let results = await client.publish(messages.map(\.message))
        var handled: [Int64] = []
        for (m, result) in zip(messages, results) {
            switch result {
            case .success(let mid):
                inflight[mid] = (m.ids, lane, sentAt, m.message.topic)
                if lane == .readings { inflightReadings.formUnion(m.ids) }
                handled.append(contentsOf: m.ids)
                sentTotal += m.ids.count
            case .failure(let error) where error.code == .rejected:
                // It can never be sent: set it aside (counted) rather than block its lane forever.
                handled.append(contentsOf: m.ids)
                rejectedTotal += m.ids.count
                logger.error("message refused for good; removed from the outbox and counted", metadata: ["topic": "\(m.message.topic)", "error": "\(error)"])
                do { try await outbox.reject(m.ids) } catch { logger.error("could not remove a refused message", metadata: ["error": "\(error)"]) }
            case .failure(let error):
                logger.warning("publish failed; will retry", metadata: ["topic": "\(m.message.topic)", "error": "\(error)"])
                return nil
            }
        }
        return results.count < messages.count ? nil : handled
    }

    private func rewindStale() {
        guard connected, connectedSince.duration(to: .now) > .seconds(Self.staleAfter) else { return }
        let stale = inflight.filter { $0.value.sent.duration(to: .now) > .seconds(Self.staleAfter) }
        guard !stale.isEmpty else { return }
        for entry in stale.values {
            guard let first = entry.ids.min() else { continue }
            if entry.lane == .alerts {
                cursor[.alerts] = min(cursor[.alerts] ?? 0, first - 1)
            } else {
                inflightReadings.subtract(entry.ids)
                if let end = backlogThrough, first > end { liveCursor = min(liveCursor, first - 1) }
                else { cursor[.readings] = min(cursor[.readings] ?? 0, first - 1) }
            }
        }
        for mid in stale.keys { inflight.removeValue(forKey: mid) }
        exhausted = false
        logger.warning("messages unacknowledged for two minutes; sending them again", metadata: ["count": "\(stale.count)"])
    }

    /// Graceful shutdown: give the broker a few seconds to take what is queued, record the acks,
    /// say `offline`, disconnect. Whatever is unacknowledged stays in the outbox for next time.
    private func finish() async {
        let deadline = ContinuousClock.now.advanced(by: Self.flushTimeout)
        if connected {
            var iterator = signals.makeAsyncIterator()
            var offlineMID: Int32? = nil
            exhausted = false
            while ContinuousClock.now < deadline {
                if offlineMID == nil {
                    await fillWindow()
                    if inflight.isEmpty && exhausted {
                        offlineMID = (try? await client.publish(topic: site.statusTopic, payload: Array("offline".utf8), qos: 1, retain: true)) ?? -1
                        if offlineMID == -1 { break }
                    }
                }
                guard let s = await iterator.next() else { break }
                if case .mqtt(.acknowledged) = s {
                    let others = takeAcknowledged()
                    if let offlineMID, others.contains(offlineMID) { break }
                } else if case .mqtt(.disconnected) = s {
                    break
                } else if case .newData = s {
                    exhausted = false
                }
            }
        }
        await flushAcks()
        await saveRefusals()
        await client.disconnect()
        logger.info("publisher stopped", metadata: ["sent": "\(sentTotal)", "acknowledged": "\(ackedTotal)", "refused": "\(refusedTotal)", "kept_on_farm": "\(keptTotal)",
                                                    "unacknowledged": "\(inflight.count)"])
    }
}

extension Publisher: CustomStringConvertible {
    public nonisolated var description: String { "Publisher(\(site.broker.host):\(site.broker.port))" }
}

public import Detection
public import EdgeCore
internal import FoundationEssentials

/// Runs the site's detectors and farmer rules over every poll and turns their raise/clear events
/// into outbox messages. Pure computation on the recorder's task; no I/O of its own.
///
/// Keeps the set of active alerts, published retained on `…/alerts/active` each time it changes,
/// so a dashboard that connects late sees what is wrong now.
public struct AlertEngine: Sendable {
    struct Watched: Sendable {
        var detector: ChannelDetector?
        var thresholds: [ThresholdMonitor]
        var spoilage: [SpoilageMonitor]
        let spec: ChannelSpec
        /// The detector's last score (for replay's output).
        var score = 0.0
    }

    private let site: Site
    /// By device, then channel name.
    private var watched: [String: [String: Watched]] = [:]
    /// Active alerts by `device.channel/kind`.
    public private(set) var active: [String: (device: String, event: AlertEvent)] = [:]

    /// Cold-room detectors told about defrosts by a status channel: `device.channel` of the status →
    /// (device, channel) of each detector it explains.
    /// Keyed by the status's device, then its channel: looked up per reading without building a string.
    private var defrostListeners: [String: [String: [(device: String, channel: String)]]] = [:]
    /// Detector and rule time runs this many times faster than the wall clock (demos, `Site.timeScale`).
    private let timeScale: Double

    public init(site: Site) {
        self.site = site
        timeScale = site.timeScale > 0 ? site.timeScale : 1
        for device in site.devices {
            var byChannel: [String: Watched] = [:]
            for spec in device.channels {
                var detector: ChannelDetector? = nil
                if let kindName = device.detectorKind(for: spec), let kind = ChannelKind(rawValue: kindName) {
                    detector = ChannelDetector(channel: "\(device.name).\(spec.name)",
                                               config: Self.detectorConfig(kind: kind, device: device, spec: spec, site: site))
                    if kind == .coldRoom {
                        // The room's own controller status first; a status on another device when named.
                        var sources = device.channels.filter { $0.role == .defrost }.map { (device.name, $0.name) }
                        if let from = device.defrost?.from?.split(separator: ".", maxSplits: 1), from.count == 2 {
                            sources = [(String(from[0]), String(from[1]))]
                        }
                        for (d, c) in sources { defrostListeners[d, default: [:]][c, default: []].append((device.name, spec.name)) }
                    }
                }
                var rules = site.alerts.filter { $0.device == device.name && $0.channel == spec.name }
                if spec.role == .door && rules.isEmpty {
                    // A door left open is an alert of its own, unless the farmer wrote a rule for it.
                    rules.append(AlertRuleConfig(device: device.name, channel: spec.name, above: 0.5, forSeconds: Self.doorOpenAlert,
                                                 severity: "warning",
                                                 message: "The door of \(device.name) has been open for \(Int(Self.doorOpenAlert / 60)) minutes: close it before the room warms."))
                }
                let thresholds = rules.map {
                    ThresholdMonitor(rule: ThresholdRule(channel: "\(device.name).\(spec.name)", above: $0.above, below: $0.below,
                                                         duration: $0.forSeconds, severity: Severity(rawValue: $0.severity) ?? .warning,
                                                         message: $0.message, unit: spec.unit))
                }
                let spoilage = site.spoilage.filter { $0.device == device.name && $0.channel == spec.name }.compactMap { rule -> SpoilageMonitor? in
                    let model: SpoilageBudget.Model
                    if let safe = rule.safe, let budget = rule.budgetDegreeHours {
                        model = .degreeMinutes(safe: safe, budget: budget * 60)
                    } else if let reference = rule.reference, let life = rule.shelfLifeHours, let q10 = rule.q10 {
                        model = .q10(reference: reference, shelfLifeHours: life, q10: q10)
                    } else {
                        return nil
                    }
                    return SpoilageMonitor(budget: SpoilageBudget(channel: "\(device.name).\(spec.name)", commodity: rule.commodity,
                                                                  room: rule.room, model: model, alertShares: rule.alertAt))
                }
                if detector != nil || !thresholds.isEmpty || !spoilage.isEmpty {
                    byChannel[spec.name] = Watched(detector: detector, thresholds: thresholds, spoilage: spoilage, spec: spec)
                }
            }
            if !byChannel.isEmpty { watched[device.name] = byChannel }
        }
    }

    /// A door status open this long raises a warning (unless the site has its own rule for the door).
    public static let doorOpenAlert: Double = 600

    /// The detector settings the daemon uses for a channel (replay uses the same): the kind's
    /// defaults for the poll interval (or `sampleInterval`, for recorded data sampled otherwise), the
    /// profile's unit, valid range and sentinels, the room's declared defrost cycle, and the farmer's
    /// own limit (the lowest `above` rule on the channel) as the compressor-failure projection's limit.
    public static func detectorConfig(kind: ChannelKind, device: DeviceConfig, spec: ChannelSpec, site: Site? = nil,
                                      sampleInterval: Double? = nil) -> DetectorConfig {
        let scale = site.map { $0.timeScale > 0 ? $0.timeScale : 1 } ?? 1
        var config = DetectorConfig.defaults(for: kind, sampleInterval: sampleInterval ?? Double(device.pollMS) / 1000 * scale)
        config.unit = spec.unit
        if let valid = spec.valid {
            config.validMin = valid.lowerBound
            config.validMax = valid.upperBound
        }
        config.sentinels = spec.sentinels.map { RegisterCodec.engineering(raw: $0, channel: spec) }
        if kind == .coldRoom, let declared = device.defrost, var defrost = config.defrost {
            defrost.every = declared.every
            defrost.duration = declared.duration
            defrost.clockTimes = declared.clockTimes
            defrost.learn = declared.learn
            config.defrost = defrost
        }
        if kind == .coldRoom, let site, config.rise != nil {
            let limits = site.alerts.filter { $0.device == device.name && $0.channel == spec.name }.compactMap(\.above)
            if let lowest = limits.min() { config.rise?.limit = lowest }
        }
        return config
    }

    /// Channels watched by at least one detector or rule.
    public var watchedCount: Int { watched.values.reduce(0) { $0 + $1.count } }

    /// Wall-clock time and monotonic time of the first sample: detectors and rules run on
    /// `anchor.wall + (monotonic - anchor.mono)`, a clock that never jumps. When NTP steps the
    /// board's clock by hours, "above 8 °C for 15 minutes" still means fifteen real minutes.
    private var anchor: (wall: Double, mono: Double)?

    /// The steady detector time of a sample.
    func steadyTime(_ sample: DeviceSample) -> Double {
        guard let anchor else { return sample.time }
        return anchor.wall + (sample.monotonic - anchor.mono) * timeScale
    }

    /// Feeds one poll through every detector and rule of its device; returns the events it caused.
    /// Event times are on the steady clock; publish them with the sample's wall time.
    public mutating func process(_ sample: DeviceSample) -> [AlertEvent] {
        if anchor == nil {
            anchor = (site.clockOrigin?.simulated(atWall: sample.time, speed: timeScale) ?? sample.time, sample.monotonic)
        }
        let time = steadyTime(sample)
        // Defrost status first: the room's temperature in the same poll is then judged knowing it.
        if let statuses = defrostListeners[sample.device] {
            for reading in sample.readings {
                guard let listeners = statuses[reading.channel], reading.quality == .good,
                      let v = reading.value else { continue }
                for l in listeners { watched[l.device]?[l.channel]?.detector?.noteDefrost(active: v != 0, time: time) }
            }
        }
        guard var channels = watched[sample.device] else { return [] }
        var events: [AlertEvent] = []
        for reading in sample.readings {
            guard var w = channels[reading.channel] else { continue }
            // A sentinel reaches the detector as the firmware's marker value, so it can say so.
            var value = reading.value
            if reading.quality == .sentinel, let marker = w.spec.sentinels.first {
                value = RegisterCodec.engineering(raw: marker, channel: w.spec)
            }
            if var d = w.detector {
                let o = d.update(time: time, value: value)
                if let e = o.event { events.append(e) }
                w.score = o.score
                w.detector = d
            }
            // Farmer rules see only trustworthy values: an out-of-range reading is a sensor fault
            // (the detector reports it), not a temperature the produce experienced.
            let plain = reading.quality == .good ? reading.value : nil
            let held = w.detector?.inKnownDefrost ?? false
            for i in w.thresholds.indices {
                if let e = w.thresholds[i].update(time: time, value: plain, held: held) { events.append(e) }
            }
            for i in w.spoilage.indices {
                if let e = w.spoilage[i].update(time: time, value: plain) { events.append(e) }
            }
            channels[reading.channel] = w
        }
        watched[sample.device] = channels
        for i in events.indices { events[i].time = sample.time }  // published with the board's wall clock
        for e in events {
            let key = "\(e.channel)/\(e.kind.rawValue)"
            if e.phase == .raise { active[key] = (sample.device, e) } else { active.removeValue(forKey: key) }
        }
        return events
    }

    /// One watched channel as it stands after the last poll: the detector's score and open episode,
    /// and whether a farmer rule on it is active. Nil for a channel nothing watches.
    public func state(device: String, channel: String) -> (score: Double, alert: Bool, rules: Bool)? {
        guard let w = watched[device]?[channel] else { return nil }
        let rules = w.thresholds.contains { $0.active } || w.spoilage.contains { $0.raisedSince != nil }
        return (w.score, w.detector?.isAlerting ?? false, rules)
    }

    /// The JSON of one event, for `…/alerts`.
    public func eventPayload(_ e: AlertEvent, device: String, seq: UInt64) -> [UInt8] {
        var w = JSONWriter()
        write(e, device: device, into: &w, key: "\(site.site)/\(e.channel)/\(e.kind.rawValue)/\(e.phase.rawValue)/\(seq)")
        return w.bytes
    }

    /// The JSON of the active set, for the retained `…/alerts/active`, without the alerts of
    /// `hiding` (devices whose site file says `share_alerts: false`).
    public func activePayload(time: Double, hiding: Set<String> = []) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.string("ts", Timestamp.iso8601(time))
        w.beginArray("active")
        for key in active.keys.sorted() {
            guard let (device, e) = active[key], !hiding.contains(device) else { continue }
            write(e, device: device, into: &w, key: nil)
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    private func write(_ e: AlertEvent, device: String, into w: inout JSONWriter, key: String?) {
        w.beginObject()
        w.string("phase", e.phase.rawValue)
        w.string("device", device)
        w.string("channel", String(e.channel.dropFirst(device.count + 1)))
        w.string("kind", e.kind.rawValue)
        w.string("severity", e.severity.rawValue)
        w.number("value", e.value)
        w.number("score", (e.score * 1000).rounded() / 1000)
        w.string("reason", e.reason)
        w.string("message", e.message)
        w.string("ts", Timestamp.iso8601(e.time))
        w.number("time", e.time)
        if e.phase == .clear { w.number("duration_s", e.duration.rounded()) }
        if let key { w.string("key", key) }
        w.endObject()
    }

    // MARK: A reloaded site

    /// Takes over `old`'s state (an engine built for the previous site, same process) for what the
    /// reload left unchanged, and returns how many detectors kept their state:
    /// - a detector, when its device and channel still exist with the same channel spec and the same
    ///   detector settings (kind, poll interval, limits, defrost cycle…): copied as it is, window and
    ///   open episode included, so an unchanged room is judged exactly as before the reload;
    /// - a farmer rule, onto the same rule (same limits and duration); a spoilage budget, onto the same budget;
    /// - open alerts, as they were raised, while the channel's carried-over state still holds them.
    /// Anything new or changed starts afresh; alerts of removed channels leave the active set.
    public mutating func takeOver(from old: AlertEngine) -> Int {
        var kept = 0
        for (device, channels) in watched {
            guard let before = old.watched[device] else { continue }
            var updated = channels
            for (name, w) in channels {
                guard let o = before[name] else { continue }
                var w = w
                if let d = w.detector, let od = o.detector, d.config == od.config, w.spec == o.spec {
                    w.detector = od
                    w.score = o.score
                    kept += 1
                }
                for i in w.thresholds.indices {
                    if let same = o.thresholds.first(where: { $0.rule == w.thresholds[i].rule }) { w.thresholds[i] = same }
                }
                for i in w.spoilage.indices {
                    if let same = o.spoilage.first(where: { $0.budget == w.spoilage[i].budget }) { w.spoilage[i] = same }
                }
                updated[name] = w
            }
            watched[device] = updated
        }
        for (key, entry) in old.active {
            let local = String(entry.event.channel.dropFirst(entry.device.count + 1))
            guard let w = watched[entry.device]?[local] else { continue }
            let stillOpen: Bool
            switch entry.event.kind {
            case .threshold: stillOpen = w.thresholds.contains { $0.active }
            case .spoilageBudget: stillOpen = w.spoilage.contains { $0.raisedSince != nil }
            default: stillOpen = w.detector?.isAlerting ?? false
            }
            if stillOpen { active[key] = entry }
        }
        // One process, one steady clock: durations under way stay exact.
        anchor = old.anchor
        return kept
    }

    // MARK: Baselines that survive a restart

    struct Saved: Codable {
        var detectors: [String: ChannelDetectorSnapshot]
        var spoilageUsed: [String: Double]
        // Since the rules' state is kept too (older snapshots lack these fields).
        var spoilageRaisedAt: [String: Double]?
        var thresholds: [String: [ThresholdMonitor.Snapshot]]?
        /// Open rule episodes (threshold, spoilage budget) as they were raised, for the active set.
        var activeRules: [String: SavedActive]?
        var anchor: SavedAnchor?
    }

    struct SavedActive: Codable {
        var device: String
        var event: AlertEvent
    }

    /// The steady clock's anchor and the boot it belongs to: within one boot the monotonic clock
    /// (CLOCK_BOOTTIME) runs on across restarts, so a restarted agent keeps the same steady time.
    struct SavedAnchor: Codable {
        var wall: Double
        var mono: Double
        var boot: String
    }

    /// This boot's id (Linux), "" when unknown.
    static let bootID: String = {
        guard let data = FileManager.default.contents(atPath: "/proc/sys/kernel/random/boot_id") else { return "" }
        return String(decoding: data, as: UTF8.self).trimmedOfWhitespace
    }()

    /// Detector baselines, spent heat budgets and the farmer rules' state (open episodes, a breach or
    /// a recovery under way), as bytes for the outbox's state table.
    public func snapshot() -> [UInt8] {
        var saved = Saved(detectors: [:], spoilageUsed: [:], spoilageRaisedAt: [:], thresholds: [:], activeRules: [:])
        for (device, channels) in watched {
            for (name, w) in channels {
                if let d = w.detector { saved.detectors["\(device).\(name)"] = d.snapshot() }
                for m in w.spoilage {
                    saved.spoilageUsed["\(device).\(name)/\(m.budget.commodity)"] = m.used
                    if let since = m.raisedSince { saved.spoilageRaisedAt?["\(device).\(name)/\(m.budget.commodity)"] = since }
                }
                if !w.thresholds.isEmpty { saved.thresholds?["\(device).\(name)"] = w.thresholds.map { $0.snapshot() } }
            }
        }
        for (key, entry) in active where entry.event.kind == .threshold || entry.event.kind == .spoilageBudget {
            saved.activeRules?[key] = SavedActive(device: entry.device, event: entry.event)
        }
        if let anchor, !Self.bootID.isEmpty {
            saved.anchor = SavedAnchor(wall: anchor.wall, mono: anchor.mono, boot: Self.bootID)
        }
        return (try? [UInt8](JSONEncoder().encode(saved))) ?? []
    }

    /// Restores what `snapshot()` saved; channels or settings that changed since start afresh.
    /// Returns how many detectors got their baseline back.
    @discardableResult
    public mutating func restore(_ bytes: [UInt8]) -> Int {
        guard let saved = try? JSONDecoder().decode(Saved.self, from: Data(bytes)) else { return 0 }
        var restored = 0
        for (device, channels) in watched {
            var updated = channels
            for (name, w) in channels {
                var w = w
                if var d = w.detector, let snap = saved.detectors["\(device).\(name)"], d.restore(snap) {
                    w.detector = d
                    restored += 1
                    if d.isAlerting, let kind = snap.alertKind {
                        let e = AlertEvent(phase: .raise, channel: "\(device).\(name)", time: snap.alertSince ?? 0, severity: d.config.processSeverity,
                                           kind: kind, value: nil, score: 1, reason: "active before the restart", message: "still active after a restart")
                        active["\(device).\(name)/\(kind.rawValue)"] = (device, e)
                    }
                }
                for i in w.spoilage.indices {
                    let key = "\(device).\(name)/\(w.spoilage[i].budget.commodity)"
                    if let used = saved.spoilageUsed[key] {
                        w.spoilage[i] = SpoilageMonitor(budget: w.spoilage[i].budget, used: used, raisedAt: saved.spoilageRaisedAt?[key])
                    }
                }
                // A rule restores its state only onto the same rule (same limits and duration).
                if let states = saved.thresholds?["\(device).\(name)"] {
                    for i in w.thresholds.indices {
                        if let state = states.first(where: { $0.rule == w.thresholds[i].rule }) {
                            w.thresholds[i] = ThresholdMonitor(rule: w.thresholds[i].rule, restoring: state)
                        }
                    }
                }
                updated[name] = w
            }
            watched[device] = updated
        }
        // Open rule episodes go back into the active set, as they were raised, if their rule still is.
        for (key, entry) in saved.activeRules ?? [:] {
            let local = String(entry.event.channel.dropFirst(entry.device.count + 1))
            let stillOpen: Bool
            switch entry.event.kind {
            case .threshold:
                stillOpen = watched[entry.device]?[local]?.thresholds.contains { $0.active } ?? false
            case .spoilageBudget:
                stillOpen = watched[entry.device]?[local]?.spoilage.contains { $0.raisedSince != nil } ?? false
            default:
                stillOpen = false
            }
            if stillOpen { active[key] = (entry.device, entry.event) }
        }
        // The same boot: keep the steady clock where it was, so durations under way stay exact.
        if let a = saved.anchor, !a.boot.isEmpty, a.boot == Self.bootID { anchor = (a.wall, a.mono) }
        return restored
    }
}

/// The anomaly detector of one channel: a thin shell that sorts each reading (`Validity`), runs the
/// kind's pipeline of small components on plausible ones (`ColdRoomPipeline`, `SoilPipeline`,
/// `WeightPipeline`, `GenericPipeline`), takes the strongest score, and passes it through a
/// `HysteresisGate`, so that one episode is one raise and one clear, worded for a farmer.
///
/// Costs per reading: the components' (a few sorted-window pushes, O(log window) each, and O(1)
/// else; an O(window) refresh of the long window's median and MAD every window / 2 readings). No
/// allocation in steady state, except the strings of an `AlertEvent` on the reading that raises or
/// clears; the components' rings are allocated at init. Copies share those rings until one is
/// updated (copy on write): mutate the detector in place (`detectors[i].update(...)`).
public struct ChannelDetector: Sendable {
    public let channel: String
    /// The settings this detector was made with (behind one reference: a smaller detector is cheaper
    /// to move around, and the per-reading path reads the components' own copies).
    public var config: DetectorConfig { configBox.value }
    private let configBox: ConfigBox

    private final class ConfigBox: Sendable {
        let value: DetectorConfig
        init(_ value: DetectorConfig) { self.value = value }
    }

    private var validity: Validity
    private var noData: NoDataWatch
    /// Exactly one of these is set, by `config.kind` (static composition: no existentials per reading).
    private var coldRoom: ColdRoomPipeline?
    private var soil: SoilPipeline?
    private var weight: WeightPipeline?
    private var generic: GenericPipeline?

    private var gate: HysteresisGate
    private var episodeKind: AlertKind?
    private var raisedAt = Double.nan
    private var lastTime = Double.nan
    private let maxGap: Double

    public init(channel: String = "", config: DetectorConfig) {
        self.channel = channel
        configBox = ConfigBox(config)
        validity = Validity(config: config)
        noData = NoDataWatch(after: config.noDataAfter)
        maxGap = config.maxGap
        switch config.kind {
        case .coldRoom: coldRoom = ColdRoomPipeline(config: config)
        case .soilMoisture: soil = SoilPipeline(config: config)
        case .weight: weight = WeightPipeline(config: config)
        case .generic: generic = GenericPipeline(config: config)
        }
        gate = HysteresisGate(
            raiseLevel: config.raiseLevel, clearLevel: config.clearLevel,
            raiseAfter: config.raiseAfter, clearAfter: config.clearAfter,
            clearAfterSamples: config.clearAfterSamples ?? 0,
            refractory: config.refractory ?? 0, refractorySamples: config.refractorySamples ?? 0)
    }

    /// True while an alert episode is open.
    public var isAlerting: Bool { gate.active }

    /// True once the level detector has a baseline (after its warm-up).
    public var hasBaseline: Bool {
        guard lastTime.isFinite else { return false }
        if let l = coldRoom?.level { return l.trusted(at: lastTime) }
        if let l = levelDeviation { return l.trusted(at: lastTime) }
        return false
    }

    /// The learned defrost schedule of a cold room, once locked: period and duration (seconds) and the
    /// start of the newest defrost it matched (seconds since the epoch). Nil otherwise.
    public var learnedDefrost: (period: Double, longest: Double, lastStart: Double)? {
        guard let l = coldRoom?.schedule?.lock else { return nil }
        return (l.period, l.longest, l.phase)
    }

    /// A cold room's defrost schedule in words (lock, excursion under way), for tuning. Builds a string.
    public var defrostDiagnostics: String? { coldRoom?.schedule?.diagnostics(at: lastTime) }

    /// True when the last reading of a cold room fell inside a defrost that the controller's status, a
    /// declared schedule or a locked learned schedule vouches for (not while the room is alerting).
    public var inKnownDefrost: Bool { coldRoom?.knownDefrost ?? false }

    /// Tells a cold room's detector what its controller says about defrost (the value of a
    /// `role: defrost` channel: true while the heaters run). While such statuses keep coming (at least
    /// every 30 min) they decide what counts as a defrost, ahead of a declared or learned schedule.
    /// Ignored by other kinds. O(1), no allocation.
    public mutating func noteDefrost(active: Bool, time: Double) {
        guard coldRoom != nil else { return }
        if coldRoom!.schedule == nil {
            coldRoom!.schedule = DefrostSchedule(settings: DefrostSettings(learn: false), sampleInterval: config.sampleInterval)
        }
        coldRoom!.schedule!.noteStatus(active: active, time: time)
    }

    /// Feeds one reading. `value` nil means the read failed. `time` is seconds since the epoch and
    /// should not go backwards; if it does, the short-term state restarts (no crash, no alert).
    public mutating func update(time: Double, value: Double?) -> DetectorOutput {
        var best = Strongest()
        switch validity.check(value) {
        case .valid:
            noData.answered()
            let x = value!
            if lastTime.isFinite && (time - lastTime > maxGap || time < lastTime) { restartShortTerm() }
            best = runPipeline(time: time, x: x)
            lastTime = time
        case .missing:
            best.offer(noData.missing(at: time), .noData)
        case .sentinel:
            noData.answered()
            best.offer(1, .sentinel)
        case .outOfRange:
            noData.answered()
            best.offer(1, .outOfRange)
        }
        return finish(time: time, value: value, best: best)
    }

    @inline(__always)
    private mutating func runPipeline(time: Double, x: Double) -> Strongest {
        if coldRoom != nil { return coldRoom!.update(time: time, x: x, alerting: gate.active) }
        if soil != nil { return soil!.update(time: time, x: x, alerting: gate.active) }
        if weight != nil { return weight!.update(time: time, x: x, alerting: gate.active) }
        return generic!.update(time: time, x: x, alerting: gate.active)
    }

    private mutating func restartShortTerm() {
        coldRoom?.restartShortTerm()
        soil?.restartShortTerm()
        weight?.restartShortTerm()
        generic?.restartShortTerm()
    }

    /// The combined score through the alert gate.
    @inline(__always)
    private mutating func finish(time: Double, value: Double?, best: Strongest) -> DetectorOutput {
        let score = min(1, max(0, best.score))
        let kind = best.kind
        let transition = gate.update(time: time, score: score)
        if transition == .none {
            // Almost every reading: no event, so no optional AlertEvent to build, copy or destroy.
            return DetectorOutput(score: score, alert: gate.active, kind: score > 0 ? kind : nil, event: nil)
        }
        return transitionOutput(transition, kind: kind, time: time, value: value, score: score)
    }

    /// The output of a reading that raises or clears an episode (out of line: rare, and it builds an
    /// `AlertEvent`).
    @inline(never)
    private mutating func transitionOutput(
        _ transition: HysteresisGate.Transition, kind: AlertKind?, time: Double, value: Double?, score: Double
    ) -> DetectorOutput {
        var event: AlertEvent? = nil
        switch transition {
        case .none:
            break
        case .raised:
            let k = kind ?? .deviation
            episodeKind = k
            raisedAt = time
            event = makeRaise(kind: k, time: time, value: value, score: score)
        case .cleared:
            let k = episodeKind ?? .deviation
            event = makeClear(kind: k, time: time, value: value, score: score)
            episodeKind = nil
            raisedAt = .nan
        }
        return DetectorOutput(score: score, alert: gate.active, kind: score > 0 ? kind : nil, event: event)
    }

    // MARK: - The components, for persistence and messages

    private var noise: NoiseScale? { coldRoom?.noise ?? soil?.noise ?? weight?.noise ?? generic?.noise }
    private var levelDeviation: LevelDeviation? { soil?.level ?? weight?.level ?? generic?.level }
    private var stuck: StuckDetector? { coldRoom?.stuck ?? soil?.stuck ?? weight?.stuck ?? generic?.stuck }
    private var drift: DriftRate? { soil?.drift ?? weight?.drift ?? generic?.drift }

    // MARK: - Persistence

    /// The state worth persisting. O(window); allocates the sample array.
    public func snapshot() -> ChannelDetectorSnapshot {
        var baseline = Double.nan
        var since = Double.nan
        var count = 0
        if let l = coldRoom?.level {
            (baseline, since, count) = (l.baseline, l.baselineSince, l.baselineCount)
        } else if let l = levelDeviation {
            (baseline, since, count) = (l.baseline, l.baselineSince, l.baselineCount)
        }
        let daily = levelDeviation?.daily
        let dailyLearned = daily.map { $0.since.isFinite } ?? false
        return ChannelDetectorSnapshot(
            samples: noise?.values ?? [],
            lastTime: lastTime.isFinite ? lastTime : nil,
            baseline: baseline.isFinite ? baseline : nil,
            baselineSince: since.isFinite ? since : nil,
            baselineCount: count,
            zeroDiffShare: stuck?.zeroDiffShare ?? 0,
            alertKind: gate.active ? episodeKind : nil,
            alertSince: gate.active ? raisedAt : nil,
            daily: dailyLearned ? daily?.folded : nil,
            dailySince: dailyLearned ? daily?.since : nil,
            defrost: coldRoom?.schedule?.snapshot,
            longestFlatRun: stuck.map { $0.longestNormalRun },
            dayOverDay: generic?.change?.snapshot)
    }

    /// Creates a detector and restores `snapshot` into it (see `restore(_:)`).
    public init(channel: String = "", config: DetectorConfig, restoring snapshot: ChannelDetectorSnapshot) {
        self.init(channel: channel, config: config)
        restore(snapshot)
    }

    /// Restores a snapshot taken by `snapshot()`, also from a detector with a different window size
    /// (the newest samples are kept). Returns false, leaving the detector fresh, for another version
    /// (a version-1 snapshot from the detector before the components is ignored, not misread).
    /// The short-term state (windows, floor, envelope, drift sums) is rebuilt by running the samples
    /// through the pipeline again, as if they had arrived `config.sampleInterval` apart up to
    /// `lastTime`; what was learned (baseline, daily pattern, defrost schedule, the stuck detector's
    /// notion of normal) is then taken from the snapshot. O(window × per-reading cost); call once at start-up.
    @discardableResult
    public mutating func restore(_ snapshot: ChannelDetectorSnapshot) -> Bool {
        guard snapshot.version == ChannelDetectorSnapshot.currentVersion else { return false }
        self = ChannelDetector(channel: channel, config: config)
        let valid = snapshot.samples.filter { $0.isFinite }.suffix(config.window)
        let end = snapshot.lastTime ?? 0
        if let s = snapshot.defrost { coldRoom?.schedule?.restore(s, now: end) }
        coldRoom?.schedule?.learningPaused = true
        for (i, x) in valid.enumerated() {
            _ = runPipeline(time: end - Double(valid.count - 1 - i) * config.sampleInterval, x: x)
        }
        coldRoom?.schedule?.learningPaused = false
        lastTime = snapshot.lastTime ?? .nan
        let baseline = snapshot.baseline ?? .nan
        let since = snapshot.baselineSince ?? .nan
        if coldRoom?.level != nil {
            coldRoom!.level!.baseline = baseline
            coldRoom!.level!.baselineSince = since
            coldRoom!.level!.baselineCount = snapshot.baselineCount
        }
        soil?.level?.restoreBaseline(baseline, since: since, count: snapshot.baselineCount)
        weight?.level?.restoreBaseline(baseline, since: since, count: snapshot.baselineCount)
        generic?.level?.restoreBaseline(baseline, since: since, count: snapshot.baselineCount)
        if let daily = snapshot.daily, let dailySince = snapshot.dailySince {
            // The same slots only: a pattern learned with another slot count would be misplaced.
            _ = soil?.level?.daily?.restore(daily, since: dailySince)
            _ = weight?.level?.daily?.restore(daily, since: dailySince)
            _ = generic?.level?.daily?.restore(daily, since: dailySince)
        } else {
            soil?.level?.daily?.reset()
            weight?.level?.daily?.reset()
            generic?.level?.daily?.reset()
        }
        if let d = snapshot.dayOverDay { generic?.change?.restore(d, now: snapshot.lastTime ?? 0) }
        coldRoom?.stuck?.restoreLearned(zeroDiffShare: snapshot.zeroDiffShare, longestRun: snapshot.longestFlatRun ?? 0)
        soil?.stuck?.restoreLearned(zeroDiffShare: snapshot.zeroDiffShare, longestRun: snapshot.longestFlatRun ?? 0)
        weight?.stuck?.restoreLearned(zeroDiffShare: snapshot.zeroDiffShare, longestRun: snapshot.longestFlatRun ?? 0)
        generic?.stuck?.restoreLearned(zeroDiffShare: snapshot.zeroDiffShare, longestRun: snapshot.longestFlatRun ?? 0)
        if let since = snapshot.alertSince {
            gate.restore(activeSince: since)
            episodeKind = snapshot.alertKind
            raisedAt = since
        }
        return true
    }

    // MARK: - Events

    private var name: String { channel.isEmpty ? "this sensor" : channel }

    /// A value with as many decimals as a reader needs, and the unit ("3.52°C", "12.5 kg").
    private func text(_ x: Double, unit u: String) -> String {
        let decimals = abs(x) >= 100 ? 0 : (abs(x) >= 10 ? 1 : 2)
        let number = NumberText.fixed(x, decimals: decimals)
        return u.isEmpty ? number : number + u
    }

    /// The unit as written after a number: "%" and "°C" directly, others after a space.
    private var unitSuffix: String {
        let u = config.unit
        return u.isEmpty || u == "%" || u == "°C" ? u : " " + u
    }

    private func makeRaise(kind: AlertKind, time: Double, value: Double?, score: Double) -> AlertEvent {
        let severity = kind.isSensorFault ? config.faultSeverity : config.processSeverity
        let unit = unitSuffix
        func text(_ x: Double) -> String { self.text(x, unit: unit) }
        let v = value.map { text($0) } ?? "no reading"
        var reason = ""
        var message = ""
        switch kind {
        case .sentinel:
            reason = compose("value \(v) is a sentinel code")
            message = compose("\(name) sent its \"no reading\" code (\(v)). Check the probe and its cable.")
        case .outOfRange where config.kind == .weight && config.validMin == nil:
            reason = compose("value \(v) below the scale's zero")
            message = compose("\(name) reads \(v), below what the empty scale shows. Check the tare, the wiring and the load cells.")
        case .outOfRange:
            let lo = config.validMin.map { text($0) } ?? "-∞"
            let hi = config.validMax.map { text($0) } ?? "∞"
            reason = compose("value \(v) outside valid range \(lo)…\(hi)")
            message = compose("\(name) reads \(v), which is impossible (valid \(lo) to \(hi)). Check the sensor, wiring and calibration.")
        case .noData:
            let d = NumberText.duration(noData.elapsed(at: time))
            reason = compose("no readings for \(d)")
            message = compose("No readings from \(name) for \(d). Check power and the RS-485 cable.")
        case .stuck:
            let d = NumberText.duration(time - (stuck?.runStart ?? time))
            reason = compose("value unchanged at \(v) for \(d)")
            message = compose("\(name) has shown exactly \(v) for \(d). A live sensor always moves a little: it may be frozen or disconnected.")
        case .spike:
            reason = compose("repeated implausible jumps (latest around \(v))")
            message = compose("\(name) is jumping erratically (readings like \(v) that come straight back). Check the connection and the probe.")
        case .deviation:
            (reason, message) = deviationWords(text)
        case .rate:
            if let r = coldRoom?.rise, r.ratePerMinute.isFinite {
                let rate = NumberText.fixed(r.ratePerMinute, decimals: r.ratePerMinute >= 0.095 ? 1 : 2)
                let limit = NumberText.fixed(r.limit, decimals: r.limit == r.limit.rounded() ? 0 : 1) + (unit.isEmpty ? "" : " " + config.unit)
                let minutes = Int(r.minutesToLimit.rounded())
                let when = minutes <= 0 ? "has passed \(limit)" : "will pass \(limit) in about \(NumberText.fixed(Double(minutes), decimals: 0)) minutes"
                let perMinute = config.unit.isEmpty ? "/min" : config.unit + "/min"
                reason = compose("lower envelope rising \(rate)\(perMinute), projected to reach \(limit) in \(NumberText.fixed(Double(max(0, minutes)), decimals: 0)) min")
                message = compose("\(name) is warming \(rate)\(perMinute) and \(when). Check the cooling unit (compressor, power, fans) and the door.")
            } else {
                (reason, message) = driftWords(text)
            }
        case .threshold, .spoilageBudget:
            reason = "rule"
            message = compose("\(name): rule triggered at \(v).")
        }
        return AlertEvent(
            phase: .raise, channel: channel, time: time, severity: severity, kind: kind,
            value: value, score: score, reason: reason, message: message)
    }

    private func deviationWords(_ text: (Double) -> String) -> (String, String) {
        var up = 0.0, down = 0.0, level = Double.nan, usual = Double.nan
        if let l = coldRoom?.level {
            (up, down, level, usual) = (l.up, l.down, l.levelValue, l.expected.isFinite ? l.expected : l.baseline)
        } else if let l = levelDeviation {
            (up, down, level, usual) = (l.up, l.down, l.levelValue, l.expected.isFinite ? l.expected : l.baseline)
        } else if let c = generic?.change {
            (up, down, level, usual) = (max(0, c.difference), max(0, -c.difference), c.level, c.reference)
        }
        let rising = up >= down
        let dev = rising ? up : down
        let word: String
        switch config.kind {
        case .coldRoom: word = rising ? "warmer" : "colder"
        case .soilMoisture: word = rising ? "wetter" : "drier"
        default: word = rising ? "higher" : "lower"
        }
        let levelText = text(level)
        let devText = text(dev)
        let usualText = text(usual)
        let reason = compose("level \(levelText) is \(rising ? "+" : "-")\(devText) from baseline \(usualText)")
        let message: String
        switch config.kind {
        case .coldRoom:
            let check = rising ? "Check the door and the cooling unit." : "Check the thermostat: produce may freeze."
            message = compose("\(name) has been \(devText) \(word) than usual for a while (\(levelText), usually \(usualText)). \(check)")
        case .soilMoisture:
            let check = "Soil does not dry that fast: check that the probe is still in the ground."
            message = compose("\(name) suddenly reads \(devText) \(word) than before (\(levelText), was \(usualText)). \(check)")
        default:
            let usually = generic?.change != nil ? "at this time yesterday" : "usually"
            message = compose("\(name) is \(devText) \(word) than usual (\(levelText), \(usually) \(usualText)).")
        }
        return (reason, message)
    }

    private func driftWords(_ text: (Double) -> String) -> (String, String) {
        guard let d = drift else { return ("rate", compose("\(name) is changing unusually fast.")) }
        let fast = d.fastDominates
        let sum = fast ? d.fastSum : d.slowSum
        let span = NumberText.duration(Double(fast ? min(d.fastSamples, d.count) : d.count) * config.sampleInterval)
        let reason = compose("changed \(sum >= 0 ? "+" : "")\(text(sum)) in \(span) without a step")
        let message: String
        if config.kind == .weight {
            message = compose(sum < 0
                ? "\(name) lost \(text(-sum)) in \(span) without anyone unloading. Check for a leak, pests or theft."
                : "\(name) is slowly gaining weight (\(text(sum)) in \(span)) with nothing loaded. The load cell may be creeping: recalibrate.")
        } else {
            message = compose("\(name) has \(sum < 0 ? "fallen" : "risen") steadily by \(text(abs(sum))) in \(span).")
        }
        return (reason, message)
    }

    private func makeClear(kind: AlertKind, time: Double, value: Double?, score: Double) -> AlertEvent {
        let severity = kind.isSensorFault ? config.faultSeverity : config.processSeverity
        let start = raisedAt.isFinite ? raisedAt : time
        let d = NumberText.duration(time - start)
        return AlertEvent(
            phase: .clear, channel: channel, time: time, severity: severity, kind: kind, value: value, score: score,
            reason: compose("score below \(NumberText.fixed(config.clearLevel, decimals: 2)) for \(NumberText.duration(config.clearAfter))"),
            message: compose("\(name) is back to normal (\(kind.words) lasted \(d))."),
            duration: time - start)
    }
}

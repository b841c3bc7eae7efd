/// A cold room: spikes, a stuck sensor, the defrost schedule, the defrost-aware level and the rise
/// projection, in that order, on every plausible reading.
///
/// The schedule runs before the level and the projection because it decides whether this reading is
/// part of a defrost (kept out of the level, no projection) — see `DefrostSchedule`. An excursion
/// counts from 1 °C (or 3.5 noise scales: above the compressor cycling) above the room's floor. Costs: see the components; about
/// three sorted-window pushes per reading.
struct ColdRoomPipeline: Sendable {
    var noise: NoiseScale
    /// The readings between excursions (no defrost, door burst, frozen run, fault or open alert): their
    /// spread is the compressor's cycling and the sensor's noise, what an excursion must stand out of.
    private var cycling: NoiseScale
    var spike: SpikeDetector?
    var stuck: StuckDetector?
    var floor: FloorTracker
    var schedule: DefrostSchedule?
    var level: DefrostAwareLevel?
    var rise: RiseProjection?
    /// Whether the last reading was explained by a defrost.
    private(set) var explained = false
    /// Whether the last reading was inside a defrost that a source vouches for (the controller's status,
    /// a declared schedule or a locked learned one), not merely a warm excursion given the benefit of
    /// the doubt: the farmer's threshold rules hold their count then, as a controller's alarm delay does.
    private(set) var knownDefrost = false
    /// The room's usual scale: `cycling`'s, learned with a time constant of 2 h per reading between
    /// excursions (a pause — an excursion, an alert — is not learning time).
    private(set) var usualSigma = Double.nan
    private var learnWeight: Double

    init(config: DetectorConfig) {
        noise = NoiseScale(capacity: config.window, minSpread: config.minSpread)
        cycling = NoiseScale(capacity: config.window, minSpread: config.minSpread)
        learnWeight = min(1, config.sampleInterval / 7200)
        spike = config.spike.map(SpikeDetector.init(settings:))
        stuck = config.stuck.map(StuckDetector.init(settings:))
        floor = FloorTracker(sampleInterval: config.sampleInterval)
        schedule = config.defrost.map { DefrostSchedule(settings: $0, sampleInterval: config.sampleInterval) }
        level = config.level.map { DefrostAwareLevel(settings: $0, config: config) }
        rise = config.rise.map { RiseProjection(settings: $0, sampleInterval: config.sampleInterval) }
    }

    /// `alerting`: an episode is open. Then nothing counts as explained by a defrost: a room that is
    /// already failing must not have its alert cleared by the next scheduled defrost.
    mutating func update(time: Double, x: Double, alerting: Bool) -> Strongest {
        var best = Strongest()
        noise.push(x)
        if spike != nil { best.offer(spike!.update(time: time, x: x, noise: &noise), .spike) }
        var flat = 0.0
        if stuck != nil {
            flat = stuck!.update(time: time, x: x, alerting: alerting)
            best.offer(flat, .stuck)
        }
        floor.update(time: time, x: x)
        let sigma = usualSigma.isFinite ? usualSigma : noise.sigma()
        // An excursion starts 3.5 noise scales above the floor: compressor cycling (a triangle of
        // amplitude A has σ ≈ 0.74 A and its top ≈ 2.6 σ above the floor) must not count as one, or the
        // cycles crowd the defrosts out of the learned excursions and nothing locks.
        let threshold = max(1.0, 3.5 * sigma)
        var defrost = schedule?.update(time: time, x: x, floor: floor.floor, threshold: threshold) ?? false
        // Inside a defrost that a known schedule predicts, the heater explains any warming, also before
        // the excursion has crossed its threshold (the projection would otherwise see the heater's rise).
        if !defrost, !(schedule?.overran ?? false), schedule?.expectedDefrost(at: time) != nil { defrost = true }
        // The scale learns from the readings between excursions only. Not from every reading: at fast
        // sampling a defrost fills half of the long window and more, and its spread is then the
        // heater's — it doubled or tripled the excursion threshold after every defrost, so the next
        // defrosts began late, off the learned grid, and a door left open went unseen. Nor from a
        // frozen run (a tiny scale: the cycling would look like excursions once the sensor moves).
        if !defrost && !alerting && flat < 0.2 && !(level?.deviating ?? false) && !(schedule?.inExcursion ?? false) {
            cycling.push(x)
            if cycling.count >= 32 {
                let current = cycling.sigma()
                usualSigma = usualSigma.isNaN ? current : usualSigma + learnWeight * (current - usualSigma)
            }
        }
        explained = defrost && !alerting
        let known = schedule?.isKnown(at: time) ?? false
        knownDefrost = explained && known
        if level != nil {
            best.offer(level!.update(time: time, x: x, explained: explained, known: known, sigma: sigma), .deviation)
        }
        if rise != nil {
            let baseline = level.map { $0.trusted(at: time) ? $0.baseline : .nan } ?? .nan
            best.offer(rise!.update(time: time, x: x, baseline: baseline, sigma: sigma, onset: floor.floor + threshold, explained: explained), .rate)
        }
        return best
    }

    mutating func restartShortTerm() {
        noise.restartShortTerm()
        spike?.restartShortTerm()
        stuck?.restartShortTerm()
        floor.restartShortTerm()
        schedule?.restartShortTerm()
        level?.restartShortTerm()
        rise?.restartShortTerm()
    }
}

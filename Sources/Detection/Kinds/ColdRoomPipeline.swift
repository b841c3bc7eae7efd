/// A cold room: spikes, a stuck sensor, the defrost schedule, the defrost-aware level and the rise
/// projection, in that order, on every plausible reading.
///
/// The schedule runs before the level and the projection because it decides whether this reading is
/// part of a defrost (kept out of the level, no projection) — see `DefrostSchedule`. An excursion
/// counts from 1 °C (or 3.5 noise scales: above the compressor cycling) above the room's floor. Costs: see the components; about
/// three sorted-window pushes per reading.
struct ColdRoomPipeline: Sendable {
    var noise: NoiseScale
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
    /// The room's usual noise scale, learned (time constant 2 h) only while nothing is wrong: the long
    /// window's own scale grows with a failure and would raise the thresholds that should catch it.
    private(set) var usualSigma = Double.nan
    private var sigmaTime = Double.nan
    /// After a flat run (a frozen sensor, 40 % of the stuck delay): no learning of the scale until the
    /// long window (`sigmaHold` seconds of it) has forgotten the run.
    private var sigmaHoldUntil = -Double.infinity
    private let sigmaHold: Double

    init(config: DetectorConfig) {
        noise = NoiseScale(capacity: config.window, minSpread: config.minSpread)
        sigmaHold = Double(config.window) * config.sampleInterval
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
            flat = stuck!.update(time: time, x: x)
            best.offer(flat, .stuck)
        }
        floor.update(time: time, x: x)
        // Not while the long window holds a flat run (a frozen sensor would teach a tiny scale, and the
        // compressor cycling would look like excursions once it moves again).
        if flat >= 0.2 { sigmaHoldUntil = time + sigmaHold }
        if noise.count >= 32 && !alerting && !(level?.deviating ?? false) && time > sigmaHoldUntil {
            let current = noise.sigma()
            if usualSigma.isNaN { usualSigma = current } else if time > sigmaTime {
                usualSigma += min(1, (time - sigmaTime) / 7200) * (current - usualSigma)
            }
            sigmaTime = time
        }
        let sigma = usualSigma.isFinite ? usualSigma : noise.sigma()
        // An excursion starts 3.5 noise scales above the floor: compressor cycling (a triangle of
        // amplitude A has σ ≈ 0.74 A and its top ≈ 2.6 σ above the floor) must not count as one, or the
        // cycles crowd the defrosts out of the learned excursions and nothing locks.
        let threshold = max(1.0, 3.5 * sigma)
        var defrost = schedule?.update(time: time, x: x, floor: floor.floor, threshold: threshold) ?? false
        // Inside a defrost that a known schedule predicts, the heater explains any warming, also before
        // the excursion has crossed its threshold (the projection would otherwise see the heater's rise).
        if !defrost, !(schedule?.overran ?? false), schedule?.expectedDefrost(at: time) != nil { defrost = true }
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
        sigmaTime = .nan
        noise.restartShortTerm()
        spike?.restartShortTerm()
        stuck?.restartShortTerm()
        floor.restartShortTerm()
        schedule?.restartShortTerm()
        level?.restartShortTerm()
        rise?.restartShortTerm()
    }
}

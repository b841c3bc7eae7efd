/// A scale: a stuck load cell, a slide that is not a loading step (leak, theft, creep), readings that
/// jump away and straight back, and a level if the settings ask for it (off by default: loading is a
/// step, not an anomaly), in that order; then a reading below the scale's learned zero (`NegativeWeight`). Spikes are judged against a short window's noise (`local`,
/// 32 readings: the flat stretch between loadings), since the long window spans many loadings.
/// Costs: O(1) per reading with the defaults (plus one 32-value sorted ring push).
struct WeightPipeline: Sendable {
    var noise: NoiseScale
    var local: NoiseScale
    var stuck: StuckDetector?
    var drift: DriftRate?
    var spike: SpikeDetector?
    var level: LevelDeviation?
    var negative: NegativeWeight?

    init(config: DetectorConfig) {
        noise = NoiseScale(capacity: config.window, minSpread: config.minSpread)
        local = NoiseScale(capacity: 32, minSpread: config.minSpread)
        stuck = config.stuck.map(StuckDetector.init(settings:))
        drift = config.drift.map { DriftRate(settings: $0, config: config) }
        spike = config.spike.map(SpikeDetector.init(settings:))
        level = config.level.map { LevelDeviation(settings: $0, config: config) }
        negative = config.negativeMargin.map { NegativeWeight(margin: $0) }
    }

    /// `alerting`: an episode is open (a flat run then is not learned as normal).
    mutating func update(time: Double, x: Double, alerting: Bool) -> Strongest {
        var best = Strongest()
        noise.push(x)
        local.push(x)
        if stuck != nil { best.offer(stuck!.update(time: time, x: x, alerting: alerting), .stuck) }
        if drift != nil { best.offer(drift!.update(time: time, x: x, level: noise.median()), .rate) }
        if spike != nil && local.count >= 16 {
            // Only once the short window knows the noise (a jump before that is not a spike).
            best.offer(spike!.update(time: time, x: x, noise: &local), .spike)
        }
        if negative != nil {
            best.offer(negative!.update(x: x, localMedian: local.median(), noise: drift?.diffNoise ?? local.sigma()), .outOfRange)
        }
        if level != nil { best.offer(level!.update(time: time, x: x, noise: &noise), .deviation) }
        return best
    }

    mutating func restartShortTerm() {
        noise.restartShortTerm()
        local.restartShortTerm()
        stuck?.restartShortTerm()
        drift?.restartShortTerm()
        spike?.restartShortTerm()
        level?.restartShortTerm()
    }
}

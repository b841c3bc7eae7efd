/// A soil-moisture probe: spikes, a stuck probe, and the level (falls only by default: soil does not
/// dry 4 points in half an hour, a probe pulled out of the ground does), in that order.
/// Costs: one sorted-window push per reading plus O(1).
struct SoilPipeline: Sendable {
    var noise: NoiseScale
    var spike: SpikeDetector?
    var stuck: StuckDetector?
    var level: LevelDeviation?
    var drift: DriftRate?

    init(config: DetectorConfig) {
        noise = NoiseScale(capacity: config.window, minSpread: config.minSpread)
        spike = config.spike.map(SpikeDetector.init(settings:))
        stuck = config.stuck.map(StuckDetector.init(settings:))
        level = config.level.map { LevelDeviation(settings: $0, config: config) }
        drift = config.drift.map { DriftRate(settings: $0, config: config) }
    }

    /// `alerting`: an episode is open (a flat run then is not learned as normal).
    mutating func update(time: Double, x: Double, alerting: Bool) -> Strongest {
        var best = Strongest()
        noise.push(x)
        if spike != nil { best.offer(spike!.update(time: time, x: x, noise: &noise), .spike) }
        if stuck != nil { best.offer(stuck!.update(time: time, x: x, alerting: alerting), .stuck) }
        if level != nil { best.offer(level!.update(time: time, x: x, noise: &noise), .deviation) }
        if drift != nil { best.offer(drift!.update(time: time, x: x, level: noise.median()), .rate) }
        return best
    }

    mutating func restartShortTerm() {
        noise.restartShortTerm()
        spike?.restartShortTerm()
        stuck?.restartShortTerm()
        level?.restartShortTerm()
        drift?.restartShortTerm()
    }
}

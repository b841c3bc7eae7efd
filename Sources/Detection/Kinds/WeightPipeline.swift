/// A scale: a stuck load cell, step-free drift (leak, theft, creep), and spikes or a level if the
/// settings ask for them (off by default: loading is a step, not an anomaly), in that order.
/// Costs: O(1) per reading with the defaults.
struct WeightPipeline: Sendable {
    var noise: NoiseScale
    var stuck: StuckDetector?
    var drift: DriftRate?
    var spike: SpikeDetector?
    var level: LevelDeviation?

    init(config: DetectorConfig) {
        noise = NoiseScale(capacity: config.window, minSpread: config.minSpread)
        stuck = config.stuck.map(StuckDetector.init(settings:))
        drift = config.drift.map { DriftRate(settings: $0, config: config) }
        spike = config.spike.map(SpikeDetector.init(settings:))
        level = config.level.map { LevelDeviation(settings: $0, config: config) }
    }

    mutating func update(time: Double, x: Double) -> Strongest {
        var best = Strongest()
        noise.push(x)
        if stuck != nil { best.offer(stuck!.update(time: time, x: x), .stuck) }
        if drift != nil { best.offer(drift!.update(x: x, level: noise.median()), .rate) }
        if spike != nil { best.offer(spike!.update(time: time, x: x, noise: &noise), .spike) }
        if level != nil { best.offer(level!.update(time: time, x: x, noise: &noise), .deviation) }
        return best
    }

    mutating func restartShortTerm() {
        noise.restartShortTerm()
        stuck?.restartShortTerm()
        drift?.restartShortTerm()
        spike?.restartShortTerm()
        level?.restartShortTerm()
    }
}

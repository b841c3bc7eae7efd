/// Any other quantity: spikes, the level against the usual level for the time of day, the novelty
/// gate, and drift or stuck if the settings ask for them, in that order. Everything is relative to the
/// series' own noise scale (with a floor, see `NoiseScale`), and counted in samples where the settings
/// say so, so a series sampled every 10 s and one sampled every hour behave alike.
/// Costs: one sorted-window push per reading plus O(1) (O(48) while the level is off).
struct GenericPipeline: Sendable {
    var noise: NoiseScale
    var spike: SpikeDetector?
    var level: LevelDeviation?
    var memory: LevelMemory?
    var drift: DriftRate?
    var stuck: StuckDetector?

    init(config: DetectorConfig) {
        noise = NoiseScale(capacity: config.window, minSpread: config.minSpread)
        spike = config.spike.map(SpikeDetector.init(settings:))
        level = config.level.map { LevelDeviation(settings: $0, config: config) }
        memory = config.level?.novelty.map { LevelMemory(memory: $0, sampleInterval: config.sampleInterval) }
        drift = config.drift.map { DriftRate(settings: $0, config: config) }
        stuck = config.stuck.map(StuckDetector.init(settings:))
    }

    /// `alerting`: an episode is open (the novelty gate only holds back new raises).
    mutating func update(time: Double, x: Double, alerting: Bool) -> Strongest {
        var best = Strongest()
        noise.push(x)
        if spike != nil { best.offer(spike!.update(time: time, x: x, noise: &noise), .spike) }
        if level != nil {
            var s = level!.update(time: time, x: x, noise: &noise)
            let offset = level!.offset
            if memory != nil && offset.isFinite {
                // A level already shown within the memory is not news (checked before noting this one).
                if s > 0 && !alerting
                    && !memory!.isNovel(offset, direction: level!.direction, margin: 0.25 * level!.lowThreshold) {
                    s = 0
                }
                memory!.note(time: time, level: offset)
            }
            best.offer(s, .deviation)
        }
        if drift != nil { best.offer(drift!.update(x: x, level: noise.median()), .rate) }
        if stuck != nil { best.offer(stuck!.update(time: time, x: x), .stuck) }
        return best
    }

    mutating func restartShortTerm() {
        noise.restartShortTerm()
        spike?.restartShortTerm()
        level?.restartShortTerm()
        drift?.restartShortTerm()
        stuck?.restartShortTerm()
    }
}

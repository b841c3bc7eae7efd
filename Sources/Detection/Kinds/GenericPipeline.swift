/// Any other quantity: a burst of outlying readings (`SpikeBurst`), and the level against the same
/// time yesterday (`DayOverDay`), judged by the series' own day-to-day change, its range and its noise;
/// then the older detectors if the settings ask for them (level against a learned baseline with the
/// novelty gate, drift, stuck: all off by default, `stuck` because many quantities are legitimately
/// flat). Everything is counted in readings or relative to the series itself, so a series sampled
/// every 5 s and one sampled every hour behave alike.
/// Costs: a few small sorted-window pushes per reading plus O(1) (O(slots) once per slot of the day).
struct GenericPipeline: Sendable {
    var noise: NoiseScale
    var change: DayOverDay?
    var burst: SpikeBurst?
    var spike: SpikeDetector?
    var level: LevelDeviation?
    var memory: LevelMemory?
    var drift: DriftRate?
    var stuck: StuckDetector?

    init(config: DetectorConfig) {
        noise = NoiseScale(capacity: config.window, minSpread: config.minSpread)
        change = config.dayOverDay.map {
            DayOverDay(sampleInterval: config.sampleInterval, smoothing: $0.smoothing, sigmas: $0.sigmas,
                       rangeShare: $0.rangeShare, noiseSigmas: $0.noiseSigmas)
        }
        burst = config.dayOverDay.map {
            SpikeBurst(count: $0.spikeCount, within: $0.spikeWithin, rangeShare: $0.spikeRangeShare, noiseSigmas: $0.spikeNoiseSigmas)
        }
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
        if change != nil {
            let s = change!.update(time: time, x: x)
            if burst != nil { best.offer(burst!.update(x: x, noise: change!.noise), .spike) }
            best.offer(s, .deviation)
        }
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
        if drift != nil { best.offer(drift!.update(time: time, x: x, level: noise.median()), .rate) }
        if stuck != nil { best.offer(stuck!.update(time: time, x: x), .stuck) }
        return best
    }

    mutating func restartShortTerm() {
        noise.restartShortTerm()
        change?.restartShortTerm()
        burst?.restartShortTerm()
        spike?.restartShortTerm()
        level?.restartShortTerm()
        drift?.restartShortTerm()
        stuck?.restartShortTerm()
    }
}

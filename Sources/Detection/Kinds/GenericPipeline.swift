/// Any other quantity: a burst of outlying readings (`SpikeBurst`), and the level against the same
/// time yesterday (`DayOverDay`), judged by the series' own day-to-day change, its range and its noise,
/// and raised only on a level the series has held normally (scoring 0, no alert open) in none of the
/// last three days (`seen`: a stepwise series returning to one of its usual plateaus at a new hour is
/// not news);
/// then the older detectors if the settings ask for them (level against a learned baseline with the
/// novelty gate, drift, stuck: all off by default, `stuck` because many quantities are legitimately
/// flat). Everything is counted in readings or relative to the series itself, so a series sampled
/// every 5 s and one sampled every hour behave alike.
/// Costs: a few small sorted-window pushes per reading plus O(1) (O(slots) once per slot of the day).
struct GenericPipeline: Sendable {
    var noise: NoiseScale
    var change: DayOverDay?
    /// The levels held normally in the last three days (the novelty gate of `change`'s raises).
    var seen: LevelMemory?
    var burst: SpikeBurst?
    /// `noveltyShare` of the settings: how far outside the levels held in three days a level raises by itself.
    let noveltyShare: Double
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
        seen = config.dayOverDay.map { _ in LevelMemory(memory: 3 * 86_400, sampleInterval: config.sampleInterval) }
        noveltyShare = config.dayOverDay?.noveltyShare ?? 0
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
            var s = change!.update(time: time, x: x)
            if burst != nil { best.offer(burst!.update(x: x, noise: change!.noise, step: change!.step), .spike) }
            // A new raise only on a level not held normally lately; the levels of alerts are not
            // remembered (a fault does not teach the gate that its level is normal).
            let level = change!.level
            let changed = s > 0
            // Within a few grid steps of a level held lately is not news either: a register set by
            // hand walks by a few steps at a time, and two walks within a day add up.
            if changed && !alerting
                && !seen!.isNovel(level, direction: change!.difference, margin: max(0.1 * change!.threshold, change!.stepFloor)) {
                s = 0
            }
            // A level outside all those held normally in three days, by a share of their span.
            let (outside, width) = seen!.outside(level)
            let margin = max(noveltyShare * width, change!.floor)
            let novel = change!.threshold > 0 && outside.isFinite ? ramp(outside, margin, 1.3 * margin) : 0
            if !changed && !alerting && novel == 0 { seen!.note(time: time, level: level) }
            best.offer(max(s, novel), .deviation)
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
        if stuck != nil { best.offer(stuck!.update(time: time, x: x, alerting: alerting), .stuck) }
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

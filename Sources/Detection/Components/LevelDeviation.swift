/// The `deviation` detector for soil, scales and generic channels: a recent level (a quantile of the
/// last `window` readings) compared with a slowly learned baseline, optionally plus the usual offset
/// for the time of day (`DailyPattern`).
///
/// Promises: silent until the baseline has warmed up (`warmup` seconds, or `warmupSamples` readings
/// with `warmup` as an upper bound); a low quantile for rises (high for falls) means the level must
/// have moved for most of the window; thresholds are at least `sigmaLow`/`sigmaHigh` noise scales.
/// The baseline follows the level with `baselineTimeConstant`, 20× slower while the level is off, so
/// an anomaly is not absorbed but a deliberate change is learned within days. Costs: O(log window)
/// per reading (sorted window), O(1) else; the window is allocated at init. Persisted: baseline,
/// when it started, the warm-up count and the daily pattern.
struct LevelDeviation: Sendable {
    typealias Settings = LevelSettings
    let settings: Settings
    let samples: Int
    private var recent: SortedWindow
    private let positions: (SortedWindow.Position, SortedWindow.Position, SortedWindow.Position)
    private let isMedian: Bool
    private let rate: Double
    private let maxGap: Double
    var daily: DailyPattern?

    var baseline = Double.nan
    var baselineSince = Double.nan
    var baselineCount = 0
    private(set) var lastTime = Double.nan

    // The last evaluation, for messages and for `LevelMemory`.
    private(set) var center = Double.nan
    private(set) var up = 0.0
    /// The low threshold of the last evaluation (after the noise floors).
    private(set) var lowThreshold = 0.0
    private(set) var down = 0.0
    private(set) var levelValue = Double.nan
    private(set) var expected = Double.nan
    /// The level is beyond the low threshold (either direction), whether or not that direction alerts.
    private(set) var deviating = false
    /// Direction of the last scored deviation: +1 up, −1 down.
    private(set) var direction = 0.0
    /// How far the level lies outside what is usual now (baseline plus the time of day's offsets, the
    /// neighbouring slots allowed): positive above, negative below, 0 inside; NaN until trusted.
    private(set) var offset = Double.nan

    init(settings: Settings, config: DetectorConfig) {
        self.settings = settings
        samples = config.samples(count: settings.windowSamples, span: settings.window, minimum: 3)
        recent = SortedWindow(capacity: samples)
        positions = (
            SortedWindow.Position(0.5, count: samples), SortedWindow.Position(settings.quantile, count: samples),
            SortedWindow.Position(1 - settings.quantile, count: samples))
        isMedian = settings.quantile == 0.5
        rate = 1 / max(settings.baselineTimeConstant, 1e-9)
        maxGap = config.maxGap
        daily = settings.daily ? DailyPattern(settings: settings) : nil
    }

    /// True once the baseline may be compared with.
    func trusted(at time: Double) -> Bool {
        guard baseline.isFinite else { return false }
        if let n = settings.warmupSamples, baselineCount >= n { return true }
        return time - baselineSince >= settings.warmup
    }

    /// Feeds a plausible reading; returns the score in [0, 1].
    mutating func update(time: Double, x: Double, noise: inout NoiseScale) -> Double {
        defer { lastTime = time }
        recent.push(x)
        guard recent.count * 2 >= samples else { return 0 }
        let q = recent.quantiles(positions.0, positions.1, positions.2)
        let c = q.0
        center = c
        if baseline.isNaN {
            baseline = c
            baselineSince = time
            baselineCount = 0
        }
        let isTrusted = trusted(at: time)
        var inUse = false
        var seasonal = 0.0
        var expectedHi = baseline
        var expectedLo = baseline
        if daily != nil {
            inUse = daily!.advance(to: time)
            if inUse {
                seasonal = daily!.slotOffset
                expectedHi += daily!.slotHigh
                expectedLo += daily!.slotLow
            }
        }
        var score = 0.0
        deviating = false
        offset = .nan
        if isTrusted {
            var lo = settings.low
            var hi = settings.high
            if settings.sigmaLow > 0 || settings.sigmaHigh > 0 {
                let sigma = noise.sigma()
                lo = max(lo, settings.sigmaLow * sigma)
                hi = max(hi, settings.sigmaHigh * sigma, lo * 1.5)
            }
            lowThreshold = lo
            let upLevel = isMedian ? c : q.1
            let downLevel = isMedian ? c : q.2
            up = upLevel - expectedHi
            down = expectedLo - downLevel
            if settings.rises && up > lo {
                deviating = true
                levelValue = upLevel
                expected = expectedHi
                direction = 1
                score = ramp(up, lo, hi)
            }
            if settings.falls && down > lo {
                deviating = true
                let s = ramp(down, lo, hi)
                if s > score || !(settings.rises && up > lo) {
                    levelValue = downLevel
                    expected = expectedLo
                    direction = -1
                }
                score = max(score, s)
            }
            if up > lo || down > lo { deviating = true }
            offset = up > 0 ? up : (down > 0 ? -down : 0)
        }
        // Learn: a running mean during warm-up, then an exponential average with the time constant,
        // 20× slower while the level is off; with a daily pattern in use, the time of day's offset is
        // taken out first.
        if !isTrusted {
            baselineCount += 1
            baseline += (c - baseline) / Double(baselineCount)
        } else if lastTime.isFinite && time > lastTime {
            let dt = time - lastTime
            var alpha = min(1, dt * rate)
            if deviating { alpha *= 0.05 }
            baseline += alpha * (c - seasonal - baseline)
            if daily != nil {
                daily!.learn(offset: c - baseline, step: min(dt, maxGap), slowed: deviating && inUse)
            }
            if let n = settings.warmupSamples, baselineCount < n { baselineCount += 1 }
        }
        return score
    }

    /// Puts back a persisted baseline (the windows are left as they are).
    mutating func restoreBaseline(_ value: Double, since: Double, count: Int) {
        baseline = value
        baselineSince = since
        baselineCount = count
    }

    /// After a gap: the recent window restarts (the baseline is kept).
    mutating func restartShortTerm() { recent.removeAll() }
}

/// The `deviation` detector of a cold room: the level of the room (a low quantile of its recent
/// readings for rises, a high one for falls) against a slowly learned baseline, with readings that
/// a defrost explains kept out (`DefrostSchedule` says which).
///
/// Promises: a defrost that the schedule expects never moves the level, however long it lasts within
/// its allowance; an excursion outside any expected defrost is judged on the short window (`window`,
/// 20 min by default: a door left open alerts in about a quarter of an hour); while no schedule is
/// known, on a window twice as long (conservative). Thresholds are at least `sigmaLow`/`sigmaHigh`
/// noise scales, so a room that swings more needs a larger move. Silent until the baseline has warmed
/// up. The baseline learns like `LevelDeviation`'s (20× slower while the level is off) and only from
/// readings kept in. Costs: two sorted-window pushes, O(log window) each; windows allocated at init.
struct DefrostAwareLevel: Sendable {
    typealias Settings = LevelSettings
    let settings: Settings
    let shortSamples: Int
    let longSamples: Int
    private var short: SortedWindow
    private var long: SortedWindow
    private let rate: Double

    var baseline = Double.nan
    var baselineSince = Double.nan
    var baselineCount = 0
    private var lastLearned = Double.nan

    private(set) var up = 0.0
    private(set) var down = 0.0
    private(set) var levelValue = Double.nan
    private(set) var expected = Double.nan
    /// The level is beyond the low threshold (either direction) on the last reading kept in.
    private(set) var deviating = false

    init(settings: Settings, config: DetectorConfig) {
        self.settings = settings
        shortSamples = config.samples(count: settings.windowSamples, span: settings.window, minimum: 4)
        longSamples = config.samples(count: settings.windowSamples.map { 2 * $0 }, span: 2 * settings.window, minimum: 6)
        short = SortedWindow(capacity: shortSamples)
        long = SortedWindow(capacity: longSamples)
        rate = 1 / max(settings.baselineTimeConstant, 1e-9)
    }

    func trusted(at time: Double) -> Bool {
        baseline.isFinite && time - baselineSince >= settings.warmup
    }

    /// Feeds a plausible reading. `explained`: a defrost explains it (kept out); `known`: a defrost
    /// schedule is known (short window); `sigma`: the room's usual noise scale. Returns the score in [0, 1].
    mutating func update(time: Double, x: Double, explained: Bool, known: Bool, sigma: Double) -> Double {
        guard !explained else { return 0 }
        short.push(x)
        long.push(x)
        let window = known ? short : long
        let samples = known ? shortSamples : longSamples
        guard long.count * 2 >= longSamples, window.count * 2 >= samples else { return 0 }
        let center = long.median
        if baseline.isNaN {
            baseline = center
            baselineSince = time
            baselineCount = 0
        }
        var score = 0.0
        let isTrusted = trusted(at: time)
        if isTrusted {
            let lo = max(settings.low, settings.sigmaLow * sigma)
            let hi = max(settings.high, settings.sigmaHigh * sigma, lo * 1.5)
            let q = window.quantiles(settings.quantile, 1 - settings.quantile, 0.5)
            up = q.0 - baseline
            down = baseline - q.1
            if settings.rises && up > lo {
                score = ramp(up, lo, hi)
                levelValue = q.0
                expected = baseline
            }
            if settings.falls && down > lo {
                let s = ramp(down, lo, hi)
                if s > score { levelValue = q.1; expected = baseline }
                score = max(score, s)
            }
            deviating = up > lo || down > lo
        } else {
            deviating = false
        }
        if !isTrusted {
            baselineCount += 1
            baseline += (center - baseline) / Double(baselineCount)
        } else if lastLearned.isFinite && time > lastLearned {
            var alpha = min(1, (time - lastLearned) * rate)
            if deviating { alpha *= 0.05 }
            baseline += alpha * (center - baseline)
        }
        lastLearned = time
        return score
    }

    mutating func restartShortTerm() {
        short.removeAll()
        long.removeAll()
    }
}

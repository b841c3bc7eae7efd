/// The `stuck` detector: the reading has not moved by more than `tolerance` for `duration` seconds.
///
/// Promises:
/// - a coarse sensor (more than 30 % of consecutive readings equal, learned while it behaves) sits
///   still legitimately, so its run must also be *improbable for a live sensor*: as many readings as
///   make a run that long a one-in-a-million event (`liveRunChance`) given how often it repeats
///   itself, or `quantizedFactor` times `duration`, whichever comes first. Counted in readings, not
///   time: ten minutes of equal readings every 15 s is impossible for a flickering load cell, while
///   two hours of equal readings every 5 minutes may not be;
/// - until it has seen `learningReadings` readings it does not know how coarse the sensor is and
///   treats it as coarse;
/// - a sensor that has shown, while behaving, flat runs of a given length never alerts on a run
///   shorter than twice the longest of them (capped at eight times `duration`), so a legitimately flat
///   series learns to be left alone. A run during which the channel was alerting (a probe's cable
///   cut to exactly 0 % for hours) is a fault, not a normal run: it teaches nothing.
///
/// It is on only when the kind's profile asks for it (off for generic channels). O(1), no allocation.
struct StuckDetector: Sendable {
    typealias Settings = StuckSettings
    let settings: Settings
    /// A coarse sensor's run must be at most this likely for a live sensor (per run).
    static let liveRunChance = 1e-6
    /// Readings before the share of equal readings is trusted.
    static let learningReadings = 50
    private(set) var reference = Double.nan
    private(set) var runStart = Double.nan
    /// The chance that a live coarse sensor repeats itself as often as the current run has.
    private(set) var runChance = 1.0
    private var runSawAlert = false
    /// Learned share of consecutive equal readings (how coarse the sensor is); persisted.
    var zeroDiffShare = 0.0
    /// Readings the share was learned from (capped; a restored share counts as learned).
    private(set) var learned = 0
    /// Longest flat run that ended by itself without alerting; persisted.
    var longestNormalRun = 0.0
    private var previous = Double.nan

    init(settings: Settings) { self.settings = settings }

    /// True while the sensor is (or may be) coarse enough to repeat itself.
    var isCoarse: Bool { learned < Self.learningReadings || zeroDiffShare > 0.3 }

    /// Seconds a run must last to alert (at least; a coarse sensor's run must also be improbable).
    var required: Double {
        max(settings.duration, min(2 * longestNormalRun, 8 * settings.duration))
    }

    /// Seconds after which a coarse sensor's run alerts whatever its readings count.
    var coarseRequired: Double { max(required, settings.duration * settings.quantizedFactor) }

    /// The chance per reading that a live sensor stays on its step, at most. It stays on its most
    /// likely step with some chance m; the share p of equal consecutive readings is the sum of the
    /// squares of the steps' chances, so m² ≤ p ≤ m: √p bounds m from above.
    var repeatChance: Double { min(0.999, zeroDiffShare.squareRoot()) }

    /// Feeds a plausible reading; `alerting`: the channel has an episode open. Returns the score in [0, 1].
    mutating func update(time: Double, x: Double, alerting: Bool = false) -> Double {
        let need = required
        var elapsed = 0.0
        var score = 0.0
        if abs(x - reference) <= settings.tolerance {                // the run continues (never for a NaN reference)
            elapsed = time - runStart
            runChance *= repeatChance
            if alerting { runSawAlert = true }
            if need > 0 && elapsed > 0 {
                var done = elapsed >= need
                if isCoarse {
                    done = done && (elapsed >= coarseRequired || (learned >= Self.learningReadings && runChance <= Self.liveRunChance))
                }
                score = done ? 1 : 0.5 * min(1, elapsed / need)
            }
        } else {
            let ended = time - runStart
            if ended.isFinite && ended < need && !runSawAlert { longestNormalRun = max(longestNormalRun, ended) }
            reference = x
            runStart = time
            runChance = 1
            runSawAlert = alerting
        }
        if previous.isFinite && elapsed < 0.5 * need && !alerting {
            let zero = abs(x - previous) <= settings.tolerance ? 1.0 : 0.0
            learned = min(learned + 1, 500)
            zeroDiffShare += (zero - zeroDiffShare) / Double(learned)   // a mean, then a 500-reading average
        }
        previous = x
        return score
    }

    /// Puts back what was learned about the sensor (after a restore has replayed its readings).
    mutating func restoreLearned(zeroDiffShare: Double, longestRun: Double) {
        self.zeroDiffShare = zeroDiffShare.isFinite ? zeroDiffShare : 0
        learned = 500
        longestNormalRun = longestRun.isFinite ? max(0, longestRun) : 0
    }

    mutating func restartShortTerm() {
        reference = .nan
        runStart = .nan
        runChance = 1
        runSawAlert = false
        previous = .nan
    }
}

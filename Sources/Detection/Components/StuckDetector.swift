/// The `stuck` detector: the reading has not moved by more than `tolerance` for `duration` seconds.
///
/// Promises: a live sensor that is coarse (more than 30 % of consecutive readings equal, learned while
/// it behaves) gets `quantizedFactor` times longer; and a sensor that has shown, while behaving, flat
/// runs of a given length never alerts on a run shorter than twice the longest of them (capped at
/// eight times `duration`), so a legitimately flat series learns to be left alone. It is on only when
/// the kind's profile asks for it (off for generic channels). O(1), no allocation.
struct StuckDetector: Sendable {
    typealias Settings = StuckSettings
    let settings: Settings
    private(set) var reference = Double.nan
    private(set) var runStart = Double.nan
    /// Learned share of consecutive equal readings (how coarse the sensor is); persisted.
    var zeroDiffShare = 0.0
    /// Longest flat run that ended by itself without alerting; persisted.
    var longestNormalRun = 0.0
    private var previous = Double.nan

    init(settings: Settings) { self.settings = settings }

    /// Seconds a run must last to alert.
    var required: Double {
        let base = settings.duration * (zeroDiffShare > 0.3 ? settings.quantizedFactor : 1)
        return max(base, min(2 * longestNormalRun, 8 * settings.duration))
    }

    /// Feeds a plausible reading; returns the score in [0, 1].
    mutating func update(time: Double, x: Double) -> Double {
        let need = required
        var elapsed = 0.0
        var score = 0.0
        if abs(x - reference) <= settings.tolerance {                // the run continues (never for a NaN reference)
            elapsed = time - runStart
            if need > 0 && elapsed > 0 { score = elapsed >= need ? 1 : 0.5 * elapsed / need }
        } else {
            let ended = time - runStart
            if ended.isFinite && ended < need { longestNormalRun = max(longestNormalRun, ended) }
            reference = x
            runStart = time
        }
        if previous.isFinite && elapsed < 0.5 * need {
            let zero = abs(x - previous) <= settings.tolerance ? 1.0 : 0.0
            zeroDiffShare += (zero - zeroDiffShare) * 0.002          // a 500-reading average
        }
        previous = x
        return score
    }

    /// Puts back what was learned about the sensor (after a restore has replayed its readings).
    mutating func restoreLearned(zeroDiffShare: Double, longestRun: Double) {
        self.zeroDiffShare = zeroDiffShare.isFinite ? zeroDiffShare : 0
        longestNormalRun = longestRun.isFinite ? max(0, longestRun) : 0
    }

    mutating func restartShortTerm() {
        reference = .nan
        runStart = .nan
        previous = .nan
    }
}

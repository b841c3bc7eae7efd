/// The compressor-failure detector of a cold room: a sustained rise of the room's lower envelope,
/// outside any defrost, projected to the alert limit (`RiseSettings.limit(baseline:)`).
///
/// The lower envelope is the minimum of the last `envelope` seconds (at least two readings): a door
/// burst shorter than that does not move it. The rise must be steady over `span` (at least four
/// readings): the envelope has risen in both halves of it by at least a quarter of the total each, it
/// stands above the baseline by more than 2 noise scales (compressor cycling stays inside), and the
/// straight-line projection reaches the limit within `horizon` (score 1), fading to 0 at twice that;
/// and the minimum of the envelope window lies in its older half (a door burst that is recovering
/// has its minimum at the newest reading, a warming room at the oldest).
/// The envelope must also clear `onset` (the room's floor plus the excursion threshold that
/// `DefrostSchedule` uses): below it the rise is compressor cycling, or the first minutes of a heater
/// that the schedule has not yet been asked to explain.
/// Readings that a defrost explains only feed the envelope. Promises: no score before a baseline
/// exists. Costs: O(envelope readings ≤ 64) per reading; two rings allocated at init; nothing persisted.
struct RiseProjection: Sendable {
    typealias Settings = RiseSettings
    let settings: Settings
    private var window: [Double]
    private var windowNext = 0
    private var windowCount = 0
    private var envelopes: [Double]
    private var times: [Double]
    private var next = 0
    private var count = 0

    /// The last projection, for the message.
    private(set) var ratePerMinute = Double.nan
    private(set) var minutesToLimit = Double.nan
    private(set) var limit = Double.nan

    init(settings: Settings, sampleInterval: Double) {
        self.settings = settings
        let interval = max(sampleInterval, 1e-3)
        window = [Double](repeating: 0, count: max(2, min(64, Int((settings.envelope / interval).rounded(.up)))))
        let span = max(settings.span, 4 * interval)
        let n = max(5, min(129, Int((span / interval).rounded()) + 1))
        envelopes = [Double](repeating: 0, count: n)
        times = [Double](repeating: 0, count: n)
    }

    /// Feeds a plausible reading; returns the score in [0, 1].
    mutating func update(time: Double, x: Double, baseline: Double, sigma: Double, onset: Double = -.infinity, explained: Bool) -> Double {
        window[windowNext] = x
        windowNext = windowNext + 1 == window.count ? 0 : windowNext + 1
        windowCount = min(windowCount + 1, window.count)
        // The minimum, and whether it lies in the newer half of the window (oldest occurrence on ties):
        // a rising room has its minimum at the old end; a door burst recovering has it at the new end.
        var e = Double.infinity
        var minAge = 0
        for age in 0..<windowCount {
            var i = windowNext - 1 - age
            if i < 0 { i += window.count }
            if window[i] <= e { e = window[i]; minAge = age }
        }
        let falling = 2 * minAge < windowCount - 1
        envelopes[next] = e
        times[next] = time
        next = next + 1 == envelopes.count ? 0 : next + 1
        count = min(count + 1, envelopes.count)
        guard !explained, !falling, baseline.isFinite, count == envelopes.count else { return 0 }
        let oldest = next                                        // full ring: the slot about to be overwritten
        let middle = (next + count / 2) % count
        let total = e - envelopes[oldest]
        let span = time - times[oldest]
        guard total > 0.3, span > 0 else { return 0 }
        let firstHalf = envelopes[middle] - envelopes[oldest]
        let secondHalf = e - envelopes[middle]
        guard firstHalf >= 0.25 * total, secondHalf >= 0.25 * total, e > baseline + max(1.0, 2.5 * sigma), !(e <= onset) else { return 0 }
        let rate = total / span
        let l = settings.limit(baseline: baseline)
        let seconds = (l - e) / rate
        ratePerMinute = rate * 60
        minutesToLimit = max(0, seconds / 60)
        limit = l
        return ramp(2 * settings.horizon - seconds, 0, settings.horizon)
    }

    mutating func restartShortTerm() {
        windowCount = 0
        windowNext = 0
        count = 0
        next = 0
    }
}

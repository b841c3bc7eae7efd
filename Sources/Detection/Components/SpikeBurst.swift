/// The `spike` detector of a generic channel: single readings far outside what the series showed in
/// its last `capacity` readings that come straight back, several within a few readings (a burst of
/// glitches), counted in readings so any sampling rate behaves alike.
///
/// A reading is an outlier when it lies beyond the window's `tail` and `1 - tail` quantiles by
/// `rangeShare` of the distance between them (and by `noiseSigmas` noises and 2.5 resolution steps of
/// the caller's: a reading one grid step off on a quantised, nearly flat series is dither; the noise
/// counted for no more than the window's tails show), while the readings before and after it do not
/// and it stands that far from both of them (a level that moves and stays, or a rise edging out of a
/// flat stretch, is not a spike; the verdict comes one reading later). Promises: one outlier never alerts; `count` outliers within `within`
/// readings score 1 for `hold` readings after the newest, then 0 (so the alert ends with the burst).
/// Costs: one sorted-window push per reading plus O(count); the window allocated at init.
struct SpikeBurst: Sendable {
    let count: Int
    let within: Int
    let hold: Int
    let tail: Double
    let rangeShare: Double
    let noiseSigmas: Double
    private var window: SortedWindow
    private var positions: [Int]
    private var next = 0
    private var reading = 0
    private var lastBurst = Int.min / 2
    /// Whether the previous two readings were beyond the limits, their values, and the previous one's margin.
    private var previousBeyond = false
    private var beforePreviousBeyond = false
    private var previousX = Double.nan
    private var beforePreviousX = Double.nan
    private var previousMargin = 0.0

    init(capacity: Int = 128, count: Int = 2, within: Int = 10, hold: Int = 3, tail: Double = 0.03,
         rangeShare: Double = 0.5, noiseSigmas: Double = 6) {
        self.count = max(1, count)
        self.within = within
        self.hold = hold
        self.tail = tail
        self.rangeShare = rangeShare
        self.noiseSigmas = noiseSigmas
        window = SortedWindow(capacity: capacity)
        positions = [Int](repeating: Int.min / 2, count: self.count)
    }

    /// Feeds a plausible reading, the series' reading noise and its resolution step; returns the score in [0, 1].
    mutating func update(x: Double, noise: Double, step: Double = 0) -> Double {
        reading += 1
        var beyond = false
        var margin = 0.0
        if window.count >= window.capacity / 2 {
            let (lo, hi, _) = window.quantiles(tail, 1 - tail, 0.5)
            let (q1, q3, _) = window.quantiles(0.25, 0.75, 0.5)
            // The reading noise counts for no more than the window's tails show: a Gaussian's 3rd–25th
            // percentile gap is 1.2 σ, and a series whose consecutive readings are as spread as the whole
            // window (a pump cycle faster than the polls) has short tails: its band already holds them.
            let tailNoise = (q1 - lo + hi - q3) / 2 / 1.2
            margin = max(rangeShare * (hi - lo), noiseSigmas * min(noise, tailNoise), 2.5 * step)
            // A series that has not moved at all yet (margin 0): any reading off its value is beyond.
            beyond = x > hi + margin || x < lo - margin
        }
        // The previous reading was an outlier that jumped away from both its neighbours by the margin
        // and came straight back (a series leaving a flat stretch slowly, at dawn, edges out of the
        // band a reading at a time: each such reading is close to its neighbours).
        if previousBeyond && !beforePreviousBeyond && !beyond
            && abs(previousX - x) > previousMargin && !(abs(previousX - beforePreviousX) <= previousMargin) {
            positions[next] = reading - 1
            next = next + 1 == count ? 0 : next + 1
            if reading - 1 - positions[next] < within { lastBurst = reading - 1 }   // positions[next]: the oldest kept
        }
        beforePreviousBeyond = previousBeyond
        previousBeyond = beyond
        beforePreviousX = previousX
        previousX = x
        previousMargin = margin
        window.push(x)
        return reading - lastBurst <= hold ? 1 : 0
    }

    mutating func restartShortTerm() {
        for i in positions.indices { positions[i] = Int.min / 2 }
        lastBurst = Int.min / 2
        previousBeyond = false
        beforePreviousBeyond = false
        previousX = .nan
        beforePreviousX = .nan
    }
}

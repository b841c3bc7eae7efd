/// The `out_of_range` check of a scale: a reading below zero by more than an empty platform shows.
///
/// An empty scale reads around zero, a little below when the load cell's zero wanders with the
/// temperature. So the limit is the lowest level the scale has shown while behaving (the median of
/// the last 32 readings, never above 0), minus `margin` and `noiseSigmas` reading-to-reading noise
/// scales. Levels are learned only once no reading in the last 32 was below the limit, so a lost tare
/// is never learned as "empty". Promises: a live, empty scale never alerts; a reading below the
/// learned zero by the margin alerts at once. O(1), no allocation; not persisted (after a restart the
/// zero is 0 again, the strictest limit the margin allows).
struct NegativeWeight: Sendable {
    let margin: Double
    let noiseSigmas: Double
    private(set) var floor = 0.0
    private var quiet = 0

    init(margin: Double, noiseSigmas: Double = 4) {
        self.margin = margin
        self.noiseSigmas = noiseSigmas
    }

    /// `localMedian`: the median of the last readings; `noise`: the reading-to-reading noise.
    mutating func update(x: Double, localMedian: Double, noise: Double) -> Double {
        let limit = floor - max(margin, noiseSigmas * noise)
        if x < limit {
            quiet = 32
            return 1
        }
        if quiet > 0 { quiet -= 1 } else if localMedian.isFinite { floor = min(floor, localMedian) }
        return 0
    }
}

/// The novelty gate of a generic channel: remembers which levels the series has shown recently, so a
/// deviation to a level it already showed within `memory` seconds does not raise a new alert (a pump
/// that runs now and then, a second visit of the same plateau). An open alert is not affected. Levels
/// are remembered as offsets from what is usual at the time (`LevelDeviation.offset`), so a daily cycle
/// that the daily pattern explains does not make the same level at an unusual hour look known.
///
/// Promises: a level is "shown" once it was the recent level in an earlier bucket (the current one
/// does not count, so the onset of a new level is always novel); a level is novel when it lies beyond
/// every remembered one by more than `margin` in its direction. Costs: O(1) per reading plus an O(48)
/// scan when asked; 2 × 48 Doubles allocated at init. Not persisted (after a restart everything is novel,
/// which can only add an alert, never hide one).
struct LevelMemory: Sendable {
    static let buckets = 48
    let bucketLength: Double
    private var low: [Double]
    private var high: [Double]
    private var current = 0
    private var currentEnd = -Double.infinity
    /// The lowest and highest level of every bucket but the current one (recomputed when a bucket
    /// begins: they cannot change in between). +∞ / −∞ while nothing is remembered.
    private(set) var envelopeLow = Double.infinity
    private(set) var envelopeHigh = -Double.infinity

    init(memory: Double, sampleInterval: Double) {
        bucketLength = max(memory / Double(Self.buckets), sampleInterval)
        low = [Double](repeating: .infinity, count: Self.buckets)
        high = [Double](repeating: -.infinity, count: Self.buckets)
    }

    /// Records the level at `time`.
    mutating func note(time: Double, level: Double) {
        guard level.isFinite else { return }
        if time >= currentEnd || time < currentEnd - 2 * bucketLength {
            current = current + 1 == Self.buckets ? 0 : current + 1
            low[current] = .infinity
            high[current] = -.infinity
            currentEnd = ((time / bucketLength).rounded(.down) + 1) * bucketLength
            envelopeLow = low.min() ?? .infinity
            envelopeHigh = high.max() ?? -.infinity
        }
        low[current] = min(low[current], level)
        high[current] = max(high[current], level)
    }

    /// How far `level` lies outside the levels of the earlier buckets (0 inside; +∞ when none are
    /// remembered), and the width of those levels.
    func outside(_ level: Double) -> (distance: Double, width: Double) {
        guard envelopeLow <= envelopeHigh else { return (.infinity, 0) }
        return (max(0, level - envelopeHigh, envelopeLow - level), envelopeHigh - envelopeLow)
    }

    /// True if `level` is beyond every earlier bucket's levels by more than `margin` (upwards for
    /// `direction` > 0, downwards otherwise).
    func isNovel(_ level: Double, direction: Double, margin: Double) -> Bool {
        for i in 0..<Self.buckets where i != current {
            if direction > 0 ? high[i] >= level - margin : low[i] <= level + margin { return false }
        }
        return true
    }
}

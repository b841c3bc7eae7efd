/// Settings for the drift (rate) detector: the net change over a span, counting only the small
/// sample-to-sample changes. Steps bigger than `step` (a sack put on or taken off a scale, an irrigation
/// pulse) are left out, so only a steady slide remains: a leak, a theft, load-cell creep.
/// Thresholds are the larger of an absolute value and a fraction of the current level.
public struct DriftSettings: Sendable, Codable, Hashable {
    /// A change between consecutive samples larger than this is a step and is not counted.
    public var step: Double
    /// Short span (seconds) and its thresholds: fast slides (a leak, someone scooping).
    public var fastSpan: Double
    public var fastLow: Double
    public var fastHigh: Double
    public var fastLowFraction: Double
    public var fastHighFraction: Double
    /// Long span (seconds, at most `window` samples) and its thresholds: creep.
    public var slowSpan: Double
    public var slowLow: Double
    public var slowHigh: Double
    public var slowLowFraction: Double
    public var slowHighFraction: Double

    public init(
        step: Double,
        fastSpan: Double, fastLow: Double, fastHigh: Double, fastLowFraction: Double = 0, fastHighFraction: Double = 0,
        slowSpan: Double, slowLow: Double, slowHigh: Double, slowLowFraction: Double = 0, slowHighFraction: Double = 0
    ) {
        self.step = step
        self.fastSpan = fastSpan
        self.fastLow = fastLow
        self.fastHigh = fastHigh
        self.fastLowFraction = fastLowFraction
        self.fastHighFraction = fastHighFraction
        self.slowSpan = slowSpan
        self.slowLow = slowLow
        self.slowHigh = slowHigh
        self.slowLowFraction = slowLowFraction
        self.slowHighFraction = slowHighFraction
    }
}

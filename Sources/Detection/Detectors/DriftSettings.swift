/// Settings for the drift (rate) detector (`DriftRate`): a steady slide that is not a step. What a
/// step is comes from the channel's own reading-to-reading noise (`stepSigmas`), optionally capped by
/// an absolute `step`; slow slides are judged on the sum of the non-step changes over `slowSpan`,
/// slides too fast for that on runs of same-sign steps longer than `eventSpan`.
/// Thresholds are the larger of an absolute value, a fraction of the current level and (slow) the noise.
public struct DriftSettings: Sendable, Codable, Hashable {
    /// A change between consecutive readings larger than this is always a step. nil = noise only.
    public var step: Double?
    /// A change larger than this many reading-to-reading noise scales is a step (a sack, a pulse).
    public var stepSigmas: Double
    /// The slow sum must exceed this many noise scales × √(flat stretches in the span).
    public var noiseSigmas: Double
    /// Loading takes at most this long (seconds): a run of same-sign steps lasting longer is a slide.
    public var eventSpan: Double
    /// ... and has at least this many steps.
    public var runSteps: Int
    /// Thresholds on a run's net change (absolute, and as a share of the level).
    public var fastLow: Double
    public var fastHigh: Double
    public var fastLowFraction: Double
    public var fastHighFraction: Double
    /// Span (seconds) of the slow sum and its thresholds: creep, leaks.
    public var slowSpan: Double
    public var slowLow: Double
    public var slowHigh: Double
    public var slowLowFraction: Double
    public var slowHighFraction: Double

    public init(
        step: Double? = nil, stepSigmas: Double = 6, noiseSigmas: Double = 5, eventSpan: Double = 900, runSteps: Int = 4,
        fastLow: Double = 0, fastHigh: Double = 0, fastLowFraction: Double = 0, fastHighFraction: Double = 0,
        slowSpan: Double, slowLow: Double = 0, slowHigh: Double = 0, slowLowFraction: Double = 0, slowHighFraction: Double = 0
    ) {
        self.step = step
        self.stepSigmas = stepSigmas
        self.noiseSigmas = noiseSigmas
        self.eventSpan = eventSpan
        self.runSteps = max(1, runSteps)
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

/// Settings for a generic channel's detectors (`DayOverDay`, `SpikeBurst`): the level against the same
/// time yesterday, and bursts of outlying readings, all relative to the series itself.
public struct DayOverDaySettings: Sendable, Codable, Hashable {
    /// Readings in the median that forms the level.
    public var smoothing: Int
    /// The level alerts when it differs from yesterday's by the larger of `sigmas` usual differences,
    /// `rangeShare` of yesterday's range of levels and `noiseSigmas` reading noises.
    public var sigmas: Double
    public var rangeShare: Double
    public var noiseSigmas: Double
    /// The level also alerts, whatever yesterday did, when it lies outside every level the series held
    /// normally in the last three days by `noveltyShare` of their span (and the noise and step floors
    /// of the day-over-day thresholds): a series whose days differ at random (modes, a wander, the
    /// weather) has large day-to-day differences, but a level shift still takes it where it has not been.
    public var noveltyShare: Double
    /// A reading is an outlier beyond the last 128 readings' 3rd and 97th percentiles by the larger of
    /// `spikeRangeShare` of the distance between them and `spikeNoiseSigmas` noises, when its neighbours
    /// are not; `spikeCount` of them within `spikeWithin` readings alert.
    public var spikeNoiseSigmas: Double
    public var spikeRangeShare: Double
    public var spikeCount: Int
    public var spikeWithin: Int

    public init(
        smoothing: Int = 5, sigmas: Double = 4.5, rangeShare: Double = 0.5, noiseSigmas: Double = 3, noveltyShare: Double = 0.5,
        spikeNoiseSigmas: Double = 6, spikeRangeShare: Double = 0.5, spikeCount: Int = 2, spikeWithin: Int = 10
    ) {
        self.smoothing = max(1, smoothing)
        self.sigmas = sigmas
        self.rangeShare = rangeShare
        self.noiseSigmas = noiseSigmas
        self.noveltyShare = noveltyShare
        self.spikeNoiseSigmas = spikeNoiseSigmas
        self.spikeRangeShare = spikeRangeShare
        self.spikeCount = max(1, spikeCount)
        self.spikeWithin = max(1, spikeWithin)
    }
}

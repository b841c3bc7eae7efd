/// Settings for the rise projection of a cold room (`RiseProjection`): a sustained rise of the
/// room's lower envelope, outside any defrost, projected to the alert limit.
///
/// The limit: `limit` when set (the farmer's threshold, e.g. 8 °C); otherwise 8 °C
/// (`defaultLimit`) moved so that it lies between `minAboveBaseline` and `maxAboveBaseline` above the
/// learned baseline. A chiller at 3.5 °C gets 8 °C; a freezer at −20 °C gets −15 °C (8 °C would be
/// reached far too late to save anything); a room kept at 12 °C gets 15 °C (8 °C is below its normal).
public struct RiseSettings: Sendable, Codable, Hashable {
    /// An explicit alert limit in the channel's unit; nil = relative to the baseline, as above.
    public var limit: Double?
    public var defaultLimit: Double
    public var minAboveBaseline: Double
    public var maxAboveBaseline: Double
    /// Raise when the projection says the limit is this many seconds away or less.
    public var horizon: Double
    /// Span of the lower envelope (a running minimum): longer than a door burst.
    public var envelope: Double
    /// Span over which the envelope must have risen steadily (both halves rising).
    public var span: Double

    public init(
        limit: Double? = nil, defaultLimit: Double = 8, minAboveBaseline: Double = 3, maxAboveBaseline: Double = 5,
        horizon: Double = 1200, envelope: Double = 300, span: Double = 600
    ) {
        self.limit = limit
        self.defaultLimit = defaultLimit
        self.minAboveBaseline = minAboveBaseline
        self.maxAboveBaseline = max(minAboveBaseline, maxAboveBaseline)
        self.horizon = horizon
        self.envelope = envelope
        self.span = span
    }

    /// The alert limit for a room whose learned baseline is `baseline`.
    public func limit(baseline: Double) -> Double {
        if let limit { return limit }
        return min(max(defaultLimit, baseline + minAboveBaseline), baseline + maxAboveBaseline)
    }
}

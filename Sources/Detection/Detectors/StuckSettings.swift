/// Settings for the stuck detector: the reading has not moved by more than `tolerance` for `duration` seconds.
/// A sensor whose readings are coarse (more than 30 % of consecutive readings equal, learned while it
/// behaves) gets `quantizedFactor` times longer, since a coarse sensor can legitimately sit still.
public struct StuckSettings: Sendable, Codable, Hashable {
    public var duration: Double
    public var tolerance: Double
    public var quantizedFactor: Double

    public init(duration: Double, tolerance: Double = 0, quantizedFactor: Double = 4) {
        self.duration = duration
        self.tolerance = tolerance
        self.quantizedFactor = quantizedFactor
    }
}

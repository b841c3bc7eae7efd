/// Settings for the stuck detector: the reading has not moved by more than `tolerance` for `duration` seconds.
/// A sensor whose readings are coarse (more than 30 % of consecutive readings equal, learned while it
/// behaves) can legitimately sit still: its run must also be improbable for a live sensor (counted in
/// readings, see `StuckDetector`) or last `quantizedFactor` times longer.
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

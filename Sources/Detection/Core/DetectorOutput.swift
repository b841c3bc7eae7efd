/// What `ChannelDetector.update` returns for one sample.
public struct DetectorOutput: Sendable, Hashable {
    /// Combined anomaly score in [0, 1]: the strongest of the enabled detectors.
    public var score: Double
    /// True while an alert episode is open (between its raise and its clear, both inclusive of the raise sample).
    public var alert: Bool
    /// The detector that contributes the score, nil when the score is 0.
    public var kind: AlertKind?
    /// Set on the sample that raises or clears an episode.
    public var event: AlertEvent?

    public init(score: Double, alert: Bool, kind: AlertKind?, event: AlertEvent?) {
        self.score = score
        self.alert = alert
        self.kind = kind
        self.event = event
    }
}

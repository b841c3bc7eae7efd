/// What decides, row by row, in a replay: the detector alone (`DetectorJudge`, for `replay --kind`) or
/// the daemon's whole alert engine for one channel of a site (detector and farmer rules, for
/// `replay --config`), so that a replay makes exactly the decisions the daemon would.
public protocol ReplayJudge {
    /// Whether the output gets the `rules` column (farmer rules are judged).
    var hasRuleColumn: Bool { get }
    /// Judges one row; `value` nil is a missing reading.
    mutating func judge(time: Double, value: Double?) -> ReplayVerdict
}

/// One row's decision.
public struct ReplayVerdict: Sendable {
    /// The detector's score in [0, 1].
    public var score: Double
    /// The detector's alert episode is open.
    public var alert: Bool
    /// A farmer rule (threshold, spoilage budget) is active.
    public var rules: Bool
    /// Raises and clears on this row (empty on almost every row, so no allocation).
    public var events: [AlertEvent]

    public init(score: Double, alert: Bool, rules: Bool = false, events: [AlertEvent] = []) {
        self.score = score
        self.alert = alert
        self.rules = rules
        self.events = events
    }
}

/// The detector alone.
public struct DetectorJudge: ReplayJudge {
    public var detector: ChannelDetector
    public init(detector: ChannelDetector) { self.detector = detector }
    public var hasRuleColumn: Bool { false }
    public mutating func judge(time: Double, value: Double?) -> ReplayVerdict {
        let o = detector.update(time: time, value: value)
        return ReplayVerdict(score: o.score, alert: o.alert, events: o.event.map { [$0] } ?? [])
    }
}

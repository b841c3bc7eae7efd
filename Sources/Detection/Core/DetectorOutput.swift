/// What `ChannelDetector.update` returns for one sample.
public struct DetectorOutput: Sendable, Hashable {
    /// Combined anomaly score in [0, 1]: the strongest of the enabled detectors.
    public var score: Double
    /// True while an alert episode is open (between its raise and its clear, both inclusive of the raise sample).
    public var alert: Bool
    /// The detector that contributes the score, nil when the score is 0.
    public var kind: AlertKind?
    /// Set on the sample that raises or clears an episode.
    public var event: AlertEvent? {
        get { eventBox?.event }
        set { eventBox = newValue.map(EventBox.init) }
    }

    /// True on the sample that raises or clears an episode; cheaper than `event != nil`.
    @inlinable public var hasEvent: Bool { eventBox != nil }

    /// The event behind one reference: almost every output has none, and a nil reference is copied
    /// and destroyed in a few instructions, where an inline `AlertEvent?` (two strings, ~100 bytes)
    /// costs an outlined copy and destroy on every sample.
    @usableFromInline var eventBox: EventBox?

    @usableFromInline final class EventBox: Sendable {
        let event: AlertEvent
        init(_ event: AlertEvent) { self.event = event }
    }

    public init(score: Double, alert: Bool, kind: AlertKind?, event: AlertEvent?) {
        self.score = score
        self.alert = alert
        self.kind = kind
        self.eventBox = event.map(EventBox.init)
    }

    public static func == (a: DetectorOutput, b: DetectorOutput) -> Bool {
        a.score == b.score && a.alert == b.alert && a.kind == b.kind && a.event == b.event
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(score)
        hasher.combine(alert)
        hasher.combine(kind)
        hasher.combine(event)
    }
}

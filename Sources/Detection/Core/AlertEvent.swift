/// One edge of an alert episode: `raise` when it starts, `clear` when it ends. Every raise is followed
/// by at most one clear for the same channel and kind, so one episode is exactly two events.
public struct AlertEvent: Sendable, Codable, Hashable {
    /// Which edge of the episode this is.
    public enum Phase: String, Sendable, Codable, Hashable {
        case raise
        case clear
    }

    public var phase: Phase
    /// The channel the alert is about, as named in the site configuration (e.g. `cold-room-1.temperature`).
    public var channel: String
    /// Seconds since the Unix epoch of the sample that caused the edge.
    public var time: Double
    public var severity: Severity
    public var kind: AlertKind
    /// The reading that caused the edge; nil when the reading was missing.
    public var value: Double?
    /// The detector score in [0, 1] at the edge (1 for rules).
    public var score: Double
    /// A terse machine-oriented reason, e.g. `level 7.10 is +3.20 from baseline 3.90`.
    public var reason: String
    /// A short sentence a farmer understands, with what to check.
    public var message: String
    /// For a clear: seconds since the matching raise. For a raise: 0.
    public var duration: Double

    public init(
        phase: Phase, channel: String, time: Double, severity: Severity, kind: AlertKind,
        value: Double?, score: Double, reason: String, message: String, duration: Double = 0
    ) {
        self.phase = phase
        self.channel = channel
        self.time = time
        self.severity = severity
        self.kind = kind
        self.value = value
        self.score = score
        self.reason = reason
        self.message = message
        self.duration = duration
    }
}

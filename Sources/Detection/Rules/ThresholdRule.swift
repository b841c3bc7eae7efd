/// A farmer rule: "cold room above 8 °C for 15 minutes". Parsed from the site file's `alerts:` list.
/// Exactly one of `above` / `below` is normally set (both is allowed: outside a band).
public struct ThresholdRule: Sendable, Codable, Hashable {
    public var channel: String
    public var above: Double?
    public var below: Double?
    /// Seconds the condition must hold before the alert is raised.
    public var duration: Double
    /// The alert clears once the value is back inside by this margin (hysteresis), for `clearAfter` seconds.
    public var hysteresis: Double
    public var clearAfter: Double
    public var severity: Severity
    /// Shown to the farmer instead of the generated sentence when set.
    public var message: String?
    /// Unit for messages, e.g. "°C".
    public var unit: String

    public init(
        channel: String, above: Double? = nil, below: Double? = nil, duration: Double = 0,
        hysteresis: Double = 0, clearAfter: Double = 0, severity: Severity = .warning,
        message: String? = nil, unit: String = ""
    ) {
        self.channel = channel
        self.above = above
        self.below = below
        self.duration = duration
        self.hysteresis = hysteresis
        self.clearAfter = clearAfter
        self.severity = severity
        self.message = message
        self.unit = unit
    }
}

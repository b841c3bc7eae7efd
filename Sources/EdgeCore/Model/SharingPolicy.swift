/// What one device lets leave the farm (`share:`, `aggregate_window:` and `share_alerts:` in the site
/// file; issue 10). The farm keeps everything in its outbox either way: the policy only decides what
/// the Publisher and Recorder put into MQTT messages.
public struct SharingPolicy: Sendable, Equatable {
    /// `full`: every reading; `aggregate`: only min / mean / max / count / last per window on
    /// `…/{device}/aggregate`; `none`: never leaves the farm.
    public enum Mode: String, Sendable, Equatable, CaseIterable { case full, aggregate, none }

    /// The mode of channels not named in `channels`.
    public var defaultMode: Mode
    /// Per-channel overrides.
    public var channels: [String: Mode]
    /// Seconds per aggregate window, aligned to the clock (a 15 min window starts at :00, :15, …).
    public var aggregateWindow: Double
    /// Whether this device's alerts are published on `…/alerts` and in `…/alerts/active`.
    public var alerts: Bool

    public static let defaultAggregateWindow: Double = 900

    public init(defaultMode: Mode = .full, channels: [String: Mode] = [:], aggregateWindow: Double = SharingPolicy.defaultAggregateWindow,
                alerts: Bool = true) {
        self.defaultMode = defaultMode
        self.channels = channels
        self.aggregateWindow = aggregateWindow
        self.alerts = alerts
    }

    public func mode(for channel: String) -> Mode { channels[channel] ?? defaultMode }

    /// True when every channel goes out in full (the default): state payloads are unchanged.
    public var sharesEverything: Bool { defaultMode == .full && channels.values.allSatisfy { $0 == .full } }

    /// The poll as it may be published on `…/{device}/state`: only its `full` channels. nil when
    /// none is left (the poll is kept on the farm; any aggregate goes out with its window).
    public func shared(_ sample: DeviceSample) -> DeviceSample? {
        if sharesEverything { return sample }
        var out = sample
        out.readings = sample.readings.filter { mode(for: $0.channel) == .full }
        return out.readings.isEmpty ? nil : out
    }

    /// "full", "aggregate 15m" or "none", as `check-config` and the sharing message say it.
    public func describe(_ channel: String) -> String {
        let m = mode(for: channel)
        return m == .aggregate ? "aggregate \(Self.durationText(aggregateWindow))" : m.rawValue
    }

    /// `15m`, `10s`, `1h`, `90s` for a window length in seconds.
    public static func durationText(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 && s % 3600 == 0 { return "\(s / 3600)h" }
        if s >= 60 && s % 60 == 0 { return "\(s / 60)m" }
        return "\(s)s"
    }
}

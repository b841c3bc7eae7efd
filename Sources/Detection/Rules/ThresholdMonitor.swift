/// Evaluates one `ThresholdRule` over a channel's readings. The condition must hold continuously for
/// `rule.duration` seconds to raise (a missing reading neither starts nor breaks the run); the alert
/// clears once the value is back inside the limit by `rule.hysteresis` for `rule.clearAfter` seconds.
/// Works from the first reading: no warm-up. O(1) per reading, no allocation except event strings.
public struct ThresholdMonitor: Sendable {
    public let rule: ThresholdRule
    private var breachSince = Double.nan
    private var okSince = Double.nan
    private var raisedAt = Double.nan
    public private(set) var active = false

    public init(rule: ThresholdRule) {
        self.rule = rule
    }

    /// What a restart must not forget: an open episode (so it is neither raised twice nor dropped from
    /// the active set) and a breach or a recovery under way (so "for 15 minutes" is not restarted by a
    /// restart). Times are on the detectors' steady clock.
    public struct Snapshot: Sendable, Codable, Equatable {
        public var rule: ThresholdRule
        public var active: Bool
        public var breachSince: Double?
        public var okSince: Double?
        public var raisedAt: Double?
    }

    public func snapshot() -> Snapshot {
        Snapshot(rule: rule, active: active, breachSince: breachSince.isFinite ? breachSince : nil,
                 okSince: okSince.isFinite ? okSince : nil, raisedAt: raisedAt.isFinite ? raisedAt : nil)
    }

    /// The monitor of `rule` with a snapshot's state; a snapshot of another rule (the site file
    /// changed) is ignored.
    public init(rule: ThresholdRule, restoring snapshot: Snapshot) {
        self.rule = rule
        guard snapshot.rule == rule else { return }
        active = snapshot.active
        breachSince = snapshot.breachSince ?? .nan
        okSince = snapshot.okSince ?? .nan
        raisedAt = snapshot.raisedAt ?? .nan
    }

    /// Feeds one reading; returns an event on raise or clear. `held`: the reading is inside a known
    /// defrost of the room (`ChannelDetector.inKnownDefrost`); a breach then neither starts nor
    /// continues a run (as a controller's alarm delay during and after defrost), and an open episode
    /// is not cleared by it either.
    public mutating func update(time: Double, value: Double?, held: Bool = false) -> AlertEvent? {
        guard let x = value, x.isFinite else { return nil }
        if held {
            if !active { breachSince = .nan }
            return nil
        }
        let breach = (rule.above.map { x > $0 } ?? false) || (rule.below.map { x < $0 } ?? false)
        if !active {
            guard breach else { breachSince = .nan; return nil }
            if breachSince.isNaN { breachSince = time }
            guard time - breachSince >= rule.duration else { return nil }
            active = true
            raisedAt = time
            okSince = .nan
            return event(.raise, time: time, value: x)
        }
        let back = (rule.above.map { x <= $0 - rule.hysteresis } ?? true) && (rule.below.map { x >= $0 + rule.hysteresis } ?? true)
        guard back else { okSince = .nan; return nil }
        if okSince.isNaN { okSince = time }
        guard time - okSince >= rule.clearAfter else { return nil }
        active = false
        breachSince = .nan
        let e = event(.clear, time: time, value: x)
        raisedAt = .nan
        return e
    }

    private func event(_ phase: AlertEvent.Phase, time: Double, value: Double) -> AlertEvent {
        let v = NumberText.fixed(value, decimals: 1) + rule.unit
        let limitText: String
        if let a = rule.above, let b = rule.below {
            limitText = "outside \(NumberText.fixed(b, decimals: 1))…\(NumberText.fixed(a, decimals: 1))\(rule.unit)"
        } else if let a = rule.above {
            limitText = "above \(NumberText.fixed(a, decimals: 1))\(rule.unit)"
        } else if let b = rule.below {
            limitText = "below \(NumberText.fixed(b, decimals: 1))\(rule.unit)"
        } else {
            limitText = "limit"
        }
        let forText = rule.duration > 0 ? " for \(NumberText.duration(rule.duration))" : ""
        if phase == .raise {
            return AlertEvent(
                phase: .raise, channel: rule.channel, time: time, severity: rule.severity, kind: .threshold,
                value: value, score: 1, reason: "\(limitText)\(forText)",
                message: rule.message ?? "\(rule.channel) has been \(limitText)\(forText) (now \(v)).")
        }
        let lasted = time - raisedAt
        return AlertEvent(
            phase: .clear, channel: rule.channel, time: time, severity: rule.severity, kind: .threshold,
            value: value, score: 0, reason: "back within limit",
            message: "\(rule.channel) is back to normal (\(v)) after \(NumberText.duration(lasted)).", duration: lasted)
    }
}

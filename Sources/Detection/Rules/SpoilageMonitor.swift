/// Integrates a `SpoilageBudget` over a room's temperature readings and raises an alert each time the
/// used share crosses one of `budget.alertShares` (warning below 100 %, critical at or above).
/// Integration is a left Riemann sum: each reading's temperature holds until the next reading, at
/// most `budget.maxGap` seconds. The used share never decreases; `reset(time:)` starts a new batch
/// of produce (and clears the open alert). O(1) per reading; state is `used` and the last reading.
public struct SpoilageMonitor: Sendable {
    public let budget: SpoilageBudget
    /// Share of the budget used so far (can exceed 1).
    public private(set) var used: Double = 0
    private var lastTime = Double.nan
    private var lastValue = Double.nan
    private var nextShare = 0
    private var raisedAt = Double.nan

    /// `used` and `raisedAt` restore a budget after a restart: the shares already passed are not
    /// announced again, and a raised budget can still be cleared by `reset`.
    public init(budget: SpoilageBudget, used: Double = 0, raisedAt: Double? = nil) {
        self.budget = budget
        self.used = used
        self.raisedAt = raisedAt ?? .nan
        nextShare = budget.alertShares.firstIndex { $0 > used } ?? budget.alertShares.count
    }

    /// When the first share was announced (steady clock); nil while none has been.
    public var raisedSince: Double? { raisedAt.isFinite ? raisedAt : nil }

    /// Share of the budget used per second at temperature `t` (°C).
    public static func rate(_ model: SpoilageBudget.Model, temperature t: Double) -> Double {
        switch model {
        case .degreeMinutes(let safe, let budget):
            guard budget > 0, t > safe else { return 0 }
            return (t - safe) / 60 / budget
        case .q10(let reference, let hours, let q10):
            guard hours > 0, q10 > 0 else { return 0 }
            return powPositive(q10, (t - reference) / 10) / (hours * 3600)
        }
    }

    /// Feeds one temperature reading; returns an event when a new alert share is crossed.
    public mutating func update(time: Double, value: Double?) -> AlertEvent? {
        guard let x = value, x.isFinite else { return nil }
        defer {
            lastTime = time
            lastValue = x
        }
        guard lastTime.isFinite, time > lastTime else { return nil }
        let dt = min(time - lastTime, budget.maxGap)
        let step = Self.rate(budget.model, temperature: lastValue) * dt
        // A wild reading (a wrong word order decodes as 1e30 °C) must not poison the budget.
        guard step.isFinite, step >= 0 else { return nil }
        used = min(used + step, 1e6)
        var crossed: Double? = nil
        while nextShare < budget.alertShares.count && used >= budget.alertShares[nextShare] {
            crossed = budget.alertShares[nextShare]
            nextShare += 1
        }
        guard let share = crossed else { return nil }
        if raisedAt.isNaN { raisedAt = time }
        let pct = Int(min(used * 100, 1e8).rounded(.down))
        let what = budget.commodity.isEmpty ? "the produce" : budget.commodity
        let room = budget.room.isEmpty ? budget.channel : budget.room
        let message = share >= 1
            ? "\(what.capitalizedFirst) in \(room) have used all of their heat budget (\(pct) %). Check quality and sell or process them first."
            : "\(what.capitalizedFirst) in \(room) have used \(pct) % of their heat budget. Keep the room cold and plan to move them."
        return AlertEvent(
            phase: .raise, channel: budget.channel, time: time, severity: share >= 1 ? .critical : .warning,
            kind: .spoilageBudget, value: x, score: min(1, used),
            reason: "used \(NumberText.fixed(used * 100, decimals: 1)) % of budget (threshold \(NumberText.fixed(share * 100, decimals: 0)) %)",
            message: message)
    }

    /// Starts a new batch: the budget is full again. Returns a clear event if an alert was open.
    public mutating func reset(time: Double) -> AlertEvent? {
        let wasRaised = raisedAt
        used = 0
        nextShare = 0
        raisedAt = .nan
        guard wasRaised.isFinite else { return nil }
        return AlertEvent(
            phase: .clear, channel: budget.channel, time: time, severity: .info, kind: .spoilageBudget,
            value: nil, score: 0, reason: "budget reset",
            message: "Heat budget for \(budget.commodity) in \(budget.room) reset for a new batch.", duration: time - wasRaised)
    }
}

extension String {
    fileprivate var capitalizedFirst: String {
        guard let f = first else { return self }
        return f.uppercased() + dropFirst()
    }
}

/// x^y for x > 0. Detection does not import Foundation/Glibc (it stays pure), so this is 2^(y·log2 x)
/// with short series; relative error below 1e-12, which is plenty for a shelf-life model.
func powPositive(_ x: Double, _ y: Double) -> Double {
    guard x > 0 else { return 0 }
    return exp2Series(y * log2Positive(x))
}

/// log2 for x > 0: exponent from the bit pattern plus a series for the mantissa in [1, 2).
func log2Positive(_ x: Double) -> Double {
    let e = Double(x.exponent)
    let m = x.significand  // [1, 2)
    // ln(m) via atanh series: ln(m) = 2 atanh((m-1)/(m+1)); converges fast for m in [1,2).
    let z = (m - 1) / (m + 1)
    let z2 = z * z
    var term = z
    var sum = 0.0
    var k = 1.0
    for _ in 0..<20 {
        sum += term / k
        term *= z2
        k += 2
    }
    return e + 2 * sum / 0.693_147_180_559_945_3
}

/// 2^y: integer part by scaling the exponent, fractional part by a Taylor series of e^(f·ln 2).
func exp2Series(_ y: Double) -> Double {
    guard y.isFinite else { return y > 0 ? .infinity : 0 }
    let n = y.rounded(.down)
    let f = (y - n) * 0.693_147_180_559_945_3
    var term = 1.0
    var sum = 1.0
    for k in 1..<25 {
        term *= f / Double(k)
        sum += term
    }
    let clamped = max(-1074, min(1023, n))
    return Double(sign: .plus, exponent: Int(clamped), significand: sum)
}

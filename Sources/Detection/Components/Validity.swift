/// Sorts a raw reading before any detector sees it: plausible, missing (the read failed), one of the
/// firmware's "no reading" codes, or impossible (outside the valid range).
///
/// Promises: a sentinel inside the valid range is recognised (within `tolerance`) before the value
/// could reach a window; a sentinel outside it is named as a sentinel, not as out of range. An
/// in-range code is a sentinel only when it arrives as a jump: firmware switches to its code from
/// wherever the reading was, while a real quantity that passes through the same number (a scale
/// loaded to 6553.5 kg, a counter at 65535) gets there from next door — within 1 % of the value, or
/// 10 tolerances — and stays a valid reading. Costs: two comparisons and a scan of the in-range
/// sentinels (usually none, at most a handful); no allocation.
struct Validity: Sendable {
    enum Verdict: Sendable, Equatable {
        case valid
        case missing
        case sentinel
        case outOfRange
    }

    let validMin: Double
    let validMax: Double
    let tolerance: Double
    /// Only these can match a value that passed the range check.
    private let inRangeSentinels: [Double]
    private let otherSentinels: [Double]
    /// The last valid reading: where a real quantity comes from.
    private var lastValid: Double?

    init(config: DetectorConfig) {
        validMin = config.validMin ?? -.infinity
        validMax = config.validMax ?? .infinity
        tolerance = config.sentinelTolerance
        let lo = validMin - tolerance
        let hi = validMax + tolerance
        inRangeSentinels = config.sentinels.filter { $0 >= lo && $0 <= hi }
        otherSentinels = config.sentinels.filter { !($0 >= lo && $0 <= hi) }
    }

    @inline(__always)
    mutating func check(_ value: Double?) -> Verdict {
        guard let x = value, x.isFinite else { return .missing }
        if x >= validMin && x <= validMax {
            if !inRangeSentinels.isEmpty && Self.matches(x, inRangeSentinels, tolerance) && !continues(x) { return .sentinel }
            lastValid = x
            return .valid
        }
        return Self.matches(x, otherSentinels, tolerance) ? .sentinel : .outOfRange
    }

    /// True when `x` lies next to the last valid reading: a real value passing through a code.
    private func continues(_ x: Double) -> Bool {
        guard let last = lastValid else { return false }
        return abs(x - last) <= max(0.01 * abs(x), 10 * tolerance)
    }

    private static func matches(_ x: Double, _ list: [Double], _ tolerance: Double) -> Bool {
        for s in list where abs(x - s) <= tolerance { return true }
        return false
    }
}

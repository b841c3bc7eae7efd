/// The `no_data` detector: how long reads have been failing.
///
/// Promises: one missed read scores 0.5 × elapsed / `after` (never an alert on its own); `after`
/// seconds of nothing but failed reads score 1. Any reading (even an impossible one) ends the run,
/// because the sensor answered. O(1), no allocation; nothing to persist (a restart starts a new run).
struct NoDataWatch: Sendable {
    let after: Double
    private(set) var missingSince = Double.nan

    init(after: Double) { self.after = after }

    /// A failed read at `time`; returns the score.
    mutating func missing(at time: Double) -> Double {
        if missingSince.isNaN { missingSince = time }
        let elapsed = time - missingSince
        if after <= 0 || elapsed >= after { return 1 }
        return 0.5 * elapsed / after
    }

    /// The sensor answered.
    @inline(__always) mutating func answered() { missingSince = .nan }

    func elapsed(at time: Double) -> Double { missingSince.isNaN ? 0 : time - missingSince }
}

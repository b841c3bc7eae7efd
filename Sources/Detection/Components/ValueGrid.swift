/// The grid a register's values lie on, read from the values themselves: the largest of
/// …, 0.01, 0.02, 0.05, 0.1, …, 1, 2, 5, 10, … 1000 that every reading so far is a multiple of
/// (at least 0.001, what a CSV carries).
///
/// A register that holds a setting may sit on one value for days: the smallest change it has made is
/// then no guide to its grid (its first move, which may be a fault, would set it), but its values
/// are: 81 and 73 lie on a grid of 1, 20 and 30 on one of 10. A continuous series ends on 0.001 within
/// a few readings. Promises: only ever shrinks; `step` is +∞ before the first reading. Costs: one
/// division per reading (plus a step down the ladder, at most 20 in a channel's life); no storage.
struct ValueGrid: Sendable {
    private(set) var step = Double.infinity

    mutating func note(_ x: Double) {
        guard x.isFinite else { return }
        if !step.isFinite { step = 1000 }
        while step > 0.001 && !Self.isMultiple(x, of: step) { step = Self.below(step) }
    }

    /// The next grid down the 1-2-5 ladder: 1000 → 500 → 200 → 100 → 50 → …
    static func below(_ q: Double) -> Double {
        var decade = 1.0
        while decade * 10 <= q * (1 + 1e-9) { decade *= 10 }
        while decade > q * (1 + 1e-9) { decade /= 10 }
        let m = (q / decade).rounded()
        let next = m >= 5 ? 2 * decade : m >= 2 ? decade : 0.5 * decade
        return max(0.001, next)
    }

    static func isMultiple(_ x: Double, of q: Double) -> Bool {
        let r = x / q
        return abs(r - r.rounded()) <= 1e-6 * max(1, abs(r))
    }
}

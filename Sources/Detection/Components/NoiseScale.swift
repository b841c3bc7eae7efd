/// The long robust window of a channel (rolling median and MAD of the last `capacity` readings) and
/// the noise scale the detectors compare against: the robust standard deviation, with a floor.
///
/// Promises: `sigma()` is never 0 for a series that has ever moved, nor below `minSpread`. A series
/// whose MAD is 0 (a mostly flat counter, a coarse sensor that sits on one step) gets the larger of
/// half its resolution (the smallest non-zero step it has shown), a quarter of its mean absolute
/// deviation from the median (below the robust scale for ordinary noise, which it must not inflate), and 0.1 % of its level, so an offset of one step is not "infinitely
/// many sigmas". Costs: `push` O(1); `median`/`sigma` O(1) plus an O(capacity) refresh at most every
/// capacity / 2 readings (see `RobustRingCore`). Memory: 2 × capacity Doubles, allocated at init.
struct NoiseScale: Sendable {
    private(set) var ring: RobustRing
    let minSpread: Double
    /// Smallest non-zero change between consecutive readings, slowly forgotten (×1.001 per reading).
    private(set) var resolution = Double.infinity
    /// Exponential average (≈ 256 readings) of |x − median|: non-zero as soon as anything moves.
    private(set) var meanAbsDeviation = 0.0
    private var previous = Double.nan

    init(capacity: Int, minSpread: Double?) {
        ring = RobustRing(capacity: max(3, capacity))
        self.minSpread = max(0, minSpread ?? 0)
    }

    var count: Int { ring.count }

    mutating func push(_ x: Double) {
        ring.push(x)
        if previous.isFinite {
            let step = abs(x - previous)
            resolution = step > 0 ? min(resolution * 1.001, step) : resolution * 1.001
        }
        previous = x
        let m = ring.median()                                     // cached: a refresh every capacity / 2
        if m.isFinite { meanAbsDeviation += (abs(x - m) - meanAbsDeviation) / 256 }
    }

    mutating func median() -> Double { ring.median() }

    /// Robust standard deviation (1.4826 × MAD) with the floors above.
    mutating func sigma() -> Double {
        let robust = 1.4826 * ring.mad()
        let m = ring.median()
        var floor = minSpread
        if resolution.isFinite { floor = max(floor, 0.5 * resolution) }
        floor = max(floor, 0.25 * meanAbsDeviation, m.isFinite ? 1e-3 * abs(m) : 0)
        return robust.isFinite ? max(robust, floor) : floor
    }

    /// Forgets the previous reading (after a gap), keeping the window.
    mutating func restartShortTerm() { previous = .nan }

    var values: [Double] { ring.valuesInArrivalOrder }
}

/// The `rate` detector for scales (and any channel that sets `drift`): the net change over a fast and
/// a slow span, counting only the small sample-to-sample changes. Steps bigger than `step` (a sack
/// loaded or unloaded) are left out, so only a steady slide remains: a leak, theft, load-cell creep.
///
/// Promises: a loading step never counts; thresholds are the larger of an absolute value and a share
/// of the stored level (a full silo may lose more before it matters). Costs: O(1) per reading (running
/// sums over a ring of changes, re-added from scratch once per ring turn so rounding cannot build up);
/// the ring (slow span in samples) is allocated at init. Nothing to persist: a restart rebuilds the
/// sums from the snapshot's readings.
struct DriftRate: Sendable {
    typealias Settings = DriftSettings
    let settings: Settings
    let fastSamples: Int
    private var diffs: [Double]
    private var next = 0
    private(set) var count = 0
    private(set) var fastSum = 0.0
    private(set) var slowSum = 0.0
    private var sinceResum = 0
    private var previous = Double.nan

    init(settings: Settings, config: DetectorConfig) {
        self.settings = settings
        let slow = config.samples(for: settings.slowSpan)
        diffs = [Double](repeating: 0, count: slow)
        fastSamples = min(slow, config.samples(for: settings.fastSpan))
    }

    /// Feeds a plausible reading; `level` is the stored level (the long window's median). Returns the score.
    mutating func update(x: Double, level: Double) -> Double {
        if previous.isFinite {
            let diff = x - previous
            push(abs(diff) > settings.step ? 0 : diff)
        }
        previous = x
        let d = settings
        let l = abs(level.isFinite ? level : x)
        let fLo = max(d.fastLow, d.fastLowFraction * l)
        let fHi = max(d.fastHigh, d.fastHighFraction * l, fLo * 1.2)
        let sLo = max(d.slowLow, d.slowLowFraction * l)
        let sHi = max(d.slowHigh, d.slowHighFraction * l, sLo * 1.2)
        return max(ramp(abs(fastSum), fLo, fHi), ramp(abs(slowSum), sLo, sHi))
    }

    /// True when the fast span explains the alert better than the slow one (for the message).
    var fastDominates: Bool {
        abs(fastSum) >= abs(slowSum) * Double(fastSamples) / Double(max(1, diffs.count)) * 4
    }

    private mutating func push(_ diff: Double) {
        let cap = diffs.count
        if count >= fastSamples {
            var i = next - fastSamples                                // -cap < i < cap
            if i < 0 { i += cap }
            fastSum -= diffs[i]
        }
        if count == cap { slowSum -= diffs[next] } else { count += 1 }
        diffs[next] = diff
        next = next + 1 == cap ? 0 : next + 1
        fastSum += diff
        slowSum += diff
        sinceResum += 1
        if sinceResum >= cap {
            sinceResum = 0
            var f = 0.0
            var s = 0.0
            for k in 0..<count {
                let v = diffs[(next - 1 - k + cap) % cap]
                s += v
                if k < fastSamples { f += v }
            }
            fastSum = f
            slowSum = s
        }
    }

    mutating func restartShortTerm() {
        next = 0
        count = 0
        fastSum = 0
        slowSum = 0
        previous = .nan
    }
}

/// 0 at or below `lo`, 1 at or above `hi`, linear between: how every component turns a distance into a score.
@inline(__always)
func ramp(_ v: Double, _ lo: Double, _ hi: Double) -> Double {
    if v <= lo { return 0 }
    if v >= hi { return 1 }
    return (v - lo) / (hi - lo)
}

/// Places fault windows in a trace so that they never overlap, leave time between them for the
/// process to settle, and start only once a detector installed at the start of the trace has had a
/// day and a bit to learn (a fault in its first hours would test the warm-up, not the detector).
struct FaultPlan {
    /// Seconds from the start before which no fault begins.
    static let earliest = 30.0 * 3600
    let earliest: Double
    /// Seconds kept free between two windows.
    static let gap = 4.0 * 3600
    let length: Double
    private(set) var taken: [(Double, Double)] = []

    /// `earliest`: seconds before which no fault starts (at least `FaultPlan.earliest`).
    init(length: Double, earliest: Double = FaultPlan.earliest) {
        self.length = length
        self.earliest = max(earliest, Self.earliest)
    }

    /// A start (seconds from the trace's start) for a window of `duration` seconds, inside
    /// `within` if given, clear of the windows placed so far; nil after 60 tries.
    mutating func place(_ rng: inout TraceRandom, duration: Double, within: ClosedRange<Double>? = nil) -> Double? {
        let lo = max(earliest, within?.lowerBound ?? 0)
        let hi = min(length - duration - 600, within?.upperBound ?? .infinity)
        guard hi > lo else { return nil }
        for _ in 0..<60 {
            let s = rng.uniform(lo...hi)
            if isFree(s, s + duration) { reserve(s, s + duration); return s }
        }
        return nil
    }

    func isFree(_ a: Double, _ b: Double) -> Bool {
        taken.allSatisfy { b + Self.gap < $0.0 || a > $0.1 + Self.gap }
    }

    mutating func reserve(_ a: Double, _ b: Double) { taken.append((a, b)) }
}

/// Row helpers shared by the generators.
extension LabelledTrace {
    /// The first row at or after `t` seconds from the start.
    func row(atOrAfter t: Double) -> Int { min(count - 1, max(0, Int((t / sensor.interval).rounded(.up)))) }

    /// Labels a window from row `a` to row `b` (inclusive), in the trace's absolute time.
    mutating func label(_ kind: FaultKind, rows a: Int, _ b: Int) {
        labels.append(FaultLabel(kind: kind, start: time(at: a), end: time(at: max(a, min(b, count - 1)))))
    }

    /// Sorts the labels by start (they were placed at random).
    mutating func sortLabels() { labels.sort { $0.start < $1.start } }

    /// Injects `n` single-reading spikes of ± `size()` from row `a`, 1–`spacing` rows apart; labels them.
    mutating func injectSpikes(_ rng: inout TraceRandom, kind: FaultKind, at a: Int, n: Int, spacing: Int, size: (inout TraceRandom) -> Double) {
        var i = a
        var last = a
        for _ in 0..<n where i < count - 1 {
            if let v = values[i] { values[i] = sensor.reading(v + (rng.chance(0.5) ? 1 : -1) * size(&rng)) }
            last = i
            i += rng.int(2...max(2, spacing))
        }
        label(kind, rows: a, last)
    }

    /// Replaces rows `a...b` by `value` (nil = no reading); labels them.
    mutating func injectConstant(kind: FaultKind, rows a: Int, _ b: Int, value: Double?) {
        for i in a...min(b, count - 1) { values[i] = value }
        label(kind, rows: a, b)
    }

    /// Freezes the reading of row `a` over rows `a...b`; labels them.
    mutating func injectStuck(rows a: Int, _ b: Int) {
        var i = a
        while values[i] == nil && i < b { i += 1 }
        let v = values[i] ?? truth[a]
        injectConstant(kind: .stuck, rows: a, b, value: v)
    }
}

/// Noise, quantisation and scattered failed polls over a noise-free process.
func readings(_ truth: [Double], sensor: SensorPhysics, rng: inout TraceRandom) -> [Double?] {
    truth.map { x in rng.chance(sensor.missingRate) ? nil : sensor.reading(x + rng.normal(sensor.noise)) }
}

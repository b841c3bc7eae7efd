/// What `tools/score_traces.py` counts for one trace, computed the same way (and checked against it):
///
/// - a window is detected by the first alert row inside it or up to 5 samples after its end (the
///   sample is the first two rows' time step); the delay is from the window's start to that row, in minutes;
/// - a false alert is an episode (a run of consecutive alert rows) that touches no window (with its grace);
/// - for a compressor failure, the room has reached 8 °C at the start of the first run of readings
///   ≥ 8 °C lasting 10 minutes from the window's start; the failure counts as caught in time when the
///   first alert row is at or before it. Besides the script's share, `feasible` keeps only failures the
///   room took at least 15 minutes and 3 readings to reach 8 °C (a warm room that is at 8 °C already,
///   or a failure that gets there before a detector could tell it from a door, is not "in time" for
///   any detector).
public struct TraceScore: Sendable {
    public struct PerFault: Sendable {
        public var windows = 0
        public var detected = 0
        public var delays: [Double] = []
    }

    public var windows = 0
    public var detected = 0
    /// Minutes from each detected window's start to its first alert row.
    public var delays: [Double] = []
    public var byFault: [FaultKind: PerFault] = [:]
    /// Compressor failures that reached 8 °C, and those alerted at or before it.
    public var before8 = (caught: 0, of: 0)
    public var before8Feasible = (caught: 0, of: 0)
    public var falseAlerts = 0
    public var weeks = 0.0
    public var outsideRows = 0
    public var outsideAlertRows = 0

    public static let spoil = 8.0
    public static let sustain = 600.0

    public init() {}

    /// Scores `alert` (one flag per row, as `coop-edge replay` writes them) against `trace`'s labels.
    public init(trace: LabelledTrace, alert: [Bool]) {
        let n = trace.count
        let times = trace.times
        let step = n > 1 ? times[1] - times[0] : 60
        let grace = 5 * step
        for label in trace.labels {
            let (a, b) = (label.start, label.end)
            var first: Double? = nil
            for i in 0..<n where alert[i] && times[i] >= a && times[i] <= b + grace { first = times[i]; break }
            windows += 1
            byFault[label.kind, default: PerFault()].windows += 1
            if let f = first {
                detected += 1
                let delay = max(0, (f - a) / 60)
                delays.append(delay)
                byFault[label.kind]!.detected += 1
                byFault[label.kind]!.delays.append(delay)
            }
            if label.kind == .compressor, let s = Self.roomReached(trace: trace, from: a) {
                let caught = first.map { $0 <= s } ?? false
                before8.of += 1
                if caught { before8.caught += 1 }
                let rowsToSpoil = (s - a) / step
                if s - a >= 900 && rowsToSpoil >= 3 {
                    before8Feasible.of += 1
                    if caught { before8Feasible.caught += 1 }
                }
            }
        }
        var inside = [Bool](repeating: false, count: n)
        for label in trace.labels {
            for i in 0..<n where times[i] >= label.start && times[i] <= label.end + grace { inside[i] = true }
        }
        for i in 0..<n where !inside[i] {
            outsideRows += 1
            if alert[i] { outsideAlertRows += 1 }
        }
        var i = 0
        while i < n {
            guard alert[i] else { i += 1; continue }
            var j = i
            while j + 1 < n && alert[j + 1] { j += 1 }
            let (s, e) = (times[i], times[j])
            if !trace.labels.contains(where: { s <= $0.end + grace && e >= $0.start }) { falseAlerts += 1 }
            i = j + 1
        }
        weeks = n > 1 ? (times[n - 1] - times[0]) / (7 * 86_400) : 1
    }

    /// The script's `room_reached`: the start of the first run of readings ≥ 8 °C lasting 10 min from
    /// `start` on (a missing reading, NaN in the CSV, breaks a run).
    static func roomReached(trace: LabelledTrace, from start: Double) -> Double? {
        var run: Double? = nil
        for i in 0..<trace.count {
            let t = trace.time(at: i)
            if t < start { continue }
            if let v = trace.values[i], v >= spoil {
                if run == nil { run = t }
                if t - run! >= sustain { return run }
            } else {
                run = nil
            }
        }
        return nil
    }

    /// Adds another trace's (or tally's) counts to this one.
    public mutating func add(_ o: TraceScore) {
        windows += o.windows
        detected += o.detected
        delays += o.delays
        for (k, v) in o.byFault {
            byFault[k, default: PerFault()].windows += v.windows
            byFault[k]!.detected += v.detected
            byFault[k]!.delays += v.delays
        }
        before8.caught += o.before8.caught
        before8.of += o.before8.of
        before8Feasible.caught += o.before8Feasible.caught
        before8Feasible.of += o.before8Feasible.of
        falseAlerts += o.falseAlerts
        weeks += o.weeks
        outsideRows += o.outsideRows
        outsideAlertRows += o.outsideAlertRows
    }

    public var recall: Double { windows > 0 ? Double(detected) / Double(windows) : 1 }
    public var falsePerWeek: Double { weeks > 0 ? Double(falseAlerts) / weeks : 0 }
    public var medianDelay: Double { Self.median(delays) }

    /// Python's `statistics.median`: the mean of the two middle values for an even count; NaN when empty.
    public static func median(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return .nan }
        let s = xs.sorted()
        let m = s.count / 2
        return s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
    }
}

public import Detection

/// One synthetic channel-week: regular readings (nil = the poll failed), the faults injected into it
/// and the physics it was drawn from. Row `i` was read at `start + i * sensor.interval`.
public struct LabelledTrace: Sendable {
    public var kind: ChannelKind
    /// `cold_room_17` etc.: unique within a sweep, stable for a seed.
    public var name: String
    public var start: Double
    public var values: [Double?]
    /// In time order, never overlapping.
    public var labels: [FaultLabel]
    public var sensor: SensorPhysics
    public var physics: TracePhysics
    /// The noise-free process at each row, process faults included, sensor faults not (for tests of
    /// the generator's physics; the scorer never looks at it).
    public var truth: [Double]

    public var count: Int { values.count }
    public func time(at row: Int) -> Double { start + Double(row) * sensor.interval }
    public var end: Double { time(at: count - 1) }
    public var times: [Double] { (0..<count).map(time(at:)) }

    /// The detector's settings for this trace: the kind's defaults at its poll interval (what
    /// `coop-edge replay --kind` picks for the CSV, which estimates the interval from the timestamps).
    public var config: DetectorConfig { .defaults(for: kind, sampleInterval: sensor.interval) }

    /// Runs a fresh detector over the rows in order and returns the alert rows as `coop-edge replay`
    /// writes them: the alert state after each row (a row without a reading keeps an open alert open).
    public func alertRows(config: DetectorConfig? = nil) -> [Bool] {
        var detector = ChannelDetector(channel: name, config: config ?? self.config)
        var out = [Bool](repeating: false, count: count)
        for i in 0..<count {
            let o = detector.update(time: time(at: i), value: values[i])
            out[i] = o.alert
        }
        return out
    }
}

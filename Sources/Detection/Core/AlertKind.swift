/// Why an alert fired. The raw values are the stable strings published over MQTT.
public enum AlertKind: String, Sendable, Codable, Hashable, CaseIterable {
    /// The level moved away from the learned baseline for longer than normal operation explains.
    case deviation
    /// A steady rise or fall that is not a loading step (slow leak, theft, load-cell creep).
    case rate
    /// Isolated implausible jumps: the reading leaves and comes back within one sample, repeatedly.
    case spike
    /// The reading has not changed at all for longer than a live sensor can stay still.
    case stuck
    /// The value is outside the valid range of the sensor or the quantity.
    case outOfRange = "out_of_range"
    /// The sensor sent one of its "no reading" codes.
    case sentinel
    /// No readings arrive (Modbus read faults).
    case noData = "no_data"
    /// A farmer rule: above or below a limit for a given time.
    case threshold
    /// A farmer rule: a share of a storage room's spoilage budget is used.
    case spoilageBudget = "spoilage_budget"

    /// True for kinds that point at the sensor or its wiring rather than at the process it measures.
    public var isSensorFault: Bool {
        switch self {
        case .spike, .stuck, .outOfRange, .sentinel, .noData: true
        case .deviation, .rate, .threshold, .spoilageBudget: false
        }
    }

    /// The kind in words, for messages ("out of range").
    public var words: String {
        switch self {
        case .deviation: "deviation"
        case .rate: "rate"
        case .spike: "spike"
        case .stuck: "stuck"
        case .outOfRange: "out of range"
        case .sentinel: "sentinel"
        case .noData: "no data"
        case .threshold: "threshold"
        case .spoilageBudget: "spoilage budget"
        }
    }
}

public import Detection

/// What went wrong inside a labelled window. Raw values are the names `score_traces.py` prints and
/// `kinds.json` uses.
public enum FaultKind: String, Sendable, Hashable, CaseIterable, Comparable {
    // Cold rooms: the process.
    /// The room warms steadily from the failure on (no cooling), past 8 °C; maybe repaired later.
    case compressor
    /// The door stays open for tens of minutes: the room climbs to a plateau the compressor cannot hold.
    case doorLeftOpen = "door_left_open"
    /// The controller regulates at a set-point that drifted away over hours.
    case setpointDrift = "setpoint_drift"
    // Any kind: the sensor.
    /// A few readings far off and back within minutes (EMI, a loose contact).
    case spikeBurst = "spike_burst"
    /// Readings the firmware uses for "no reading" (85, −127, 3276.7, 65535, …).
    case sentinel
    /// The same reading, exactly, for hours while the process moves.
    case stuck
    /// No reading at all (Modbus timeouts) for longer than a bus hiccup.
    case noData = "no_data"
    // Soil moisture.
    /// The probe is out of the ground: a sudden fall to the reading of air.
    case pulledOut = "pulled_out"
    /// Exactly 0 % for hours (a broken cable on many probes).
    case flatlineZero = "flatline_zero"
    /// A few readings tens of points off.
    case spikes
    // Scales.
    /// A slow slide that is not a loading step: a leaking silo, a creeping load cell.
    case creep
    /// Negative weight: a tare or wiring fault.
    case negative
    /// Load leaves the scale at night, when nobody loads (theft).
    case suddenLossNight = "sudden_loss_night"
    // Generic series.
    /// The level jumps and stays (a calibration jump, a valve left in the wrong position).
    case levelShift = "level_shift"
    /// The reading walks away slowly and stays away (sensor drift).
    case drift

    /// The faults injected into traces of `kind`: every fault the detectors claim to catch there.
    public static func injected(for kind: ChannelKind) -> [FaultKind] {
        switch kind {
        case .coldRoom: [.compressor, .doorLeftOpen, .setpointDrift, .spikeBurst, .sentinel, .stuck, .noData]
        case .soilMoisture: [.pulledOut, .flatlineZero, .stuck, .spikes, .sentinel, .noData]
        case .weight: [.creep, .negative, .suddenLossNight, .stuck, .spikes, .sentinel, .noData]
        case .generic: [.levelShift, .spikeBurst, .drift]
        }
    }

    public static func < (a: FaultKind, b: FaultKind) -> Bool { a.rawValue < b.rawValue }
}

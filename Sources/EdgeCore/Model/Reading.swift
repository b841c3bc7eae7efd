/// One channel's value from one poll.
public struct Reading: Sendable, Equatable {
    public var channel: String
    /// nil when `quality` is `sentinel` or `commFault`: a failed read is a missing reading, never 0
    /// and never the last value.
    public var value: Double?
    public var quality: Quality
    public var unit: String
    /// Why the value is missing ("timeout", "CRC error", "exception 2: illegal data address").
    public var fault: String?

    public init(channel: String, value: Double?, quality: Quality, unit: String, fault: String? = nil) {
        self.channel = channel
        self.value = value
        self.quality = quality
        self.unit = unit
        self.fault = fault
    }

    /// Classifies a decoded value against the channel's sentinels and valid range.
    public static func classify(raw: Double, channel: ChannelSpec) -> Reading {
        if channel.sentinels.contains(raw) {
            return Reading(channel: channel.name, value: nil, quality: .sentinel, unit: channel.unit,
                           fault: "sensor reports no reading")
        }
        let value = RegisterCodec.engineering(raw: raw, channel: channel)
        if !value.isFinite {
            return Reading(channel: channel.name, value: nil, quality: .sentinel, unit: channel.unit, fault: "not a number")
        }
        if let valid = channel.valid, !valid.contains(value) {
            return Reading(channel: channel.name, value: value, quality: .outOfRange, unit: channel.unit)
        }
        return Reading(channel: channel.name, value: value, quality: .good, unit: channel.unit)
    }
}

/// Everything one poll of one device produced.
public struct DeviceSample: Sendable, Equatable {
    public var device: String
    /// Wall-clock time of the poll, seconds since 1970 (UTC).
    public var time: Double
    /// Seconds since boot (CLOCK_MONOTONIC/BOOTTIME): orders readings even when the wall clock jumps.
    public var monotonic: Double
    /// False while the board's clock has not been set by NTP (readings are flagged, not dropped).
    public var clockSynced: Bool
    public var readings: [Reading]
    /// How long the poll took on the bus, in milliseconds.
    public var durationMS: Double
    /// The device has not answered several polls in a row (`BusHealth`): it is asked less often until
    /// it answers again. Published as `"offline": true` in the poll's state message.
    public var offline: Bool = false
    /// Polled before the board's clock was synchronised, and its time corrected afterwards by the
    /// step the clock took (`ClockRestamper`). Published as `"restamped": true`.
    public var restamped: Bool = false

    public init(device: String, time: Double, monotonic: Double, clockSynced: Bool = true,
                readings: [Reading], durationMS: Double = 0) {
        self.device = device
        self.time = time
        self.monotonic = monotonic
        self.clockSynced = clockSynced
        self.readings = readings
        self.durationMS = durationMS
    }
}

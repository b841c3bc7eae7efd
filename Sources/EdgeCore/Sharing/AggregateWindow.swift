/// min / mean / max / count / last of one channel's good values over one window.
public struct ChannelAggregate: Sendable, Equatable {
    public var channel: String
    public var unit: String
    public var min: Double = .infinity
    public var max: Double = -.infinity
    public var sum: Double = 0
    /// Good values seen (a failed read, a sentinel or an out-of-range value is not counted).
    public var count: Int = 0
    public var last: Double? = nil

    public init(channel: String, unit: String) {
        self.channel = channel
        self.unit = unit
    }

    public var mean: Double? { count > 0 ? sum / Double(count) : nil }

    public mutating func add(_ r: Reading) {
        guard r.quality == .good, let v = r.value, v.isFinite else { return }
        min = Swift.min(min, v)
        max = Swift.max(max, v)
        sum += v
        count += 1
        last = v
    }
}

/// One device's aggregate channels over one clock-aligned window, as published on `…/{device}/aggregate`.
public struct AggregateSummary: Sendable, Equatable {
    public var device: String
    /// Window start and end, seconds since 1970 (UTC); `end` = `start` + window length.
    public var start: Double
    public var end: Double
    public var channels: [ChannelAggregate]

    /// The window's number: start / length. Unique per device and window length, so with `start` it
    /// dedups a message QoS 1 delivers twice.
    public var seq: UInt64 { UInt64(max(0, (start / max(1, end - start)).rounded())) }
}

/// Accumulates one device's `aggregate` channels poll by poll and hands back each window once a
/// poll of a later window arrives. Pure: the Recorder feeds it and commits what it returns with the
/// polls, and saves its state (`encodeState`) in the same transaction, so a restart goes on with the
/// window under way instead of publishing a second, smaller copy of it.
public struct AggregateWindow: Sendable, Equatable {
    public let device: String
    public let length: Double
    /// The aggregate channels, in the device's order.
    public let channelNames: [String]
    public private(set) var start: Double?
    public private(set) var channels: [ChannelAggregate] = []

    public init(device: String, length: Double, channels: [String]) {
        self.device = device
        self.length = length
        self.channelNames = channels
    }

    /// The start of the window holding `time`: windows are aligned to the clock (multiples of the
    /// length since 1970-01-01 UTC), so every farm's 15 min windows start at :00, :15, :30, :45.
    public static func windowStart(_ time: Double, length: Double) -> Double {
        (time / length).rounded(.down) * length
    }

    /// Adds a poll. Returns the previous window when this poll belongs to another one (a later
    /// window, or an earlier one after the clock stepped back).
    public mutating func add(_ sample: DeviceSample) -> AggregateSummary? {
        let s = Self.windowStart(sample.time, length: length)
        var closed: AggregateSummary? = nil
        if let current = start, current != s { closed = summary() }
        if start != s {
            start = s
            channels = channelNames.map { name in
                ChannelAggregate(channel: name, unit: sample.readings.first { $0.channel == name }?.unit ?? "")
            }
        }
        for r in sample.readings {
            guard let i = channelNames.firstIndex(of: r.channel) else { continue }
            if channels[i].unit.isEmpty { channels[i].unit = r.unit }
            channels[i].add(r)
        }
        return closed
    }

    /// The window under way, if any poll went into it.
    public func summary() -> AggregateSummary? {
        guard let start else { return nil }
        return AggregateSummary(device: device, start: start, end: start + length, channels: channels)
    }

    /// The window under way as text (one line per channel), for the outbox's state table.
    public func encodeState() -> [UInt8] {
        guard let start else { return [] }
        var lines = ["\(length)\t\(start)"]
        for c in channels {
            lines.append([c.channel, c.unit, "\(c.min)", "\(c.max)", "\(c.sum)", "\(c.count)", c.last.map { "\($0)" } ?? "-"].joined(separator: "\t"))
        }
        return Array(lines.joined(separator: "\n").utf8)
    }

    /// Takes up a window saved by `encodeState`; ignores it when the window length or the channels changed.
    public mutating func restore(_ bytes: [UInt8]) {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let head = lines.first?.split(separator: "\t"), head.count == 2, Double(head[0]) == length, let s = Double(head[1]) else { return }
        var restored: [ChannelAggregate] = []
        for line in lines.dropFirst() {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 7, let mn = Double(f[2]), let mx = Double(f[3]), let sum = Double(f[4]), let count = Int(f[5]) else { return }
            var c = ChannelAggregate(channel: f[0], unit: f[1])
            c.min = mn; c.max = mx; c.sum = sum; c.count = count; c.last = Double(f[6])
            restored.append(c)
        }
        guard restored.map(\.channel) == channelNames else { return }
        start = s
        channels = restored
    }
}

import EdgeCore
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import IOThread

/// The simulated sensors: each channel's value as a function of time, plus the faults a test or
/// an installer switched on.
///
/// @unchecked Sendable: every mutable field is read and written only while holding `lock`; the
/// server thread and the control thread share it.
final class SimulationModel: @unchecked Sendable {
    struct Channel {
        let spec: ChannelSpec
        var base: Double
        var fixed: Double?
        var sentinel = false
    }
    struct Device {
        let config: DeviceConfig
        var channels: [Channel]
        var silent = false
        var slowMS = 0
        var compressorFailedAt: Double?
    }

    private let lock = PlainLock()
    private var devices: [Int: Device] = [:]   // by slave id
    private let hold: Bool
    private let speed: Double
    private let start = Date().timeIntervalSince1970
    /// Where the simulated clock stands (`--demo-clock`); nil: it starts at the wall time of the start.
    private let origin: ClockOrigin
    private var rng: SplitMix

    init(devices configs: [DeviceConfig], seed: UInt64, hold: Bool, speed: Double, origin: ClockOrigin? = nil) {
        self.origin = origin ?? ClockOrigin(wall: start, simulated: start)
        self.hold = hold
        self.speed = max(0.001, speed)
        rng = SplitMix(seed: seed)
        for d in configs {
            var channels: [Channel] = []
            for spec in d.channels {
                channels.append(Channel(spec: spec, base: Self.initial(spec, device: d, rng: &rng)))
            }
            devices[d.slave] = Device(config: d, channels: channels)
        }
    }

    /// A plausible starting value for a channel of this kind, quantised to what its registers hold.
    static func initial(_ spec: ChannelSpec, device: DeviceConfig, rng: inout SplitMix) -> Double {
        let u = rng.unit()
        let v: Double
        switch spec.kind {
        case "temperature" where device.name.contains("cold") || device.profile.name.contains("th-"): v = 3.0 + 2.0 * u
        case "temperature": v = 15 + 10 * u
        case "humidity": v = 85 + 6 * u
        case "soil_moisture": v = 22 + 12 * u
        case "conductivity": v = 600 + 400 * u
        case "weight": v = 100 + 900 * u
        case "status": v = 1
        default: v = (spec.valid.map { $0.lowerBound + ($0.upperBound - $0.lowerBound) * (0.3 + 0.4 * u) }) ?? 100 * u
        }
        return quantise(v, spec)
    }

    static func quantise(_ v: Double, _ spec: ChannelSpec) -> Double {
        let regs = RegisterCodec.encode(v, channel: spec)
        return RegisterCodec.decode(regs, channel: spec)
    }

    /// The value served now for a channel, in engineering units.
    private func value(_ ch: Channel, _ device: Device, now: Double) -> Double {
        if let fixed = ch.fixed { return fixed }
        if hold { return ch.base }
        let t = (now - start) * speed  // simulated seconds
        let noise = (rng.unit() - 0.5) * 0.1
        switch ch.spec.kind {
        case "temperature" where ch.base < 10:
            if let failed = device.compressorFailedAt {
                // Without the compressor the air warms towards the hall's 28 °C with a time constant of
                // 90 minutes: about 0.27 °C a minute at first, slower as it nears the hall.
                let minutes = (now - failed) * speed / 60
                return ch.base + (28 - ch.base) * (1 - exp(-minutes / 90)) + noise
            }
            // Compressor cycling: a 20-minute sawtooth of ±1 °C around the set point, and a defrost
            // every 6 hours (each room at its own hour): heaters for 20 minutes, +2.5 °C, then pull-down.
            let phase = t.truncatingRemainder(dividingBy: 1200) / 1200
            let cycling = (phase < 0.7 ? phase / 0.7 : (1 - phase) / 0.3) * 2 - 1
            // A room whose site file declares its defrost cycle defrosts exactly then, on the simulated
            // clock (the origin + elapsed × speed), as the agent running on the same clock expects it.
            let warmth = device.config.defrost.flatMap { Self.declaredDefrostWarmth($0, at: origin.simulated(atWall: now, speed: speed)) }
                ?? Self.defrostWarmth(t + Double(device.config.slave) * 5400)
            return ch.base + cycling + warmth + noise
        case "temperature": return ch.base + 3 * sin(2 * .pi * t / 86_400) + noise
        case "humidity": return min(100, ch.base + 2 * sin(2 * .pi * t / 1200) + noise * 5)
        case "soil_moisture": return max(0, ch.base - (t.truncatingRemainder(dividingBy: 43_200)) / 3600 * 0.4 + noise)
        case "weight":
            // A delivery every 6 hours: ten 50 kg sacks, one every 30 s; three hours later they leave
            // the same way. Between the two the load sits still, as on a real platform scale.
            let into = t.truncatingRemainder(dividingBy: 6 * 3600)
            let sacks = into < 3 * 3600 ? min(10, Int(into / 30) + 1) : max(0, 10 - Int((into - 3 * 3600) / 30) - 1)
            return ch.base + Double(sacks) * 50 + noise
        default: return ch.base + noise
        }
    }

    /// Degrees above the set-point from a defrost every 6 h (starting 1 h in): the heaters warm the air
    /// 2.5 °C over 10 minutes and hold it for 10 more; the compressor then pulls it down in about 10.
    static func defrostWarmth(_ t: Double) -> Double {
        let into = (t - 3600).truncatingRemainder(dividingBy: 6 * 3600)
        guard into >= 0 else { return 0 }
        if into < 1200 { return 2.5 * min(1, into / 600) }
        return 2.5 * exp(-(into - 1200) / 240)
    }

    /// Degrees above the set-point at simulated time `time` (seconds since the epoch) from the defrosts
    /// a site file declares: `every` from UTC midnight, or the clock times `at`, the heater on for
    /// `duration` (warming 2.5 °C over 10 minutes), then the pull-down. Nil when nothing is declared.
    static func declaredDefrostWarmth(_ d: DefrostDeclaration, at time: Double) -> Double? {
        guard let duration = d.duration else { return nil }
        let into: Double
        if let every = d.every {
            into = time.truncatingRemainder(dividingBy: every)
        } else if let times = d.clockTimes, !times.isEmpty {
            let ofDay = time.truncatingRemainder(dividingBy: 86_400)
            into = times.map { ofDay >= $0 ? ofDay - $0 : ofDay + 86_400 - $0 }.min() ?? .infinity
        } else {
            return nil
        }
        if into < duration { return 2.5 * min(1, into / 600) }
        return 2.5 * min(1, duration / 600) * exp(-(into - duration) / 240)
    }

    /// Encodes the current values of the device at `slave` into `write(function, address, words)`.
    /// Returns nil for an unknown slave, or how long to delay the answer, and whether to answer.
    func prepare(slave: Int, write: (RegisterFunction, Int, [UInt16]) -> Void) -> (answer: Bool, delayMS: Int)? {
        lock.lock()
        defer { lock.unlock() }
        guard let device = devices[slave] else { return nil }
        if device.silent { return (false, 0) }
        let now = Date().timeIntervalSince1970
        for ch in device.channels {
            let words: [UInt16]
            if ch.sentinel, let s = ch.spec.sentinels.first {
                words = RegisterCodec.encodeRaw(s, type: ch.spec.type, order: ch.spec.order)
            } else {
                words = RegisterCodec.encode(value(ch, device, now: now), channel: ch.spec)
            }
            write(ch.spec.function, ch.spec.address, words)
        }
        return (true, device.slowMS)
    }

    /// Register tables each slave needs: the highest address used per table, plus one.
    func tableSizes(slave: Int) -> [RegisterFunction: Int] {
        lock.lock()
        defer { lock.unlock() }
        var sizes: [RegisterFunction: Int] = [:]
        for ch in devices[slave]?.channels ?? [] {
            sizes[ch.spec.function] = max(sizes[ch.spec.function] ?? 0, ch.spec.address + ch.spec.count)
        }
        return sizes
    }

    var slaves: [Int] {
        lock.lock()
        defer { lock.unlock() }
        return devices.keys.sorted()
    }

    /// Every served value as `{"device": {"channel": value}}`.
    func valuesJSON() -> String {
        lock.lock()
        defer { lock.unlock() }
        let now = Date().timeIntervalSince1970
        var w = JSONWriter()
        w.beginObject()
        for slave in devices.keys.sorted() {
            guard let d = devices[slave] else { continue }
            w.beginObject(d.config.name)
            for ch in d.channels { w.number(ch.spec.name, Self.quantise(value(ch, d, now: now), ch.spec)) }
            w.endObject()
        }
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// Applies one control command and returns the reply line.
    func command(_ line: String) -> String {
        let parts = line.split(separator: " ").map(String.init)
        guard let verb = parts.first else { return "error: empty command" }
        if verb == "values" { return "values \(valuesJSON())" }
        guard parts.count >= 2 else { return "error: '\(verb)' needs a device" }
        let target = parts[1].split(separator: ".", maxSplits: 1).map(String.init)
        guard !target.isEmpty else { return "error: name a device" }
        lock.lock()
        defer { lock.unlock() }
        guard let slave = devices.first(where: { $0.value.config.name == target[0] })?.key, var device = devices[slave] else {
            return "error: no device '\(target[0])'"
        }
        func channelIndex() -> Int? { target.count == 2 ? device.channels.firstIndex { $0.spec.name == target[1] } : nil }
        switch verb {
        case "silence": device.silent = true
        case "resume": device.silent = false
        case "slow":
            guard parts.count == 3, let ms = Int(parts[2]), (0...60_000).contains(ms) else { return "error: slow DEVICE MS (0–60000)" }
            device.slowMS = ms
        case "set":
            guard let i = channelIndex(), parts.count == 3, let v = Double(parts[2]) else { return "error: set DEVICE.CHANNEL VALUE" }
            device.channels[i].fixed = Self.quantise(v, device.channels[i].spec)
            device.channels[i].sentinel = false
        case "release":
            guard let i = channelIndex() else { return "error: release DEVICE.CHANNEL" }
            device.channels[i].fixed = nil
            device.channels[i].sentinel = false
        case "sentinel":
            guard let i = channelIndex(), !device.channels[i].spec.sentinels.isEmpty else { return "error: that channel has no sentinel" }
            device.channels[i].sentinel = true
        case "fail": device.compressorFailedAt = Date().timeIntervalSince1970
        case "repair": device.compressorFailedAt = nil
        default: return "error: unknown command '\(verb)'"
        }
        devices[slave] = device
        return "ok"
    }
}

/// A small seeded generator (SplitMix64), so a seed always serves the same values.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

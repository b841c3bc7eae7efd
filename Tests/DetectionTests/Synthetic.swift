import Detection
import Foundation

/// Deterministic generator (SplitMix64) so every test run sees the same series.
struct SeededRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func normal(_ sd: Double) -> Double {
        let u1 = max(uniform(), 1e-12)
        let u2 = uniform()
        return sd * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}

struct Sample {
    var time: Double
    var value: Double?
}

/// 2026-03-01 00:00:00 UTC.
let t0 = 1_772_323_200.0

enum Synthetic {
    /// A healthy cold room at 1-minute polls: 3.5 °C, compressor cycling ±0.5 °C every 40 min, noise,
    /// a 20-minute defrost to about +5 °C every 6 h, and a few short door openings a day.
    static func coldRoom(days: Double, seed: UInt64 = 1, start: Double = t0) -> [Sample] {
        var rng = SeededRandom(seed: seed)
        let n = Int(days * 1440)
        var doorUntil = -1.0
        var doorPeak = 0.0
        return (0..<n).map { i in
            let t = start + Double(i) * 60
            let minute = Double(i)
            let phase = minute.truncatingRemainder(dividingBy: 40) / 40
            var v = 3.5 + (phase < 0.5 ? phase : 1 - phase) * 2 - 0.5 + rng.normal(0.08)
            let inCycle = minute.truncatingRemainder(dividingBy: 360) - 5
            if inCycle >= 0 && inCycle < 20 {
                v += inCycle < 8 ? 5 * inCycle / 8 : 5 * exp(-(inCycle - 8) / 4)
            }
            if doorUntil < minute && rng.uniform() < 4.0 / 1440 {
                doorUntil = minute + 4
                doorPeak = 2 + 2 * rng.uniform()
            }
            if minute <= doorUntil { v += doorPeak * (doorUntil - minute) / 4 }
            return Sample(time: t, value: v)
        }
    }

    /// Soil moisture at 5-minute polls: slow drying with a daily wiggle and an irrigation step of
    /// +6…10 points every two days.
    static func soil(days: Double, seed: UInt64 = 2) -> [Sample] {
        var rng = SeededRandom(seed: seed)
        let n = Int(days * 288)
        var level = 28.0
        return (0..<n).map { i in
            let t = t0 + Double(i) * 300
            level -= 1.5 / 288
            if i > 0 && i % 576 == 100 { level += 6 + 4 * rng.uniform() }
            let wiggle = 0.4 * sin(2 * .pi * Double(i % 288) / 288)
            return Sample(time: t, value: level + wiggle + rng.normal(0.15))
        }
    }

    /// A scale at 30-second polls: 1200 kg with 0.4 kg noise; loading and unloading steps of 50–400 kg
    /// (some sacks at a time, single-sample steps) during the day.
    static func scale(days: Double, seed: UInt64 = 3) -> [Sample] {
        var rng = SeededRandom(seed: seed)
        let n = Int(days * 2880)
        var load = 1200.0
        return (0..<n).map { i in
            let t = t0 + Double(i) * 30
            let hour = Double(i % 2880) / 120
            if hour > 8 && hour < 17 && rng.uniform() < 6.0 / 1080 {
                let delta = (50 + 350 * rng.uniform()) * (rng.uniform() < 0.5 ? -1 : 1)
                load = max(100, load + delta)
            }
            return Sample(time: t, value: load + rng.normal(0.35))
        }
    }
}

/// Runs a detector over a series and collects what it said.
struct Run {
    var outputs: [DetectorOutput] = []
    var events: [AlertEvent] { outputs.compactMap(\.event) }
    var raises: [AlertEvent] { events.filter { $0.phase == .raise } }
    var clears: [AlertEvent] { events.filter { $0.phase == .clear } }

    /// Index of the first sample with an open alert, if any.
    var firstAlert: Int? { outputs.firstIndex { $0.alert } }

    init(_ detector: inout ChannelDetector, _ samples: [Sample]) {
        outputs.reserveCapacity(samples.count)
        for s in samples { outputs.append(detector.update(time: s.time, value: s.value)) }
    }
}

func detector(_ kind: ChannelKind, channel: String = "test") -> ChannelDetector {
    ChannelDetector(channel: channel, config: .defaults(for: kind))
}

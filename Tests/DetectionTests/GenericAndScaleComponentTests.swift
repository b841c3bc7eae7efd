@testable import Detection
import Testing

/// The components added for scales and generic channels: `DriftRate` with steps from the channel's own
/// noise, `NegativeWeight`, `DayOverDay` and `SpikeBurst`.
@Suite("Scale and generic components")
struct GenericAndScaleComponentTests {
    /// A small deterministic noise in ±amplitude (no Foundation random: the same on every run).
    struct Wobble {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        mutating func next(_ amplitude: Double) -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (Double(state >> 11) / Double(1 << 53) * 2 - 1) * amplitude
        }
    }

    static let t0 = 1_772_323_200.0

    @Test("drift: sacks far smaller than a fixed 20 kg step are steps on a small scale; a slow leak is not")
    func driftSteps() {
        let config = DetectorConfig.defaults(for: .weight, sampleInterval: 30)
        var d = DriftRate(settings: config.drift!, config: config)
        var w = Wobble()
        var load = 100.0
        var worst = 0.0
        // Two days of 2 kg sacks every few minutes in working hours, noise ±0.05 kg.
        for i in 0..<(2 * 2880) {
            let hour = Double(i % 2880) / 120
            if hour >= 8 && hour < 16 && i % 7 == 0 { load += i % 14 == 0 ? 2 : -2 }
            worst = max(worst, d.update(time: Self.t0 + Double(i) * 30, x: load + w.next(0.05), level: load))
        }
        #expect(worst == 0, "loading in small sacks scored \(worst)")
        // A leak of 3 % over 4 hours at night.
        var scored = 0.0
        for k in 0..<480 {
            let i = 2 * 2880 + k
            scored = max(scored, d.update(time: Self.t0 + Double(i) * 30, x: load * (1 - 0.03 * Double(k) / 480) + w.next(0.05), level: load))
        }
        #expect(scored == 1, "the leak scored \(scored)")
    }

    @Test("negative weight: an empty scale wandering a little below zero is fine, a lost tare is not")
    func negative() {
        var n = NegativeWeight(margin: 5)
        var w = Wobble()
        for _ in 0..<200 { #expect(n.update(x: -3 + w.next(1), localMedian: -3, noise: 0.5) == 0) }
        #expect(n.update(x: -12, localMedian: -3, noise: 0.5) == 1)
        #expect(n.floor <= -3 + 1e-9)
    }

    @Test("day over day: a daily cycle stays quiet, a level shift at an unusual hour alerts")
    func dayOverDay() {
        var d = DayOverDay(sampleInterval: 300)
        var w = Wobble()
        func value(_ i: Int) -> Double {
            let hour = Double(i % 288) / 12
            return 20 + (hour >= 8 && hour < 18 ? 10 : 0) + w.next(0.3)
        }
        var worst = 0.0
        for i in 0..<(4 * 288) { worst = max(worst, d.update(time: Self.t0 + Double(i) * 300, x: value(i))) }
        #expect(worst == 0, "the daily cycle scored \(worst)")
        var hit = 0.0
        for i in (4 * 288)..<(4 * 288 + 24) {                 // 00:00–02:00 on day 5, +12
            hit = max(hit, d.update(time: Self.t0 + Double(i) * 300, x: value(i) + 12))
        }
        #expect(hit == 1)
    }

    @Test("spike burst: one glitch is nothing, two within ten readings alert, a step that stays does not")
    func spikeBurst() {
        var s = SpikeBurst()
        var w = Wobble()
        var i = 0
        func feed(_ x: Double) -> Double { i += 1; return s.update(x: x, noise: 0.2) }
        for _ in 0..<200 { _ = feed(10 + w.next(0.3)) }
        #expect(feed(30) == 0)
        for _ in 0..<20 { #expect(feed(10 + w.next(0.3)) == 0) }
        _ = feed(30)
        _ = feed(10)
        _ = feed(-10)
        #expect(feed(10) == 1)
        var stepped = SpikeBurst()
        var raised = 0.0
        for k in 0..<300 { raised = max(raised, stepped.update(x: (k < 200 ? 10 : 30) + w.next(0.3), noise: 0.2)) }
        #expect(raised == 0)
    }

    @Test("spike burst: a quantised flat series dithering by one grid step is not a burst; a tall one is")
    func spikeBurstDither() {
        var s = SpikeBurst()
        var k = 0
        func feed(_ x: Double) -> Double { k += 1; return s.update(x: x, noise: 0, step: 0.1) }
        // 23.7 and 23.8 (a 0.1 V grid), then two one-step blips to 23.9 within ten readings.
        for i in 0..<200 { _ = feed(i % 9 == 0 ? 23.7 : 23.8) }
        var worst = 0.0
        for x in [23.9, 23.8, 23.8, 23.9, 23.8, 23.8, 23.8] { worst = max(worst, feed(x)) }
        #expect(worst == 0)
        for x in [25.0, 23.8, 23.8, 25.0, 23.8] { worst = max(worst, feed(x)) }
        #expect(worst == 1)
    }

    @Test("generic: a plateau the series held in the last days does not raise at a new hour; a new level does")
    func genericPlateauGate() {
        let config = DetectorConfig.defaults(for: .generic, sampleInterval: 300)
        var p = GenericPipeline(config: config)
        var w = Wobble()
        var t = Self.t0
        func run(hours: Double, level: Double) -> Double {
            var worst = 0.0
            for _ in 0..<Int(hours * 12) { worst = max(worst, p.update(time: t, x: level + w.next(0.05), alerting: false).score); t += 300 }
            return worst
        }
        // Three days: 10 by night, 40 from 08:00 to 16:00.
        for _ in 0..<3 { _ = run(hours: 8, level: 10); _ = run(hours: 8, level: 40); _ = run(hours: 8, level: 10) }
        // Day four: 40 already from 02:00 (a known plateau at a new hour), then 90 (never seen).
        _ = run(hours: 2, level: 10)
        #expect(run(hours: 4, level: 40) == 0)
        #expect(run(hours: 2, level: 90) > 0.5)
    }
}

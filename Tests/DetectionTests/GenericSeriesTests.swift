@testable import Detection
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Generic channels on the shapes the sweep found hard: a register set by hand, a machine's modes, a
/// pump cycle faster than the polls, a flat night before dawn. Each normal shape must stay quiet at
/// both ends of the sampling range (5 s and 1 h), and the fault it hides must still alert.
@Suite("Generic series")
struct GenericSeriesTests {
    typealias Wobble = GenericAndScaleComponentTests.Wobble
    static let t0 = GenericAndScaleComponentTests.t0
    static let intervals: [Double] = [5, 3600]

    /// Runs a generic pipeline with the kind's defaults over `value(hour)` from `from` to `to` hours,
    /// as the gate would see it (the alert stays open while the score is above the clear level).
    struct Run {
        var pipeline: GenericPipeline
        let dt: Double
        var hour = 0.0
        var alerting = false

        init(dt: Double) {
            self.dt = dt
            pipeline = GenericPipeline(config: .defaults(for: .generic, sampleInterval: dt))
        }

        /// The highest score over the span.
        mutating func run(until: Double, _ value: (Double) -> Double) -> Double {
            var worst = 0.0
            while hour < until {
                let s = pipeline.update(time: GenericSeriesTests.t0 + hour * 3600, x: value(hour), alerting: alerting).score
                if s >= 0.8 { alerting = true } else if s < 0.3 { alerting = false }
                worst = max(worst, s)
                hour += dt / 3600
            }
            return worst
        }
    }

    @Test("value grid: read from the values, only ever shrinks, 0.001 for a continuous series")
    func valueGrid() {
        var g = ValueGrid()
        #expect(g.step == .infinity)
        for x in [20.0, 30, 40] { g.note(x) }
        #expect(g.step == 10)
        g.note(81)
        #expect(g.step == 1)
        g.note(92.5)
        #expect(abs(g.step - 0.5) < 1e-12)
        g.note(3.14159)
        #expect(abs(g.step - 0.001) < 1e-12)
        #expect(ValueGrid.below(1000) == 500 && ValueGrid.below(500) == 200 && ValueGrid.below(200) == 100)
        #expect(abs(ValueGrid.below(0.1) - 0.05) < 1e-12)
    }

    @Test("a register set by hand: still for days, hand changes of 1–3 steps are quiet; a 5-step fault alerts", arguments: intervals)
    func handSetRegister(dt: Double) {
        var r = Run(dt: dt)
        // 81 for two days and a half; then hand changes −3 and −1 within a day (they add up to 4).
        var worst = r.run(until: 60) { _ in 81 }
        worst = max(worst, r.run(until: 70) { _ in 78 })
        worst = max(worst, r.run(until: 90) { _ in 77 })
        #expect(worst == 0, "hand changes scored \(worst) at dt \(dt)")
        // A fault: five steps above anything held (a register that never moved still shows its grid).
        #expect(r.run(until: 100) { _ in 86 } >= 0.8)
    }

    @Test("a register that never moved: its first move of 4 steps is a fault, not its grid", arguments: intervals)
    func neverMoved(dt: Double) {
        var r = Run(dt: dt)
        #expect(r.run(until: 60) { _ in 81 } == 0)
        #expect(r.run(until: 70) { _ in 77 } >= 0.8)
    }

    @Test("a machine's modes at random: quiet; a level two steps above its highest mode alerts", arguments: intervals)
    func modes(dt: Double) {
        var r = Run(dt: dt)
        var w = Wobble()
        var mode = 0.0
        var next = 0.0
        // Four modes 10 apart, switching every 1–5 hours (the hour of the switch is not daily).
        let modes: (Double) -> Double = { h in
            if h >= next { mode = Double(Int((w.next(1) + 1) * 2) % 4); next = h + 1 + 2 * (w.next(1) + 1) }
            return 20 + 10 * mode + w.next(0.1)
        }
        #expect(r.run(until: 96, modes) == 0)
        // A shift that takes the machine to a level it never held: its modes + 40 (two mode steps above the top).
        #expect(r.run(until: 108) { h in modes(h) + 40 } >= 0.8)
    }

    @Test("a slow wander (a ground temperature) in its first days is quiet; a shift by twice its range alerts", arguments: intervals)
    func slowWander(dt: Double) {
        var r = Run(dt: dt)
        var w = Wobble()
        // No daily period: slow swings of 31, 53 and 77 hours, 1.5 wide in all, and a little noise.
        let wander: (Double) -> Double = { h in
            15 + 0.3 * sin(2 * .pi * h / 31) + 0.25 * sin(2 * .pi * h / 53 + 1) + 0.2 * sin(2 * .pi * h / 77 + 2) + w.next(0.01)
        }
        #expect(r.run(until: 96, wander) == 0)
        #expect(r.run(until: 110) { h in wander(h) + 3 } >= 0.8)
    }

    @Test("a pump cycle faster than the polls: readings all over its band are quiet; a burst of glitches beyond it alerts")
    func aliasedCycle() {
        var s = SpikeBurst()
        var w = Wobble()
        // Each reading anywhere in 2.0…3.0 (the cycle is shorter than the poll): the reading-to-reading
        // noise is a third of the band, the band's tails are short.
        var noise = 0.0
        var worst = 0.0
        var previous = 2.5
        var changes: [Double] = []
        for _ in 0..<2000 {
            let x = 2.5 + w.next(0.5)
            changes.append(abs(x - previous)); previous = x
            if changes.count > 63 { changes.removeFirst() }
            noise = changes.sorted()[changes.count * 3 / 4] / 1.15 / 2.0.squareRoot()
            worst = max(worst, s.update(x: x, noise: noise, step: 0.001))
        }
        #expect(worst == 0)
        // Glitches to 0.6 and 4.3 (1.4 and 1.3 below and above the band) within ten readings.
        var hit = 0.0
        for x in [0.6, 2.4, 2.7, 4.3, 2.6, 2.5] { hit = max(hit, s.update(x: x, noise: noise, step: 0.001)) }
        #expect(hit == 1)
    }

    @Test("a flat night and a dawn: the rise edging out of the night's band is not a burst", arguments: [60.0, 300])
    func dawn(dt: Double) {
        var s = SpikeBurst()
        var w = Wobble()
        var worst = 0.0
        // 12 h of night at 500 ± a 0.1 dither, then a sunrise climbing 40 over 3 h with the same dither.
        let n = Int(12 * 3600 / dt)
        for _ in 0..<n { worst = max(worst, s.update(x: 500 + w.next(0.1), noise: 0.06, step: 0.01)) }
        for k in 0..<Int(3 * 3600 / dt) {
            let rise = 40 * Double(k) * dt / (3 * 3600)
            worst = max(worst, s.update(x: 500 + rise * rise / 40 + w.next(0.1), noise: 0.06, step: 0.01))
        }
        #expect(worst == 0)
    }

    @Test("spike burst on a register that never moved: two glitches alert")
    func glitchesOnAStillRegister() {
        var s = SpikeBurst()
        for _ in 0..<200 { #expect(s.update(x: 83, noise: 0, step: 0) == 0) }
        var hit = 0.0
        for x in [95.0, 83, 83, 72, 83, 83] { hit = max(hit, s.update(x: x, noise: 0, step: 0)) }
        #expect(hit == 1)
    }

    @Test("level memory: the envelope of earlier buckets, the current one left out")
    func envelope() {
        var m = LevelMemory(memory: 48 * 3600, sampleInterval: 60)
        #expect(m.outside(5).distance == .infinity)
        m.note(time: 0, level: 10)
        m.note(time: 1800, level: 20)
        #expect(m.outside(25).distance == .infinity)    // only the current bucket so far
        m.note(time: 3600, level: 15)                   // a new bucket: the first is now earlier
        #expect(m.outside(25).distance == 5 && m.outside(25).width == 10)
        #expect(m.outside(12).distance == 0)
    }
}

@testable import Detection
import Foundation
import Testing

@Suite("Components")
struct ComponentTests {
    @Test("validity: missing, in-range and out-of-range sentinels, impossible values")
    func validity() {
        var c = DetectorConfig.defaults(for: .coldRoom)
        c.sentinels = [85, -127]
        var v = Validity(config: c)
        #expect(v.check(nil) == .missing)
        #expect(v.check(.nan) == .missing)
        #expect(v.check(3.5) == .valid)
        #expect(v.check(85) == .sentinel)                       // outside −40…60, still a sentinel
        #expect(v.check(-127) == .sentinel)
        #expect(v.check(61) == .outOfRange)
        c.validMax = 100
        var inRange = Validity(config: c)
        #expect(inRange.check(85) == .sentinel)     // inside the range now: checked first
        #expect(inRange.check(4.1) == .valid)
        #expect(inRange.check(85) == .sentinel)     // a jump to the code: the firmware's "no reading"
        #expect(inRange.check(85) == .sentinel)     // and it stays there
    }

    @Test("validity: a real quantity passing through a sentinel's number stays valid; a jump to it does not")
    func sentinelContinuity() {
        var c = DetectorConfig.defaults(for: .weight)   // 6553.5 and 65535 are codes of 16-bit firmware
        c.validMin = nil
        c.validMax = nil
        var v = Validity(config: c)
        // A scale loaded through 6553.5 kg in 0.5 kg steps: every reading is a weight.
        for w in stride(from: 6550.0, through: 6557.0, by: 0.5) { #expect(v.check(w) == .valid, "\(w) kg") }
        // The same number straight after 412 kg is the firmware's code.
        #expect(v.check(412) == .valid)
        #expect(v.check(6553.5) == .sentinel)
        #expect(v.check(6553.5) == .sentinel)
        #expect(v.check(413) == .valid)
        // A counter that counts up to 65535 reaches it from 65534.
        #expect(v.check(65534) == .valid)
        #expect(v.check(65535) == .valid)
    }

    @Test("no data: half a score until the delay, then 1; an answer resets")
    func noData() {
        var w = NoDataWatch(after: 600)
        #expect(w.missing(at: 0) == 0)
        #expect(abs(w.missing(at: 300) - 0.25) < 1e-9)
        #expect(w.missing(at: 600) == 1)
        w.answered()
        #expect(w.missing(at: 700) == 0)
    }

    @Test("gate: clear delay in samples with time as upper bound; refractory after a clear")
    func gateSamples() {
        var g = HysteresisGate(clearAfter: 6 * 3600, clearAfterSamples: 3, refractory: 3600, refractorySamples: 4)
        #expect(g.update(time: 0, score: 1) == .raised)
        #expect(g.update(time: 300, score: 0) == .none)
        #expect(g.update(time: 600, score: 0) == .none)
        #expect(g.update(time: 900, score: 0) == .cleared)       // 3 samples, long before 6 h
        for i in 1...4 { #expect(g.update(time: 900 + Double(i) * 300, score: 1) == .none) }   // refractory
        #expect(g.update(time: 900 + 5 * 300, score: 1) == .raised)
    }

    @Test("noise scale: a flat series with MAD 0 still has a spread; ordinary noise is not inflated")
    func noiseFloor() {
        var n = NoiseScale(capacity: 64, minSpread: nil)
        for i in 0..<200 { n.push(i % 50 == 0 ? 21 : 20) }      // MAD 0, moves by whole units
        #expect(n.sigma() >= 0.5)
        var rng = SeededRandom(seed: 4)
        var m = NoiseScale(capacity: 256, minSpread: nil)
        for _ in 0..<1000 { m.push(5 + rng.normal(0.2)) }
        #expect(abs(m.sigma() - 0.2) < 0.05)
    }

    @Test("stuck: a sensor that is legitimately flat for 50 minutes learns not to alert on 70")
    func stuckLearns() {
        var s = StuckDetector(settings: StuckSettings(duration: 3600))
        var t = 0.0
        for cycle in 0..<5 {
            for _ in 0..<50 { _ = s.update(time: t, x: Double(cycle % 2)); t += 60 }
        }
        #expect(s.longestNormalRun >= 49 * 60)
        var top = 0.0
        for _ in 0..<70 { top = max(top, s.update(time: t, x: 7)); t += 60 }
        #expect(top < 0.8)
        #expect(s.required >= 98 * 60)
    }

    /// Feeds `n` readings of a live load cell: noise 0.6 of its 1 kg display step around 500 kg, every `dt` s.
    private func flicker(_ s: inout StuckDetector, _ rng: inout SeededRandom, n: Int, t: inout Double, dt: Double) {
        for _ in 0..<n { _ = s.update(time: t, x: (500 + rng.normal(0.6)).rounded()); t += dt }
    }

    @Test("stuck: a coarse load cell read every 20 s, frozen for 40 minutes, alerts (not after 2 h)")
    func stuckCoarseFast() {
        var s = StuckDetector(settings: StuckSettings(duration: 1800))
        var rng = SeededRandom(seed: 7)
        var t = 0.0
        flicker(&s, &rng, n: 2000, t: &t, dt: 20)
        #expect(s.isCoarse)                                  // about 45 % of its consecutive readings are equal
        var alertedAfter = Double.nan
        let start = t
        for _ in 0..<120 where alertedAfter.isNaN {
            if s.update(time: t, x: 498) >= 0.8 { alertedAfter = t - start }
            t += 20
        }
        #expect(alertedAfter >= 1800 && alertedAfter <= 1900, "alerted after \(alertedAfter) s")
    }

    @Test("stuck: the same coarse load cell read every 5 min may sit on one step for an hour")
    func stuckCoarseSlow() {
        var s = StuckDetector(settings: StuckSettings(duration: 1800))
        var rng = SeededRandom(seed: 8)
        var t = 0.0
        flicker(&s, &rng, n: 2000, t: &t, dt: 300)
        var top = 0.0
        for _ in 0..<13 { top = max(top, s.update(time: t, x: 498)); t += 300 }   // 12 repeats: about 1 in 600
        #expect(top < 0.8)
        for _ in 0..<40 { top = max(top, s.update(time: t, x: 498)); t += 300 }   // 4 h: impossible for a live cell
        #expect(top >= 0.8)
    }

    @Test("stuck: before it knows how coarse the sensor is, a run must last the coarse sensor's time")
    func stuckWarmUp() {
        var s = StuckDetector(settings: StuckSettings(duration: 1800))
        var t = 0.0
        var top = 0.0
        for _ in 0..<20 { top = max(top, s.update(time: t, x: 480)); t += 226 }      // 75 min, 20 readings
        #expect(top < 0.8)
    }

    @Test("stuck: a flat run while the channel alerts (a cable cut to 0 %) is not learned as normal")
    func stuckIgnoresFaultRuns() {
        var s = StuckDetector(settings: StuckSettings(duration: 3 * 3600))
        var rng = SeededRandom(seed: 9)
        var t = 0.0
        for _ in 0..<600 { _ = s.update(time: t, x: 30 + rng.normal(0.2)); t += 60 }
        for _ in 0..<600 { _ = s.update(time: t, x: 0, alerting: true); t += 60 }    // 10 h at exactly 0
        for _ in 0..<600 { _ = s.update(time: t, x: 30 + rng.normal(0.2)); t += 60 }
        #expect(s.longestNormalRun < 3600)
        var top = 0.0
        for _ in 0..<(4 * 60) { top = max(top, s.update(time: t, x: 29.8)); t += 60 }
        #expect(top >= 0.8)
    }

    @Test("rise projection: 0.3 °C/min from 3.5 °C is reported with rate and minutes to 8 °C")
    func projection() {
        var r = RiseProjection(settings: RiseSettings(), sampleInterval: 60)
        var score = 0.0
        var t = 0.0
        for _ in 0..<30 { score = r.update(time: t, x: 3.5, baseline: 3.5, sigma: 0.1, explained: false); t += 60 }
        #expect(score == 0)
        var x = 3.5
        while score < 0.8 && x < 8 { x += 0.3; score = r.update(time: t, x: x, baseline: 3.5, sigma: 0.1, explained: false); t += 60 }
        #expect(score >= 0.8)
        // Early in a rise the rate over the span still includes some flat readings: it is underestimated
        // (the projection errs late, never early); the arithmetic is (limit − envelope) / rate.
        #expect(r.ratePerMinute > 0.15 && r.ratePerMinute <= 0.31)
        let envelope = x - 0.3 * 4                               // minimum of the last 5 readings
        #expect(abs(r.minutesToLimit - (8 - envelope) / r.ratePerMinute) < 0.01)
        #expect(x < 8, "alerted at \(x) °C")
    }

    @Test("rise projection: nothing while the envelope is below the excursion onset")
    func riseNeedsOnset() {
        var r = RiseProjection(settings: RiseSettings(), sampleInterval: 60)
        var top = 0.0
        var x = 3.5
        for i in 0..<40 {
            x += 0.3
            top = max(top, r.update(time: Double(i) * 60, x: x, baseline: 3.5, sigma: 0.1, onset: 100, explained: false))
        }
        #expect(top == 0)
    }

    @Test("rise projection: a door burst that recovers never scores")
    func doorBurst() {
        var r = RiseProjection(settings: RiseSettings(), sampleInterval: 60)
        var top = 0.0
        for i in 0..<120 {
            let m = i % 20
            let x = 3.5 + (m < 4 ? Double(m) * 1.5 : max(0, 6 - Double(m - 4) * 0.5))
            top = max(top, r.update(time: Double(i) * 60, x: x, baseline: 3.5, sigma: 0.1, explained: false))
        }
        #expect(top < 0.8)
    }

    @Test("the alert limit: 8 °C for a chiller, relative to the set-point for a freezer or a warm room")
    func limits() {
        let s = RiseSettings()
        #expect(s.limit(baseline: 3.5) == 8)
        #expect(s.limit(baseline: -20) == -15)
        #expect(s.limit(baseline: 12) == 15)
        #expect(RiseSettings(limit: 6).limit(baseline: 3.5) == 6)
    }
}

@Suite("Defrost schedule")
struct DefrostScheduleTests {
    /// Feeds a flat room at 60 s with a 30-minute excursion of +5 °C every `period` from `phase`.
    private func feed(_ s: inout DefrostSchedule, from: Double, to: Double, period: Double, phase: Double) -> [Bool] {
        var out: [Bool] = []
        var t = from
        while t < to {
            let into = (t - phase).truncatingRemainder(dividingBy: period)
            let x = into >= 0 && into < 1800 ? 8.5 : 3.5
            out.append(s.update(time: t, x: x, floor: 3.5, threshold: 1))
            t += 60
        }
        return out
    }

    @Test("locks after four evenly spaced self-ending excursions, not three")
    func locks() {
        var s = DefrostSchedule(settings: DefrostSettings(), sampleInterval: 60)
        let p = 6 * 3600.0
        _ = feed(&s, from: 0, to: 3 * p - 600, period: p, phase: 600)
        #expect(s.lock == nil)
        _ = feed(&s, from: 3 * p - 600, to: 4 * p, period: p, phase: 600)
        let lock = s.lock
        #expect(lock.map { abs($0.period - p) < 120 } == true)
        #expect(lock.map { $0.longest >= 1800 && $0.longest < 2400 } == true)
    }

    @Test("re-locks within three cycles after the schedule moves by two hours (a clock step)")
    func relocks() {
        var s = DefrostSchedule(settings: DefrostSettings(), sampleInterval: 60)
        let p = 6 * 3600.0
        _ = feed(&s, from: 0, to: 5 * p, period: p, phase: 600)
        #expect(s.lock != nil)
        _ = feed(&s, from: 5 * p, to: 9 * p, period: p, phase: 600 + 7200)
        let l = s.lock
        let phase = l.map { ($0.phase - 600 - 7200).truncatingRemainder(dividingBy: p) }
        #expect(phase.map { abs($0) < 600 } == true, "\(String(describing: phase))")
    }

    @Test("defrosts hidden by a fault do not hand the lock to a multiple of the period")
    func noMultipleAfterHiddenDefrosts() {
        // Defrosts every 6 h whose timed length varies (a defrost that barely clears the excursion
        // threshold is timed from a crossing that varies: 24 or 32 min); two in a row hidden (a stuck
        // sensor, a door left open): for a while the real period misses two of its newest four cycles
        // while every third one (18 h) has all of its own.
        var s = DefrostSchedule(settings: DefrostSettings(), sampleInterval: 60)
        let p = 6 * 3600.0
        var t = 0.0
        var periods: [Double] = []
        while t < 16 * p {
            let k = Int((t - 600) / p)
            let into = (t - 600).truncatingRemainder(dividingBy: p)
            let length = k % 2 == 0 ? 1440.0 : 1920
            let hidden = k == 10 || k == 11
            let x = t >= 600 && into < length && !hidden ? 8.5 : 3.5
            _ = s.update(time: t, x: x, floor: 3.5, threshold: 1)
            if let l = s.lock { periods.append(l.period) }
            t += 60
        }
        #expect(!periods.isEmpty)
        #expect(periods.allSatisfy { abs($0 - p) < 600 }, "locked on \(Set(periods.map { Int($0 / 60) })) min")
    }

    @Test("a declared schedule tolerates its defrost and not an excursion between")
    func declared() {
        var s = DefrostSchedule(settings: DefrostSettings(every: 8 * 3600, duration: 2400, learn: false), sampleInterval: 60)
        #expect(s.allowance(start: 8 * 3600 + 60) == 8 * 3600 + 2400 + 900)
        #expect(s.allowance(start: 12 * 3600) == -.infinity)
        let inside = s.update(time: 8 * 3600 + 120, x: 9, floor: 3.5, threshold: 1)
        #expect(inside)
    }

    @Test("a failure that begins inside an expected defrost is no longer explained once it outlasts the heater")
    func heaterOverrun() {
        var s = DefrostSchedule(settings: DefrostSettings(every: 8 * 3600, duration: 2400, learn: false), sampleInterval: 60)
        // Heater from 8 h on for 24 min (3.5 → 8.5 °C), then no cooling: the room keeps warming 0.1 °C/min.
        var explained: [Bool] = []
        var t = 8 * 3600.0
        while t < 8 * 3600 + 3600 {
            let u = t - 8 * 3600
            let x = u < 1440 ? 3.5 + 5 * u / 1440 : 8.5 + 0.1 * (u - 1440) / 60
            explained.append(s.update(time: t, x: x, floor: 3.5, threshold: 1))
            t += 60
        }
        #expect(explained[10])                                  // inside the heater phase
        #expect(!explained[50], "still rising 50 min in: 0.75 × 40 min + 5 min is past")
        #expect(s.overran)
    }

    @Test("the controller's status decides while it is fresh")
    func status() {
        var s = DefrostSchedule(settings: DefrostSettings(), sampleInterval: 60)
        s.noteStatus(active: false, time: 0)
        let before = s.update(time: 60, x: 9, floor: 3.5, threshold: 1)    // warm, but the controller says no
        s.noteStatus(active: true, time: 120)
        let during = s.update(time: 180, x: 9, floor: 3.5, threshold: 1)
        s.noteStatus(active: false, time: 1800)
        let recovering = s.update(time: 2400, x: 6, floor: 3.5, threshold: 1)  // within the margin
        let after = s.update(time: 1800 + 960, x: 6, floor: 3.5, threshold: 1)
        #expect(!before && during && recovering && !after)
    }
}

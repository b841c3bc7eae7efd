import Detection
import Foundation
import Testing

@Suite("Daily pattern")
struct DailyPatternTests {
    /// A quantity on a timer: 10 ± 0.2 noise, +3 from 10:00 to 16:00 UTC every day (lights, a vent,
    /// a pump), sampled every minute. `extra` adds +3 in other (day, hour-range) windows.
    private func timerSeries(days: Int, seed: UInt64, extra: [(day: Int, from: Int, to: Int)] = []) -> [Sample] {
        var rng = SeededRandom(seed: seed)
        return (0..<(days * 1440)).map { i in
            let day = i / 1440
            let hour = (i % 1440) / 60
            var v = 10 + rng.normal(0.2)
            if hour >= 10 && hour < 16 { v += 3 }
            for w in extra where w.day == day && hour >= w.from && hour < w.to { v += 3 }
            return Sample(time: t0 + Double(i) * 60, value: v)
        }
    }

    /// The level detector these tests exercise: a generic channel with the learned baseline, the daily
    /// pattern and the novelty gate (the generic defaults now use `DayOverDay` instead).
    static func levelConfig() -> DetectorConfig {
        var config = DetectorConfig.defaults(for: .generic)
        config.dayOverDay = nil
        config.level = LevelSettings(
            window: 6 * 3600, quantile: 0.5, low: 0, high: 0, sigmaLow: 6, sigmaHigh: 10,
            baselineTimeConstant: 12 * 3600, warmup: 2 * 86_400, daily: true,
            windowSamples: 16, warmupSamples: 120, novelty: 2 * 86_400)
        config.clearAfterSamples = 15
        return config
    }

    private func generic(daily: Bool) -> ChannelDetector {
        var config = Self.levelConfig()
        config.level?.daily = daily
        // Without the daily pattern, the control: the novelty gate would also keep the daily +3 from
        // raising again (it is a level shown the day before), which is not what these tests measure.
        if !daily { config.level?.novelty = nil }
        return ChannelDetector(channel: "greenhouse.humidity", config: config)
    }

    @Test("a daily timer cycle alerts every day without the pattern, and stops once it is learned")
    func learnedCycleIsQuiet() {
        let samples = timerSeries(days: 10, seed: 21)
        let learnedFrom = 4 * 1440      // after the 3-day warm-up of the pattern, plus a day

        var plain = generic(daily: false)
        let without = Run(&plain, samples)
        let lateWithout = without.events.filter { $0.phase == .raise && $0.time >= samples[learnedFrom].time }
        // The control: the same series does alert day after day when nothing knows the time of day.
        #expect(lateWithout.count >= 5, "raises without a daily pattern: \(lateWithout.count)")

        var learning = generic(daily: true)
        let with = Run(&learning, samples)
        let lateWith = with.events.filter { $0.phase == .raise && $0.time >= samples[learnedFrom].time }
        #expect(lateWith.isEmpty, "raised: \(lateWith.map(\.message))")
    }

    @Test("the same step at an unusual hour still alerts, as a deviation, once the pattern is learned")
    func unusualHourAlerts() throws {
        let samples = timerSeries(days: 9, seed: 22, extra: [(day: 8, from: 1, to: 5)])
        var d = generic(daily: true)
        let run = Run(&d, samples)
        let night = samples[8 * 1440 + 60].time
        let raise = try #require(run.events.first { $0.phase == .raise && $0.time >= night })
        #expect(raise.kind == .deviation)
        #expect(raise.time - night <= 30 * 60, "raised \(raise.time - night) s after the step")
        #expect(raise.message.contains("higher than usual"))
        // And nothing between the end of the warm-up and that night.
        let before = run.events.filter { $0.phase == .raise && $0.time >= samples[4 * 1440].time && $0.time < night }
        #expect(before.isEmpty, "raised: \(before.map(\.message))")
    }

    @Test("the learned pattern survives a restart (snapshot) and is not used by a detector with other slots")
    func patternPersists() throws {
        let samples = timerSeries(days: 5, seed: 23)
        var d = generic(daily: true)
        _ = Run(&d, samples)
        let snap = d.snapshot()
        let daily = try #require(snap.daily)
        #expect(daily.count == 96)
        // The learned offsets: about +3 during the timer hours against the rest of the day.
        let noon = daily[24]            // slot 12:00–12:30 UTC
        let night = daily[4]            // slot 02:00–02:30 UTC
        #expect(abs((noon - night) - 3) < 0.5, "noon \(noon) night \(night)")

        let json = try JSONEncoder().encode(snap)
        let back = try JSONDecoder().decode(ChannelDetectorSnapshot.self, from: json)
        var restored = generic(daily: true)
        let restoredOK = restored.restore(back)
        #expect(restoredOK)
        #expect(restored.snapshot().daily == daily)
        // Restored right before the timer switches on again: no alert for it.
        let next = timerSeries(days: 6, seed: 24).suffix(1440)
        let run = Run(&restored, Array(next))
        #expect(run.raises.isEmpty, "raised: \(run.raises.map(\.message))")

        var config = Self.levelConfig()
        config.level?.dailyBins = 24
        var other = ChannelDetector(config: config)
        other.restore(back)
        #expect(other.snapshot().daily.map { $0.allSatisfy { $0 == 0 } } ?? true)
    }

    @Test("learning gathered in the current half hour is kept by a snapshot taken in the middle of it")
    func midSlotSnapshot() throws {
        let samples = timerSeries(days: 5, seed: 25)
        let cut = 4 * 1440 + 11 * 60 + 13            // 11:13 UTC on day 5, inside a timer slot
        var straight = generic(daily: true)
        _ = Run(&straight, samples)

        var first = generic(daily: true)
        _ = Run(&first, Array(samples[..<cut]))
        let atCut = try #require(first.snapshot().daily)
        // Seconds learned by the 11:00 slot: four whole days, and the 13 minutes of today before the cut.
        #expect(atCut[48 + 22] == 4 * 1800 + 13 * 60)
        var restarted = generic(daily: true)
        restarted.restore(first.snapshot())
        _ = Run(&restarted, Array(samples[cut...]))

        let a = try #require(straight.snapshot().daily)
        let b = try #require(restarted.snapshot().daily)
        // Still in the running-mean phase (5 of 7 days), where folding a slot in two parts is exact; what
        // differs is the restarted detector's refresh schedule of the long-window MAD (a noise scale
        // computed a few readings earlier or later), which moves the offsets in the sixth decimal.
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-4, "largest difference \(worst)")
        // And the slot of the cut did learn: about +3 above the night slots.
        #expect(abs((a[22] - a[4]) - 3) < 0.5, "11:00 slot \(a[22]), night \(a[4])")
    }
}

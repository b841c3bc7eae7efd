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

    private func generic(daily: Bool) -> ChannelDetector {
        var config = DetectorConfig.defaults(for: .generic)
        config.level?.daily = daily
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

        var config = DetectorConfig.defaults(for: .generic)
        config.level?.dailyBins = 24
        var other = ChannelDetector(config: config)
        other.restore(back)
        #expect(other.snapshot().daily.map { $0.allSatisfy { $0 == 0 } } ?? true)
    }
}

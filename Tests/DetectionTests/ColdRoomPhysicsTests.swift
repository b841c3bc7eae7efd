@testable import Detection
import Foundation
import Testing

/// Cold rooms unlike the one the detector was first tuned on: long defrosts, slow sampling, coarse
/// sensors, freezers. A few fixed draws from the ranges of issue 8; the sweep (TraceLab) covers many.
@Suite("Cold room physics")
struct ColdRoomPhysicsTests {
    struct Room {
        var setPoint = 3.5
        var defrostEvery = 6 * 3600.0
        var defrostLength = 40 * 60.0
        var defrostRise = 6.0
        var cycle = 20 * 60.0
        var swing = 0.5
        var interval = 60.0
        var quantum = 0.0
        var doorsPerDay = 6.0
    }

    /// Readings of `room` over `days`; `failAt` (seconds from the start) fails the compressor: the air
    /// warms towards 25 °C with a time constant of 2 h.
    static func series(_ room: Room, days: Double, seed: UInt64, failAt: Double? = nil) -> [Sample] {
        var rng = SeededRandom(seed: seed)
        var out: [Sample] = []
        var door = 0.0
        var t = 0.0
        while t < days * 86_400 {
            var v = room.setPoint + room.swing * sin(2 * .pi * t / room.cycle) + rng.normal(0.05)
            let into = (t - 1800).truncatingRemainder(dividingBy: room.defrostEvery)
            if into >= 0 && into < room.defrostLength + 900 {
                v += into < room.defrostLength ? room.defrostRise * min(1, into / 600) : room.defrostRise * exp(-(into - room.defrostLength) / 300)
            }
            if rng.uniform() < room.doorsPerDay * room.interval / 86_400 { door = 2.5 }
            v += door
            door *= exp(-room.interval / 120)
            if let f = failAt, t >= f { v = max(v, room.setPoint + (25 - room.setPoint) * (1 - exp(-(t - f) / 7200))) }
            if room.quantum > 0 { v = (v / room.quantum).rounded() * room.quantum }
            out.append(Sample(time: t0 + t, value: v))
            t += room.interval
        }
        return out
    }

    static func run(_ room: Room, _ samples: [Sample]) -> Run {
        var d = ChannelDetector(channel: "room", config: .defaults(for: .coldRoom, sampleInterval: room.interval))
        return Run(&d, samples)
    }

    @Test("defrosts of 40–60 minutes, at 1 and 5 minute sampling, coarse readings, freezer: no alert in a week",
          arguments: [
            Room(),
            Room(defrostEvery: 8 * 3600, defrostLength: 60 * 60, interval: 300),
            Room(defrostEvery: 4 * 3600, defrostLength: 45 * 60, interval: 10, doorsPerDay: 30),
            Room(setPoint: -20, defrostEvery: 12 * 3600, defrostLength: 30 * 60, defrostRise: 10, swing: 1, quantum: 0.5),
            Room(setPoint: 12, defrostLength: 20 * 60, cycle: 40 * 60, swing: 1, interval: 120),
          ])
    func quiet(room: Room) {
        let r = Self.run(room, Self.series(room, days: 7, seed: 3))
        #expect(r.raises.isEmpty, "raised: \(r.raises.map { "\(Int(($0.time - t0) / 3600)) h \($0.message)" })")
    }

    @Test("at 10 s sampling an hour-long defrost does not teach the room a larger scale")
    func scaleBetweenExcursions() {
        // Cycling ±0.5 °C (a robust σ of about 0.37); defrosts of 60 min, +6 °C, every 4 h: the long
        // window (256 readings, 43 min) lies wholly inside each defrost. The excursion threshold must
        // stay at the cycling's scale, or the next defrosts are seen late and a door left open not at all.
        let room = Room(defrostEvery: 4 * 3600, defrostLength: 60 * 60, defrostRise: 6, cycle: 20 * 60, swing: 0.5,
                        interval: 10, doorsPerDay: 0)
        var pipeline = ColdRoomPipeline(config: .defaults(for: .coldRoom, sampleInterval: 10))
        var worst = 0.0
        for (i, s) in Self.series(room, days: 1, seed: 8).enumerated() {
            _ = pipeline.update(time: s.time, x: s.value!, alerting: false)
            if i > 360 { worst = max(worst, pipeline.usualSigma) }
        }
        #expect(worst < 0.6, "usual scale reached \(worst)")
    }

    @Test("a door left open in a room that swings ±1.4 °C, sampled every 15 s, is alerted")
    func doorLeftOpenInLargeSwingRoom() throws {
        let room = Room(cycle: 15 * 60, swing: 1.4, interval: 15, doorsPerDay: 20)
        var samples = Self.series(room, days: 3, seed: 12)
        // Open at 2 d 3 h (between defrosts) for 90 min: +4.5 °C with a time constant of 10 min.
        let open = 2 * 86_400 + 3 * 3600.0
        for i in samples.indices {
            let u = samples[i].time - t0 - open
            guard u >= 0 && u < 5400 else { continue }
            samples[i].value! += 4.5 * (1 - exp(-u / 600))
        }
        let r = Self.run(room, samples)
        let raise = try #require(r.raises.first { $0.time >= t0 + open })
        #expect(raise.time < t0 + open + 3600, "raised \(Int(raise.time - t0 - open)) s after the door opened")
        #expect(r.raises.allSatisfy { $0.time >= t0 + open && $0.time < t0 + open + 5400 + 1800 }, "other raises: \(r.raises.map { Int(($0.time - t0) / 3600) })")
    }

    @Test("a compressor failure between defrosts is alerted before the room reaches its limit",
          arguments: [Room(), Room(defrostLength: 60 * 60, interval: 300), Room(setPoint: -20, swing: 1, quantum: 0.5)])
    func failure(room: Room) throws {
        let failAt = 3 * 86_400 + 3 * 3600.0
        let samples = Self.series(room, days: 4, seed: 5, failAt: failAt)
        let r = Self.run(room, samples)
        let raise = try #require(r.raises.first)
        #expect(raise.time >= t0 + failAt)
        let limit = RiseSettings().limit(baseline: room.setPoint)
        let reached = try #require(samples.first { $0.time >= t0 + failAt && ($0.value ?? 0) >= limit })
        #expect(raise.time < reached.time, "alert \(Int(raise.time - t0 - failAt)) s after the failure, limit after \(Int(reached.time - t0 - failAt)) s")
    }
}

import Detection
import Foundation
import Testing

@Suite("Snapshot and restore")
struct SnapshotTests {
    @Test("a restored detector continues exactly like the original and needs no new warm-up")
    func roundTrip() throws {
        let samples = Synthetic.coldRoom(days: 2, seed: 21)
        var a = detector(.coldRoom)
        _ = Run(&a, Array(samples.prefix(2000)))
        #expect(a.hasBaseline)

        let data = try JSONEncoder().encode(a.snapshot())
        let decoded = try JSONDecoder().decode(ChannelDetectorSnapshot.self, from: data)
        #expect(decoded == a.snapshot())
        #expect(data.count < 8_000)

        var b = ChannelDetector(channel: "test", config: .defaults(for: .coldRoom), restoring: decoded)
        #expect(b.hasBaseline)
        // Feed both the same continuation, including a door left open: same scores and events.
        var rest = Array(samples.dropFirst(2000).prefix(400))
        for i in 100..<200 { rest[i].value = (rest[i].value ?? 0) + 6 }
        var ra: [DetectorOutput] = []
        var rb: [DetectorOutput] = []
        for s in rest {
            ra.append(a.update(time: s.time, value: s.value))
            rb.append(b.update(time: s.time, value: s.value))
        }
        #expect(ra.map(\.alert) == rb.map(\.alert))
        for (x, y) in zip(ra, rb) { #expect(abs(x.score - y.score) < 1e-9) }
        let restoredAlert = rb.firstIndex { $0.event?.kind == .deviation }
        #expect(restoredAlert.map { $0 < 170 } == true)

        // A fresh detector given the same continuation is still warming up (3 h) and stays silent.
        var fresh = detector(.coldRoom)
        #expect(Run(&fresh, Array(rest.prefix(170))).raises.isEmpty)
    }

    @Test("a generic channel remembers yesterday across a restart: a shift right after it is caught, the daily cycle is not news")
    func genericRemembersYesterday() throws {
        // A pump on a timer: 2.0 from 06:00 to 18:00, 0.5 otherwise, small noise; one reading every 5 min.
        var rng = SeededRandom(seed: 41)
        func value(_ t: Double) -> Double {
            let hour = (t - t0).truncatingRemainder(dividingBy: 86_400) / 3600
            return (hour >= 6 && hour < 18 ? 2.0 : 0.5) + rng.normal(0.02)
        }
        let config = DetectorConfig.defaults(for: .generic, sampleInterval: 300)
        var a = ChannelDetector(channel: "pump", config: config)
        var history: [Sample] = []
        for i in 0..<(4 * 288) { history.append(Sample(time: t0 + Double(i) * 300, value: value(t0 + Double(i) * 300))) }
        #expect(Run(&a, history).raises.isEmpty)
        let data = try JSONEncoder().encode(a.snapshot())
        let restored = try JSONDecoder().decode(ChannelDetectorSnapshot.self, from: data)
        #expect(restored.dayOverDay != nil)
        // The next day: the usual cycle until noon, then the level stays 1.5 higher than yesterday's.
        let start = t0 + 4 * 86_400
        var next: [Sample] = []
        for i in 0..<288 {
            let t = start + Double(i) * 300
            next.append(Sample(time: t, value: value(t) + (i >= 144 ? 1.5 : 0)))
        }
        var b = ChannelDetector(channel: "pump", config: config, restoring: restored)
        let r = Run(&b, next)
        let raise = try #require(r.raises.first, "the shift after the restart is caught")
        #expect(raise.time >= start + 144 * 300 && raise.time < start + 150 * 300, "\((raise.time - start) / 3600) h")
        #expect(r.raises.allSatisfy { $0.time >= start + 144 * 300 }, "the morning's usual cycle raises nothing")
        // A fresh detector, that knows no yesterday, says nothing all day.
        var fresh = ChannelDetector(channel: "pump", config: config)
        #expect(Run(&fresh, next).raises.isEmpty)
    }

    @Test("an open episode survives a restart: no second raise, one clear")
    func openEpisodeSurvives() {
        var a = detector(.coldRoom)
        var t = t0
        for _ in 0..<20 { _ = a.update(time: t, value: 3.5); t += 60 }
        let raise = a.update(time: t, value: 85)
        #expect(raise.event?.phase == .raise)
        t += 60
        var b = ChannelDetector(channel: "test", config: .defaults(for: .coldRoom), restoring: a.snapshot())
        #expect(b.isAlerting)
        var events: [AlertEvent] = []
        for i in 0..<30 {
            if let e = b.update(time: t, value: 3.5 + Double(i % 2) * 0.1).event { events.append(e) }
            t += 60
        }
        #expect(events.map(\.phase) == [.clear])
        #expect(events.first?.kind == .sentinel)
    }

    @Test("a snapshot of another version is refused")
    func versionCheck() {
        var d = detector(.weight)
        var s = d.snapshot()
        s.version = 99
        let accepted = d.restore(s)
        #expect(!accepted)
    }

    @Test("a copied detector is independent: updating the copy leaves the original's windows untouched")
    func copiesAreIndependent() {
        var a = ChannelDetector(channel: "room", config: .defaults(for: .coldRoom))
        for i in 0..<300 { _ = a.update(time: t0 + Double(i) * 60, value: 3 + Double(i % 5) * 0.1) }
        let before = a.snapshot()
        var b = a
        for i in 300..<400 { _ = b.update(time: t0 + Double(i) * 60, value: 9) }
        #expect(a.snapshot() == before)
        #expect(b.snapshot() != before)
        #expect(b.snapshot().samples.suffix(100).allSatisfy { $0 == 9 })
        // And the original keeps working on its own data.
        _ = a.update(time: t0 + 300 * 60, value: 3.2)
        #expect(a.snapshot().samples.last == 3.2)
        #expect(b.snapshot().samples.last == 9)
    }
}

import Detection
import Foundation
import Testing

@Suite("Cold room")
struct ColdRoomTests {
    @Test("defrost cycles, compressor cycling and short door openings never alert")
    func normalOperationIsQuiet() {
        var d = detector(.coldRoom)
        let run = Run(&d, Synthetic.coldRoom(days: 7))
        #expect(run.raises.isEmpty, "raised: \(run.raises.map(\.message))")
        // Defrosts push single readings to ~8.5 °C; the score must stay well below the raise level.
        #expect(run.outputs.dropFirst(300).allSatisfy { $0.score < 0.8 })
    }

    @Test("a compressor failure is flagged before the room reaches 8 °C, as one critical episode")
    func compressorFailure() throws {
        var samples = Synthetic.coldRoom(days: 3)
        // Fail two hours after a defrost on day 3: exponential rise towards 22 °C.
        let start = 2 * 1440 + 6 * 60 + 5 + 120
        let t0 = samples[start].time
        for i in start..<samples.count {
            let minutes = (samples[i].time - t0) / 60
            samples[i].value = 3.5 + 18.5 * (1 - exp(-minutes / 143))
        }
        var d = detector(.coldRoom)
        let run = Run(&d, samples)
        let reached8 = try #require(samples.firstIndex { ($0.value ?? 0) >= 8 && $0.time >= t0 })
        let first = try #require(run.firstAlert)
        #expect(first >= start, "alerted before the failure")
        #expect(first < reached8, "alert at +\(first - start) min, 8 °C at +\(reached8 - start) min")
        #expect(run.raises.count == 1)
        // The rise projection sees it first, and says how fast and when.
        #expect(run.raises.first?.kind == .rate)
        #expect(run.raises.first?.severity == .critical)
        #expect(run.raises.first?.message.contains("is warming") == true)
        #expect(run.raises.first?.message.contains("8 °C") == true)
    }

    @Test("a door left open for 90 minutes is one episode that clears after the door closes")
    func doorLeftOpen() {
        var samples = Synthetic.coldRoom(days: 2, seed: 7)
        let start = 1440 + 3 * 60  // 03:00 on day 2, between defrosts
        for i in start..<(start + 100) {
            let m = Double(i - start)
            samples[i].value = (samples[i].value ?? 0) + min(6, 0.6 * m)
        }
        var d = detector(.coldRoom)
        let run = Run(&d, samples)
        #expect(run.raises.count == 1)
        #expect(run.clears.count == 1)
        // A door left open warms the room steadily: the projection or the level, whichever is first.
        #expect(run.raises.first.map { $0.kind == .rate || $0.kind == .deviation } == true)
        if let r = run.raises.first, let c = run.clears.first {
            #expect(r.time > samples[start].time && r.time < samples[start + 60].time)
            #expect(c.time > samples[start + 100].time)
            #expect(c.duration > 3600)
        }
    }

    @Test("a burst of implausible spikes raises one spike alert")
    func spikeBurst() {
        var samples = Synthetic.coldRoom(days: 2, seed: 9)
        let start = 1440 + 2 * 60
        for (k, jump) in [14.0, -18, 12, -9, 16].enumerated() { samples[start + 3 * k].value = 3.5 + jump }
        var d = detector(.coldRoom)
        let run = Run(&d, samples)
        #expect(run.raises.count == 1)
        #expect(run.raises.first?.kind == .spike)
        #expect(run.raises.first?.severity == .warning)
    }

    @Test("a sensor frozen at one value is reported as stuck after an hour, not before")
    func stuck() throws {
        var samples = Synthetic.coldRoom(days: 2, seed: 11)
        let start = 1440 + 60
        for i in start..<(start + 180) { samples[i].value = 3.31 }
        var d = detector(.coldRoom)
        let run = Run(&d, samples)
        let first = try #require(run.firstAlert)
        #expect(run.raises.first?.kind == .stuck)
        #expect(first - start >= 59 && first - start <= 61)
        #expect(run.raises.count == 1)
    }

    @Test("sentinel and out-of-range values alert immediately, even during warm-up")
    func sentinelAndRangeDuringWarmup() {
        var d = detector(.coldRoom)
        var out: [DetectorOutput] = []
        for i in 0..<10 { out.append(d.update(time: t0 + Double(i) * 60, value: 3.5)) }
        #expect(!d.hasBaseline)
        out.append(d.update(time: t0 + 600, value: 85))
        #expect(out.last?.alert == true)
        #expect(out.last?.event?.kind == .sentinel)
        #expect(out.last?.event?.message.contains("no reading") == true)

        var e = detector(.coldRoom)
        _ = e.update(time: t0, value: 3.5)
        let o = e.update(time: t0 + 60, value: -55)
        #expect(o.event?.kind == .outOfRange)
        #expect(o.score == 1)
    }

    @Test("no level alert until a baseline exists")
    func warmup() {
        var d = detector(.coldRoom)
        // Starts warm (the room is still cooling down after start-up): no deviation alert.
        var run: [DetectorOutput] = []
        for i in 0..<120 { run.append(d.update(time: t0 + Double(i) * 60, value: 12 - Double(i) * 0.07)) }
        #expect(run.allSatisfy { !$0.alert })
    }
}

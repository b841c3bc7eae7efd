import Detection
import Testing
import TraceLab

/// The generator behind the sweep: its physics is what it says, and its labels cover the faults.
@Suite("TraceLab generator")
struct TraceLabTests {
    @Test("the same seed and index give the same trace; another index another room")
    func deterministic() {
        let a = TraceGenerator.trace(kind: .coldRoom, seed: 9, index: 3, days: 2)
        let b = TraceGenerator.trace(kind: .coldRoom, seed: 9, index: 3, days: 2)
        let c = TraceGenerator.trace(kind: .coldRoom, seed: 9, index: 4, days: 2)
        #expect(a.values == b.values && a.labels == b.labels)
        #expect(a.values != c.values)
    }

    @Test("a defrost lasts what the physics says (±10 %) and peaks near its amplitude, every period")
    func defrostPhysics() throws {
        // Index 1: no compressor failure; look at the first day only (no fault starts before 30 h).
        for index in [1, 3, 5, 7] {
            let t = TraceGenerator.trace(kind: .coldRoom, seed: 21, index: index, days: 1.2)
            guard case .coldRoom(let p) = t.physics else { Issue.record("not a cold room"); return }
            let dt = t.sensor.interval
            var start = p.defrostPhase
            while start + p.defrostDuration * 1.2 < 86_400 {
                // Heater on from `start`: above the set-point by more than half the amplitude during the
                // defrost, and back near the cycling within 1.1 × its duration.
                let rows = Int(start / dt)...Int((start + 1.1 * p.defrostDuration) / dt)
                let peak = rows.map { t.truth[$0] }.max()! - p.setPoint
                #expect(peak > 0.85 * p.defrostAmplitude && peak < 1.1 * p.defrostAmplitude + 4, "peak \(peak) for amplitude \(p.defrostAmplitude)")
                let above = rows.filter { t.truth[$0] > p.setPoint + p.cycleAmplitude + 0.3 * p.defrostAmplitude }.count
                let lasted = Double(above) * dt
                #expect(lasted < 1.1 * p.defrostDuration, "warm for \(lasted) s of a \(p.defrostDuration) s defrost")
                #expect(lasted > 0.3 * p.defrostDuration, "warm for \(lasted) s of a \(p.defrostDuration) s defrost")
                start += p.defrostEvery
            }
        }
    }

    @Test("labels are ordered, disjoint, start at the fault's onset and cover what it did to the readings")
    func labelsCoverFaults() {
        for kind in ChannelKind.allCases {
            for index in 0..<12 {
                let t = TraceGenerator.trace(kind: kind, seed: 5, index: index)
                #expect(!t.labels.isEmpty, "\(t.name) has no fault")
                for (a, b) in zip(t.labels, t.labels.dropFirst()) { #expect(a.end < b.start) }
                for l in t.labels {
                    #expect(l.start >= t.start + 30 * 3600 - 1 && l.end <= t.end && l.end >= l.start)
                    let rows = t.times.indices.filter { t.time(at: $0) >= l.start && t.time(at: $0) <= l.end }
                    switch l.kind {
                    case .noData: #expect(rows.allSatisfy { t.values[$0] == nil })
                    case .stuck:
                        let v = t.values[rows[0]]
                        #expect(rows.allSatisfy { t.values[$0] == v })
                        // The true process moved while the reading did not.
                        let truth = rows.map { t.truth[$0] }
                        #expect(truth.max()! - truth.min()! > 0, "\(t.name): the process did not move")
                    case .flatlineZero: #expect(rows.allSatisfy { t.values[$0] == 0 })
                    case .sentinel: #expect(rows.allSatisfy { [85, -127, 3276.7, -999, 65535, 6553.5].contains(t.values[$0] ?? 0) })
                    case .negative: #expect(rows.allSatisfy { t.values[$0].map { $0 < -5 } ?? true })
                    case .compressor:
                        // The room warms from the onset: an hour later (or at the window's end) it is warmer.
                        let later = min(rows.last!, rows[0] + Int(3600 / t.sensor.interval))
                        #expect(t.truth[later] > t.truth[rows[0]] + 1, "\(t.name): compressor failure does not warm the room")
                    default: break
                    }
                }
            }
        }
    }

    @Test("the scorer counts like score_traces.py: detection with grace, false episodes, median")
    func scorer() {
        var t = TraceGenerator.trace(kind: .coldRoom, seed: 1, index: 1, days: 3)
        let a = t.count / 2
        t.labels = [FaultLabel(kind: .spikeBurst, start: t.time(at: a), end: t.time(at: a + 10))]
        var alert = [Bool](repeating: false, count: t.count)
        for i in (a + 14)...(a + 20) { alert[i] = true }      // 4 rows after the end: inside the 5-row grace
        for i in (a / 4)...(a / 4 + 2) { alert[i] = true }    // one false episode
        for i in (a / 2)...(a / 2 + 1) { alert[i] = true }    // another
        for i in 0..<t.count where t.values[i] == nil { alert[i] = false }
        let s = TraceScore(trace: t, alert: alert)
        #expect(s.detected == 1 && s.windows == 1)
        #expect(s.falseAlerts == 2)
        #expect(abs(s.delays[0] - 14 * t.sensor.interval / 60) < 1e-9 || t.values[a + 14] == nil)
        #expect(TraceScore.median([3, 1, 2, 10]) == 2.5)
        #expect(TraceFiles.timestamp(1_772_323_200) == "2026-03-01 00:00:00")
        #expect(TraceFiles.timestamp(1_709_251_199) == "2024-02-29 23:59:59")
    }
}

import Detection
import Foundation
import TraceLab

/// `coop-edge-bench sweep --explain --kind K`: for tuning, lists the raises that touch no fault
/// window (false alerts), every false alert episode (with the fault it follows, if any) and the
/// windows missed, with their process change (steps left out), the noise and the trace's physics; for a
/// cold room, the defrost schedule's state at each false raise (threshold, lock, excursion under way).
enum SweepExplain {
    static func run(kind: ChannelKind, rooms: Int, seeds: [UInt64], days: Double) {
        var falseKinds: [String: Int] = [:]
        // EXPLAIN_ROOM=N: only the N-th room of each seed.
        let only = ProcessInfo.processInfo.environment["EXPLAIN_ROOM"].flatMap(Int.init)
        for seed in seeds {
            for index in 0..<rooms where only == nil || only == index {
                let t = TraceGenerator.trace(kind: kind, seed: seed, index: index, days: days)
                var d = ChannelDetector(channel: t.name, config: t.config)
                var alert = [Bool](repeating: false, count: t.count)
                var raises: [(Int, AlertEvent, String)] = []
                if only != nil { for l in t.labels { print("LABEL \(l.kind.rawValue) \(String(format: "%.2f", (l.start - t.start) / 3600))–\(String(format: "%.2f", (l.end - t.start) / 3600)) h") } }
                for i in 0..<t.count {
                    let o = d.update(time: t.time(at: i), value: t.values[i])
                    alert[i] = o.alert && t.values[i] != nil
                    if let e = o.event, e.phase == .raise { raises.append((i, e, d.defrostDiagnostics ?? "")) }
                }
                let grace = 5 * t.sensor.interval
                if kind == .coldRoom, case .coldRoom(let p) = t.physics {
                    let l = d.learnedDefrost
                    print("LOCK \(t.name) true every \(String(format: "%.2f", p.defrostEvery / 3600)) h dur \(Int(p.defrostDuration / 60)) m; learned \(l.map { "\(String(format: "%.2f", $0.period / 3600)) h longest \(Int($0.longest / 60)) m" } ?? "none")")
                }
                let desc = "\(t.name) dt=\(Int(t.sensor.interval)) q=\(t.sensor.quantum) \(t.physics)"
                for (i, e, state) in raises {
                    let time = t.time(at: i)
                    let inWindow = t.labels.contains { time >= $0.start - 1 && time <= $0.end + grace }
                    if !inWindow {
                        falseKinds[e.kind.rawValue, default: 0] += 1
                        if case .coldRoom(let p) = t.physics {
                            let into = (time - t.start - p.defrostPhase).truncatingRemainder(dividingBy: p.defrostEvery)
                            print("   \(Int(into / 60)) min after a defrost start (every \(Int(p.defrostEvery / 60)) m, lasts \(Int(p.defrostDuration / 60)) m, +\(Int(p.defrostAmplitude * 10)) d°C; cycle ±\(Int(p.cycleAmplitude * 10)) d°C, doors \(Int(p.doorsPerDay))/d ≤\(Int(p.doorMaxAmplitude * 10)) d°C)\n   at raise: \(state)")
                        }
                        print("FALSE seed \(seed) \(String(format: "%.1f", (time - t.start) / 3600)) h \(e.kind.rawValue): \(e.message)\n   \(desc)")
                    }
                }
                var r = 0
                while r < t.count {
                    guard alert[r] else { r += 1; continue }
                    var e = r
                    while e + 1 < t.count && alert[e + 1] { e += 1 }
                    let (s0, e0) = (t.time(at: r), t.time(at: e))
                    if !t.labels.contains(where: { s0 <= $0.end + grace && e0 >= $0.start }) {
                        let near = t.labels.filter { $0.end <= s0 }.last
                        print("EPISODE \(t.name) dt=\(Int(t.sensor.interval)) at \(String(format: "%.2f", (s0 - t.start) / 3600)) h, \(e - r + 1) rows; after \(near.map { "\($0.kind.rawValue) ended \(Int((s0 - $0.end) / 60)) min before" } ?? "-")")
                    }
                    r = e + 1
                }
                for l in t.labels {
                    let hit = (0..<t.count).contains { alert[$0] && t.time(at: $0) >= l.start && t.time(at: $0) <= l.end + grace }
                    if !hit {
                        let a = min(t.count - 1, max(0, Int(((l.start - t.start) / t.sensor.interval).rounded())))
                        let b = min(t.count - 1, max(0, Int(((l.end - t.start) / t.sensor.interval).rounded())))
                        var change = 0.0
                        for r in (a + 1)...max(a + 1, b) where r < t.count && abs(t.truth[r] - t.truth[r - 1]) < 0.002 * abs(t.truth[r - 1]) + 1e-9 { change += t.truth[r] - t.truth[r - 1] }
                        print("MISS seed \(seed) \(l.kind.rawValue) at \(String(format: "%.1f", (l.start - t.start) / 3600)) h for \(String(format: "%.1f", (l.end - l.start) / 3600)) h; truth \(String(format: "%.4g", t.truth[a])) -> \(String(format: "%+.4g", change)) (\(String(format: "%.2f", 100 * change / max(abs(t.truth[a]), 1e-9)))%), noise \(String(format: "%.3g", t.sensor.noise))\n   \(desc)")
                    }
                }
            }
        }
        print("false raises by kind: \(falseKinds)")
    }
}

import Detection
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A week of one soil-moisture probe drawn from `SoilPhysics`: drying (mostly by day, slowing towards
/// the wilting point), drainage above field capacity, irrigation soaking in over 10–90 min, rain, the
/// probe's daily temperature wiggle; sampled every 1–30 min. Faults: the probe pulled out (a fall to
/// the reading of air for 1–12 h), a 0 % flatline (broken cable, 2–12 h), a stuck reading (6–16 h,
/// the live probe's noise always moves the reading), spikes, sentinel codes and no data (75 min–6 h).
enum SoilTrace {
    static func make(_ rng: inout TraceRandom, name: String, start: Double, days: Double, faults: [FaultKind]) -> LabelledTrace {
        let p = SoilPhysics.draw(&rng)
        let quantum = rng.pick([0, 0.1])
        let sensor = SensorPhysics(
            interval: (rng.logUniform(60...1800) / 60).rounded() * 60,
            noise: max(rng.logUniform(0.05...0.4), 0.6 * quantum),
            quantum: quantum, missingRate: rng.uniform(0...0.003))
        let length = days * 86_400
        let dt = sensor.interval
        let n = Int(length / dt) + 1
        // Water input events: (start, amount, soak time).
        var inputs: [(Double, Double, Double)] = []
        var t = (p.irrigationHour * 3600).truncatingRemainder(dividingBy: 86_400)
        while t < length {
            inputs.append((t, rng.uniform(p.irrigationSize), rng.uniform(10...90) * 60))
            t += p.irrigationEvery
        }
        for _ in 0..<p.rainShowers { inputs.append((rng.uniform(0...length), rng.uniform(2...10), rng.uniform(30...120) * 60)) }
        var truth = [Double](repeating: 0, count: n)
        var m = p.initial
        let sub = 60.0
        var clock = 0.0
        for i in 0..<n {
            let target = Double(i) * dt
            while clock < target {
                let hour = (clock / 3600).truncatingRemainder(dividingBy: 24)
                let sun = max(0, sin(.pi * (hour - 6) / 12))
                let drying = p.dryingPerDay / 86_400 * 2.5 * sun * max(0, (m - p.floor) / max(1, p.initial - p.floor))
                var dm = -drying * sub
                if m > p.fieldCapacity { dm -= (m - p.fieldCapacity) * sub / p.drainage }
                for (s, amount, soak) in inputs where clock >= s && clock < s + soak { dm += amount * sub / soak }
                m = min(60, max(p.floor * 0.8, m + dm))
                clock += sub
            }
            let hour = (target / 3600).truncatingRemainder(dividingBy: 24)
            truth[i] = m + p.dailyWiggle * sin(2 * .pi * (hour - 9) / 24)
        }
        var trace = LabelledTrace(kind: .soilMoisture, name: name, start: start, values: [], labels: [], sensor: sensor,
                                  physics: .soil(p), truth: truth)
        trace.values = readings(truth, sensor: sensor, rng: &rng)
        var plan = FaultPlan(length: length)
        for fault in faults {
            switch fault {
            case .pulledOut, .flatlineZero, .stuck, .noData:
                let d: Double
                switch fault {
                case .pulledOut: d = rng.uniform(1...12) * 3600
                case .flatlineZero: d = rng.uniform(2...12) * 3600
                case .stuck: d = rng.uniform(6...16) * 3600
                default: d = rng.uniform(max(75 * 60, 4 * dt)...6 * 3600)
                }
                guard let o = plan.place(&rng, duration: d) else { continue }
                let a = trace.row(atOrAfter: o)
                let b = min(n - 1, Int(((o + d) / dt).rounded(.down)))
                switch fault {
                case .pulledOut:
                    let air = rng.uniform(0.3...3)
                    for i in a...b where trace.values[i] != nil { trace.values[i] = sensor.reading(air + rng.normal(0.3)) }
                    trace.label(.pulledOut, rows: a, b)
                case .flatlineZero: trace.injectConstant(kind: .flatlineZero, rows: a, b, value: 0)
                case .stuck: trace.injectStuck(rows: a, b)
                default: trace.injectConstant(kind: .noData, rows: a, b, value: nil)
                }
            case .spikes, .sentinel:
                guard let o = plan.place(&rng, duration: 40 * dt) else { continue }
                let a = trace.row(atOrAfter: o)
                if fault == .sentinel {
                    trace.injectConstant(kind: .sentinel, rows: a, a + rng.int(0...10), value: rng.pick([-999, 3276.7, 6553.5]))
                } else {
                    trace.injectSpikes(&rng, kind: .spikes, at: a, n: rng.int(3...6), spacing: 5) { $0.uniform(15...45) }
                }
            default:
                continue
            }
        }
        trace.sortLabels()
        return trace
    }
}

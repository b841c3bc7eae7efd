import Detection
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A week of a series of one of `GenericPhysics.Origin`'s shapes, sampled every 5 s to 1 h. Faults
/// are sized on the series' own range (1st to 99th percentile of its healthy readings, and for a
/// register set by hand at least one step more than the largest hand change, 3 steps: a smaller fault
/// is a hand change, which no detector can tell from one), so each is detectable in principle whatever
/// the unit: a level shift to 1–2 ranges away (held 3–24 h or to the
/// end), a burst of single-reading spikes 1.5–3 ranges tall, a drift that walks 1–2 ranges away over
/// 2–24 h (at least 20 readings) and stays until the sensor is replaced. No fault starts before the
/// series has had 30 h and 50 readings.
enum GenericTrace {
    static func make(_ rng: inout TraceRandom, name: String, start: Double, days: Double, faults: [FaultKind]) -> LabelledTrace {
        let p = GenericPhysics.draw(&rng)
        let dt = rng.logUniform(5...3600).rounded()
        let length = days * 86_400
        let n = Int(length / dt) + 1
        var noise = max(p.swing, 1e-3 * abs(p.level) + 0.01) * rng.logUniform(0.005...0.05)
        var quantum = rng.pick([0, 0, 0.01, 0.1])
        switch p.origin {
        case .counts: noise = 0; quantum = 1
        case .flat: noise = 0; quantum = p.swing
        case .noisy: noise = 0.05 * p.swing
        default: break
        }
        let sensor = SensorPhysics(interval: dt, noise: noise, quantum: quantum, missingRate: rng.uniform(0...0.003))
        var truth = [Double](repeating: 0, count: n)
        var v = p.level
        var mode = 0
        var weather = 1.0
        for i in 0..<n {
            let t = Double(i) * dt
            let hour = (t / 3600).truncatingRemainder(dividingBy: 24)
            let working = hour >= p.workStart && hour < p.workEnd
            let daySine = sin(2 * .pi * (hour - 9) / 24)
            switch p.origin {
            case .tank:
                let fill = (0..<Int(p.eventsPerDay)).contains { k in
                    let at = 2 + Double(k) * 24 / p.eventsPerDay
                    return hour >= at && hour < at + 0.75
                }
                if fill { v = min(98, v + 1.5 * dt / 60) } else if working { v = max(5, v - p.swing / (p.workEnd - p.workStart) * dt / 3600) }
                truth[i] = v
            case .pressure:
                let period = p.cyclePeriod * (working ? 1 : 4)
                let f = (t / period).truncatingRemainder(dividingBy: 1)
                truth[i] = p.level + p.swing * (f < 0.8 ? 1 - f / 0.8 : (f - 0.8) / 0.2)
            case .humidity:
                let f = (t / p.cyclePeriod).truncatingRemainder(dividingBy: 1)
                truth[i] = p.level + p.swing * daySine + 0.25 * p.swing * (f < 0.5 ? 2 * f : 2 - 2 * f)
            case .voltage:
                v += -(v - p.level) * min(1, dt / 3600) + rng.normal(0.1 * p.swing * (dt / 3600).squareRoot())
                truth[i] = v - (working ? p.swing : 0.2 * p.swing)
            case .counts:
                let mean = p.level * dt / 60 * (working ? 1.5 : 0.5)
                truth[i] = Double(poisson(&rng, mean))
            case .flat:
                if rng.chance(p.eventsPerDay * dt / 86_400) { v += Double(rng.int(1...3)) * p.swing * (rng.chance(0.5) ? 1 : -1) }
                truth[i] = v
            case .noisy:
                truth[i] = p.level + rng.normal(p.swing)
            case .smooth:
                v += (p.level - v) * min(1, dt / 86_400) + rng.normal(p.swing * (dt / 86_400).squareRoot())
                truth[i] = v
            case .seasonal:
                if i > 0 && Int(t / 86_400) != Int((t - dt) / 86_400) { weather = rng.uniform(0.6...1.2) }
                truth[i] = p.level + p.swing * weather * max(0, sin(.pi * (hour - 6) / 12))
            case .stepwise:
                if rng.chance(p.eventsPerDay * dt / 86_400) { mode = rng.int(0...3) }
                truth[i] = p.level + Double(mode) * p.swing
            }
        }
        var trace = LabelledTrace(kind: .generic, name: name, start: start, values: [], labels: [], sensor: sensor,
                                  physics: .generic(p), truth: truth)
        trace.values = [Double?](repeating: nil, count: n)
        let clean = readings(truth, sensor: sensor, rng: &rng).compactMap { $0 }.sorted()
        // A register set by hand moves by up to three of its steps at a time: a fault of that size is
        // a hand change, which no detector can tell from one. Its faults start a step beyond that.
        let largestNormalStep = p.origin == .flat ? 4 * p.swing : 0
        let range = max(clean[clean.count * 99 / 100] - clean[clean.count / 100], 6 * noise, 0.01 * abs(p.level) + 2 * quantum, 0.05,
                        largestNormalStep)
        var plan = FaultPlan(length: length, earliest: 50 * dt)
        var spikesAt: Double? = nil
        for fault in faults {
            switch fault {
            case .levelShift, .drift:
                let shift = rng.uniform(1...2) * range * (rng.chance(0.5) ? 1 : -1)
                let ramp = fault == .drift ? max(rng.uniform(2...24) * 3600, 20 * dt) : 0
                let hold = rng.chance(0.3) ? length : rng.uniform(3...24) * 3600
                let d = min(ramp + hold, length - plan.earliest - 1200)
                guard let o = plan.place(&rng, duration: d) else { continue }
                let a = trace.row(atOrAfter: o)
                var last = a
                for i in a..<n {
                    let u = Double(i) * dt - o
                    if u > d { break }
                    truth[i] += ramp > 0 ? shift * min(1, u / ramp) : shift
                    last = i
                }
                trace.label(fault, rows: a, last)
            case .spikeBurst:
                spikesAt = plan.place(&rng, duration: 40 * dt)
            default:
                continue
            }
        }
        trace.truth = truth
        trace.values = readings(truth, sensor: sensor, rng: &rng)
        if let o = spikesAt {
            trace.injectSpikes(&rng, kind: .spikeBurst, at: trace.row(atOrAfter: o), n: rng.int(3...6), spacing: 5) { $0.uniform(1.5...3) * range }
        }
        trace.sortLabels()
        return trace
    }
}

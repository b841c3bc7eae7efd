import Detection
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A week of one scale drawn from `ScalePhysics`: loading and unloading in working hours (a step, or
/// a few sacks one after another), stored grain drying, the load cell's zero following the day;
/// sampled every 10 s–5 min, noise at least half a resolution step (a live load cell flickers).
/// Faults: creep (a steady 1–5 % slide over 2–12 h), a negative reading (a tare or wiring fault,
/// 10 min–4 h), a loss at night (5–30 % of the load slides away over 20 min–3 h while nobody works),
/// a stuck reading (1–6 h), spikes, sentinel codes and no data (20 min–3 h).
enum ScaleTrace {
    static func make(_ rng: inout TraceRandom, name: String, start: Double, days: Double, faults: [FaultKind]) -> LabelledTrace {
        let p = ScalePhysics.draw(&rng)
        let resolution = niceStep(p.capacity / rng.uniform(3000...30_000))
        let sensor = SensorPhysics(
            interval: SensorPhysics.drawInterval(&rng, 10, 300),
            noise: max(0.6 * resolution, p.capacity * rng.logUniform(1e-5...2e-4)),
            quantum: resolution, missingRate: rng.uniform(0...0.003))
        let length = days * 86_400
        let dt = sensor.interval
        let n = Int(length / dt) + 1
        // Loading steps: (time, change).
        var steps: [(Double, Double)] = []
        var load = p.initialLoad
        for day in 0..<Int(days.rounded(.up)) {
            for _ in 0..<poisson(&rng, p.eventsPerDay) {
                let at = Double(day) * 86_400 + rng.uniform(p.workStart...p.workEnd) * 3600
                let size = p.capacity * rng.uniform(0.01...0.2)
                let up = load + size < p.capacity * 0.95 && (load - size < p.capacity * 0.05 || rng.chance(0.5))
                let change = up ? size : -size
                load += change
                let sacks = rng.chance(0.5) ? 1 : rng.int(2...6)
                let gap = rng.uniform(20...120)
                for k in 0..<sacks { steps.append((at + Double(k) * gap, change / Double(sacks))) }
            }
        }
        steps.sort { $0.0 < $1.0 }
        var truth = [Double](repeating: 0, count: n)
        load = p.initialLoad
        var k = 0
        for i in 0..<n {
            let t = Double(i) * dt
            while k < steps.count && steps[k].0 <= t { load += steps[k].1; k += 1 }
            load -= load * p.dryingPerDay / 100 * dt / 86_400
            let hour = (t / 3600).truncatingRemainder(dividingBy: 24)
            truth[i] = max(0, load) + p.zeroDrift * sin(2 * .pi * (hour - 9) / 24)
        }
        /// What the empty platform reads at row `i` (the load cell's zero following the day).
        func zero(_ i: Int) -> Double {
            let hour = (Double(i) * dt / 3600).truncatingRemainder(dividingBy: 24)
            return p.zeroDrift * sin(2 * .pi * (hour - 9) / 24)
        }
        var trace = LabelledTrace(kind: .weight, name: name, start: start, values: [], labels: [], sensor: sensor,
                                  physics: .scale(p), truth: truth)
        trace.values = [Double?](repeating: nil, count: n)
        var plan = FaultPlan(length: length)
        var sensorFaults: [(FaultKind, Double, Double)] = []
        for fault in faults {
            switch fault {
            case .creep, .suddenLossNight:
                let night = fault == .suddenLossNight
                let d = night ? rng.uniform(20...180) * 60 : rng.uniform(2...12) * 3600
                var o: Double? = nil
                if night {
                    // Between the end of work and the next morning.
                    for _ in 0..<20 where o == nil {
                        let day = Double(rng.int(1...max(1, Int(days) - 1)))
                        let lo = day * 86_400 + (p.workEnd + 1) * 3600
                        let hi = (day + 1) * 86_400 + (p.workStart - 0.5) * 3600 - d
                        if hi > lo { o = plan.place(&rng, duration: d, within: lo...hi) }
                    }
                } else {
                    o = plan.place(&rng, duration: d)
                }
                guard let o else { continue }
                let a = trace.row(atOrAfter: o)
                var share = night ? -rng.uniform(0.05...0.3) : rng.uniform(0.01...0.05) * (rng.chance(0.5) ? 1 : -1)
                // A leak cannot take what is not there: on a nearly empty scale the creep reads high
                // (a load cell creeping), and a theft takes at most 90 % of what is stored.
                if !night && share < 0 && truth[a] < p.capacity * 0.05 { share = -share }
                var total = share * max(truth[a], p.capacity * 0.05)
                if total < 0 { total = max(total, -0.9 * max(0, truth[a] - zero(a))) }
                var last = a
                for i in a..<n {
                    let u = Double(i) * dt - o
                    // Later unloading cannot take the scale below empty either.
                    truth[i] = max(truth[i] + total * min(1, u / d), min(truth[i], zero(i)))
                    if u <= d { last = i }
                }
                trace.label(fault, rows: a, last)
            case .negative:
                let d = rng.uniform(10...240) * 60
                if let o = plan.place(&rng, duration: d) { sensorFaults.append((fault, o, o + d)) }
            case .stuck:
                let d = rng.uniform(1...6) * 3600
                if let o = plan.place(&rng, duration: d) { sensorFaults.append((fault, o, o + d)) }
            case .noData:
                let d = rng.uniform(max(20 * 60, 4 * dt)...max(3 * 3600, 8 * dt))
                if let o = plan.place(&rng, duration: d) { sensorFaults.append((fault, o, o + d)) }
            case .spikes, .sentinel:
                if let o = plan.place(&rng, duration: 40 * dt) { sensorFaults.append((fault, o, o)) }
            default:
                continue
            }
        }
        trace.truth = truth
        trace.values = readings(truth, sensor: sensor, rng: &rng)
        for (fault, a, b) in sensorFaults {
            let i = trace.row(atOrAfter: a)
            let j = max(i, min(n - 1, Int((b / dt).rounded(.down))))
            switch fault {
            case .negative:
                // The reading goes below zero whatever is on the platform (a lost tare, a reversed cell).
                // Below what the empty platform shows: its zero wanders by `zeroDrift` either side.
                let floor = 10 + 6 * sensor.noise + 2 * p.zeroDrift
                let depth = rng.uniform(floor...max(floor + 10, 0.5 * p.capacity))
                for r in i...j where trace.values[r] != nil { trace.values[r] = sensor.reading(-depth + rng.normal(sensor.noise)) }
                trace.label(.negative, rows: i, j)
            case .stuck: trace.injectStuck(rows: i, j)
            case .noData: trace.injectConstant(kind: .noData, rows: i, j, value: nil)
            case .sentinel: trace.injectConstant(kind: .sentinel, rows: i, i + rng.int(0...10), value: rng.pick([-999, 65535, 6553.5]))
            case .spikes:
                let size = max(p.capacity * 0.1, 100)
                trace.injectSpikes(&rng, kind: .spikes, at: i, n: rng.int(3...6), spacing: 4) { $0.uniform(size...(3 * size)) }
            default: break
            }
        }
        trace.sortLabels()
        return trace
    }

    /// The 1-2-5 step at or above `x` (a load cell's display resolution).
    static func niceStep(_ x: Double) -> Double {
        let decade = pow(10, (log10(x)).rounded(.down))
        for m in [1.0, 2, 5, 10] where m * decade >= x { return m * decade }
        return 10 * decade
    }
}

import Detection
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A week of one cold room drawn from `ColdRoomPhysics`: compressor cycling, the daily swing,
/// defrosts (each ±10 % in length: controllers that end a defrost by temperature), door bursts, and
/// the faults `faults` asks for, placed by `FaultPlan` and labelled from their onset until the room is
/// back to normal.
///
/// Faults: a compressor failure (the room warms towards ambient with a time constant giving an
/// initial 0.05–0.5 °C/min; a third of them start inside or just after a defrost; most are repaired
/// after 2–8 h), a door left open (45–150 min, a plateau of 3–8 °C above the cycling, more for
/// freezers), a set-point drift (3–6 °C over 1–6 h, held for hours), a burst of single-reading spikes,
/// sentinel codes, a stuck reading over a defrost (so the true process moves), and no data
/// (20 min–3 h).
enum ColdRoomTrace {
    struct Defrost {
        var start: Double
        var duration: Double
        var amplitude: Double
        var heaterEnd: Double { start + duration * share }
        var share: Double
        var end: Double { start + duration }
    }

    static func make(_ rng: inout TraceRandom, name: String, start: Double, days: Double, faults: [FaultKind]) -> LabelledTrace {
        let p = ColdRoomPhysics.draw(&rng)
        let coarse = rng.chance(0.5)
        let sensor = SensorPhysics(
            interval: SensorPhysics.drawInterval(&rng, 10, 300),
            noise: coarse ? rng.uniform(0.05...0.2) : rng.logUniform(0.01...0.1),
            quantum: coarse ? 0.5 : rng.pick([0, 0.1]),
            missingRate: rng.uniform(0...0.003))
        let length = days * 86_400
        let n = Int(length / sensor.interval) + 1
        let dt = sensor.interval

        // Defrosts on the controller's timer.
        var defrosts: [Defrost] = []
        var s = p.defrostPhase
        while s < length {
            let f = rng.uniform(0.9...1.1)
            defrosts.append(Defrost(start: s, duration: p.defrostDuration * f, amplitude: p.defrostAmplitude * rng.uniform(0.95...1.05),
                                    share: p.heaterShare))
            s += p.defrostEvery
        }
        // The room without doors or faults.
        var room = [Double](repeating: 0, count: n)
        var k = 0
        for i in 0..<n {
            let t = Double(i) * dt
            while k < defrosts.count && defrosts[k].end + 1800 < t { k += 1 }
            room[i] = normal(p, t: t, defrosts: defrosts, from: k)
        }
        // Door bursts: nine in ten in working hours.
        var door = [Double](repeating: 0, count: n)
        let doorGain = p.setPoint < -10 ? 1.5 : 1.0
        for day in 0..<Int(days.rounded(.up)) {
            let count = poisson(&rng, p.doorsPerDay)
            for _ in 0..<count {
                let hour = rng.chance(0.9) ? rng.uniform(p.workStart...p.workEnd) : rng.uniform(0...24)
                let at = Double(day) * 86_400 + hour * 3600
                let a = rng.uniform(0.3...p.doorMaxAmplitude) * doorGain
                let tau = rng.uniform(60...360) / 3
                addBurst(&door, at: at, amplitude: a, rise: 20, tau: tau, dt: dt)
            }
        }
        var trace = LabelledTrace(kind: .coldRoom, name: name, start: start, values: [], labels: [], sensor: sensor,
                                  physics: .coldRoom(p), truth: [])
        trace.values = [Double?](repeating: nil, count: n)
        var plan = FaultPlan(length: length)
        var sensorFaults: [(FaultKind, Double, Double)] = []
        for fault in faults {
            switch fault {
            case .compressor:
                let repaired = rng.chance(0.7)
                let repairAfter = repaired ? rng.uniform(2...8) * 3600 : length
                let recovery = rng.uniform(10...25) * 60
                let window = min(repairAfter + 4 * recovery, length)
                var onset: Double? = nil
                if rng.chance(0.35) {
                    // Inside or right after a defrost.
                    for d in defrosts.shuffled(using: &rng) where d.start > FaultPlan.earliest {
                        let o = d.start + rng.uniform(0...(d.duration + 600))
                        if o + min(window, 6 * 3600) < length - 600, plan.isFree(o, o + window) { plan.reserve(o, o + window); onset = o; break }
                    }
                }
                if onset == nil { onset = plan.place(&rng, duration: min(window, length - FaultPlan.earliest - 7200)) }
                guard let o = onset else { continue }
                let rate = rng.logUniform(0.05...0.5) / 60
                let a = trace.row(atOrAfter: o)
                // Inside a heater phase the heater runs on to its end; from there nothing cools.
                var from = a
                if let d = defrosts.first(where: { o >= $0.start && o < $0.heaterEnd }) { from = min(n - 1, trace.row(atOrAfter: d.heaterEnd)) }
                let te = Double(from) * dt
                let warm = room[from]
                let tau = max(60, (p.ambient - warm) / rate)
                let tr = o + repairAfter
                var last = n - 1
                var failedAtRepair = warm
                for i in from..<n {
                    let t = Double(i) * dt
                    if t < tr {
                        room[i] = p.ambient + (warm - p.ambient) * exp(-(t - te) / tau)
                        failedAtRepair = room[i]
                    } else {
                        let back = room[i]
                        room[i] = back + (failedAtRepair - back) * exp(-(t - tr) / recovery)
                        if t >= tr + 4 * recovery { last = i; break }
                    }
                }
                // The compressor is off by design while the heater runs: a failure there shows (and is
                // labelled) from the heater's end, when the compressor should have restarted.
                trace.label(.compressor, rows: from, last)
            case .doorLeftOpen:
                let open = rng.uniform(45...150) * 60
                let tau = rng.uniform(5...15) * 60
                let close = rng.uniform(8...20) * 60
                guard let o = plan.place(&rng, duration: open + 3 * close) else { continue }
                let plateau = rng.uniform(max(3, 2 * p.cycleAmplitude + 1)...8) * doorGain
                let a = trace.row(atOrAfter: o)
                var reached = 0.0
                var last = a
                for i in a..<n {
                    let u = Double(i) * dt - o
                    if u < open {
                        reached = plateau * (1 - exp(-u / tau))
                        room[i] += reached
                    } else {
                        room[i] += reached * exp(-(u - open) / close)
                        last = i
                        if u >= open + 3 * close { break }
                    }
                }
                trace.label(.doorLeftOpen, rows: a, last)
            case .setpointDrift:
                let ramp = rng.uniform(1...6) * 3600
                let hold = rng.uniform(2...10) * 3600
                let reset = 15 * 60.0
                guard let o = plan.place(&rng, duration: ramp + hold + 3 * reset) else { continue }
                let delta = rng.uniform(3...6) * (rng.chance(0.7) ? 1 : -1)
                let a = trace.row(atOrAfter: o)
                var last = a
                for i in a..<n {
                    let u = Double(i) * dt - o
                    if u < ramp + hold {
                        room[i] += delta * min(1, u / ramp)
                    } else {
                        room[i] += delta * exp(-(u - ramp - hold) / reset)
                        last = i
                        if u >= ramp + hold + 3 * reset { break }
                    }
                }
                trace.label(.setpointDrift, rows: a, last)
            case .stuck:
                // Over a defrost, so the true process clearly moves while the reading does not.
                for d in defrosts.shuffled(using: &rng) where d.start > FaultPlan.earliest + 3 * 3600 {
                    let a = d.start - rng.uniform(0.5...3) * 3600
                    let b = d.end + rng.uniform(1...3) * 3600
                    if b < length - 600, plan.isFree(a, b) { plan.reserve(a, b); sensorFaults.append((.stuck, a, b)); break }
                }
            case .noData:
                let d = rng.uniform(max(20 * 60, 4 * dt)...max(3 * 3600, 8 * dt))
                if let o = plan.place(&rng, duration: d) { sensorFaults.append((.noData, o, o + d)) }
            case .spikeBurst, .sentinel:
                if let o = plan.place(&rng, duration: 40 * dt) { sensorFaults.append((fault, o, o)) }
            default:
                continue
            }
        }
        trace.truth = zip(room, door).map { $0 + $1 }
        trace.values = readings(trace.truth, sensor: sensor, rng: &rng)
        for (fault, a, b) in sensorFaults {
            let i = trace.row(atOrAfter: a)
            let j = max(i, min(n - 1, Int((b / dt).rounded(.down))))
            switch fault {
            case .stuck: trace.injectStuck(rows: i, j)
            case .noData: trace.injectConstant(kind: .noData, rows: i, j, value: nil)
            case .sentinel:
                trace.injectConstant(kind: .sentinel, rows: i, i + rng.int(0...14), value: rng.pick([85, -127, 3276.7, -999]))
            case .spikeBurst:
                trace.injectSpikes(&rng, kind: .spikeBurst, at: i, n: rng.int(3...6), spacing: 4) { $0.uniform(10...40) }
            default: break
            }
        }
        trace.sortLabels()
        return trace
    }

    /// The healthy room at `t` seconds from the start: set-point, daily swing, and either the
    /// compressor cycle or a defrost (heater rise, then pull-down, then an optional overshoot).
    static func normal(_ p: ColdRoomPhysics, t: Double, defrosts: [Defrost], from k: Int) -> Double {
        let base = p.setPoint + p.dailySwing * sin(2 * .pi * (t / 3600 - 9) / 24)
        var j = k
        while j < defrosts.count && defrosts[j].start <= t {
            let d = defrosts[j]
            let u = t - d.start
            if u < d.duration {
                let h = d.duration * d.share
                if u < h { return base + d.amplitude * (1 - exp(-3 * u / h)) / (1 - exp(-3)) }
                return base + d.amplitude * exp(-3 * (u - h) / (d.duration - h))
            }
            if u < d.duration + 1800 && p.recoveryOvershoot > 0 {
                return base - p.recoveryOvershoot * exp(-(u - d.duration) / 300) + cycle(p, t) * (1 - exp(-(u - d.duration) / 600))
            }
            j += 1
        }
        return base + cycle(p, t)
    }

    /// The compressor cycle: cooling for `compressorDuty` of each cycle, warming for the rest; cycle
    /// lengths wander by ±10 % over a few hours, as the load does.
    static func cycle(_ p: ColdRoomPhysics, _ t: Double) -> Double {
        let phase = t / p.cyclePeriod + 0.1 * 13_000 / (2 * .pi * p.cyclePeriod) * sin(2 * .pi * t / 13_000)
        let f = phase - phase.rounded(.down)
        let a = p.cycleAmplitude
        return f < p.compressorDuty ? a - 2 * a * f / p.compressorDuty : -a + 2 * a * (f - p.compressorDuty) / (1 - p.compressorDuty)
    }
}

/// Adds a burst that rises with time constant `rise` and decays with `tau` (seconds) to `series`.
func addBurst(_ series: inout [Double], at: Double, amplitude: Double, rise: Double, tau: Double, dt: Double) {
    let a = max(0, Int((at / dt).rounded(.up)))
    var i = a
    while i < series.count {
        let u = Double(i) * dt - at
        if u > 6 * tau + rise { break }
        series[i] += amplitude * (1 - exp(-u / rise)) * exp(-u / tau)
        i += 1
    }
}

/// A Poisson count with mean `mean` (Knuth's method; fine for the tens per day drawn here).
func poisson(_ rng: inout TraceRandom, _ mean: Double) -> Int {
    if mean > 50 { return max(0, Int((mean + rng.normal(mean.squareRoot())).rounded())) }
    let l = exp(-mean)
    var k = 0
    var prod = rng.uniform()
    while prod > l { k += 1; prod *= rng.uniform() }
    return k
}

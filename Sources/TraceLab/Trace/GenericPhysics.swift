/// A series of a kind the detector knows nothing about, of one of many origins, sampled every few
/// seconds to every hour. Each origin has its own shape; `level` and `swing` are in its unit.
public struct GenericPhysics: Sendable, Hashable {
    public enum Origin: String, Sendable, Hashable, CaseIterable {
        /// A water tank (%): filled by a timer-driven pump, drained by use in working hours (step-wise, daily).
        case tank
        /// A pressure system (bar): a pump cycling between cut-in and cut-out, fast by day.
        case pressure
        /// Air humidity (%RH): a daily cycle and a humidifier cycling.
        case humidity
        /// Mains or battery voltage (V): sags under the day's load.
        case voltage
        /// Pulses counted per poll (a flow or energy meter's increment): non-negative integers, busier by day.
        case counts
        /// A register that holds a setting: flat on a coarse grid, changed by hand once or twice a week.
        case flat
        /// White noise around a level (a vibration or current reading).
        case noisy
        /// A smooth slow wander (a ground or water temperature).
        case smooth
        /// A daily cycle (light, outside temperature) with weather from day to day.
        case seasonal
        /// A machine's few operating modes, switching at random times (step-wise).
        case stepwise
    }

    public var origin: Origin
    /// The resting level.
    public var level: Double
    /// The size of the daily or cycling pattern.
    public var swing: Double
    /// Period of the fast pattern (pump or humidifier cycle) in seconds; 0 when there is none.
    public var cyclePeriod: Double
    /// Tank: fills per day, at fixed clock times. Stepwise: mode changes per day.
    public var eventsPerDay: Double
    public var workStart: Double
    public var workEnd: Double

    public static func draw(_ rng: inout TraceRandom) -> GenericPhysics {
        let origin = rng.pick(Origin.allCases)
        let ws = rng.uniform(6...8)
        let we = rng.uniform(16...19)
        func make(_ level: Double, _ swing: Double, cycle: Double = 0, events: Double = 0) -> GenericPhysics {
            GenericPhysics(origin: origin, level: level, swing: swing, cyclePeriod: cycle, eventsPerDay: events, workStart: ws, workEnd: we)
        }
        switch origin {
        case .tank: return make(rng.uniform(30...80), rng.uniform(20...50), events: Double(rng.int(1...3)))
        case .pressure: return make(rng.uniform(1.5...4), rng.uniform(0.3...1.5), cycle: rng.uniform(2...10) * 60)
        case .humidity: return make(rng.uniform(55...90), rng.uniform(2...12), cycle: rng.uniform(10...60) * 60)
        case .voltage:
            let nominal = rng.pick([230.0, 120, 24])
            return make(nominal, nominal * rng.uniform(0.01...0.04))
        case .counts: return make(rng.logUniform(2...500), 0, events: 0)
        case .flat: return make(rng.uniform(10...100).rounded(), rng.pick([0.5, 1, 5]), events: rng.uniform(0.1...0.4))
        case .noisy: return make(rng.uniform(-50...200), rng.logUniform(0.5...20))
        case .smooth: return make(rng.uniform(-10...40), rng.uniform(0.5...5))
        case .seasonal: return make(rng.uniform(0...1000), rng.logUniform(1...300))
        case .stepwise: return make(rng.uniform(10...100), rng.uniform(5...40), events: rng.uniform(2...20))
        }
    }
}

/// How a channel is read, whatever it measures: the poll interval, the noise, the resolution the
/// register carries, and how often a Modbus read fails.
public struct SensorPhysics: Sendable, Hashable {
    /// Seconds between polls (whole seconds: CSV timestamps carry no fractions).
    public var interval: Double
    /// Standard deviation of the reading noise, in the channel's unit.
    public var noise: Double
    /// Resolution: every reading is a multiple of this (0.5 °C on coarse transmitters); 0 = 0.001.
    public var quantum: Double
    /// Share of polls that fail on their own (value nil), scattered through the week.
    public var missingRate: Double

    public init(interval: Double, noise: Double, quantum: Double, missingRate: Double) {
        self.interval = interval
        self.noise = noise
        self.quantum = quantum
        self.missingRate = missingRate
    }

    /// A poll interval drawn evenly from the three sampling bands (≤ 30 s, 30–120 s, > 120 s) of
    /// `lo...hi` seconds: a sweep then has as many fast as slow channels.
    static func drawInterval(_ rng: inout TraceRandom, _ lo: Double, _ hi: Double) -> Double {
        let bands: [ClosedRange<Double>] = [lo...max(lo, min(30, hi)), max(lo, 31)...min(hi, 120), max(lo, 121)...hi]
            .filter { $0.lowerBound <= $0.upperBound && $0.lowerBound <= hi }
        let band = rng.pick(bands)
        return rng.logUniform(band).rounded()
    }

    /// What the register would carry for `x` with this sensor's noise already added.
    func reading(_ x: Double) -> Double {
        let q = quantum > 0 ? quantum : 0.001
        let r = (x / q).rounded() * q
        return (r * 1000).rounded() / 1000
    }
}

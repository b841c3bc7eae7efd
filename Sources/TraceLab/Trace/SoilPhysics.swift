/// The physics of one soil-moisture probe's field. Moisture in volume %, times in seconds.
public struct SoilPhysics: Sendable, Hashable {
    /// Moisture at the start: 15–45 %.
    public var initial: Double
    /// Water the soil holds after drainage; irrigation above it drains within hours.
    public var fieldCapacity: Double
    /// Drying slows toward this (wilting point): 5–12 %.
    public var floor: Double
    /// Drying at the start, in % per day: 0.3–3 (mostly by day).
    public var dryingPerDay: Double
    /// Gravity drainage time constant above field capacity: 3–12 h.
    public var drainage: Double
    /// Probe temperature artefact: 0–1 % either side, peak mid-afternoon.
    public var dailyWiggle: Double
    /// Irrigation every 1–4 days at `irrigationHour`, each +3–15 % soaking in over 10–90 min.
    public var irrigationEvery: Double
    public var irrigationHour: Double
    public var irrigationSize: ClosedRange<Double>
    /// Rain showers in the week (at random times).
    public var rainShowers: Int

    public static func draw(_ rng: inout TraceRandom) -> SoilPhysics {
        let initial = rng.uniform(15...45)
        let low = rng.uniform(3...8)
        return SoilPhysics(
            initial: initial,
            fieldCapacity: min(55, initial + rng.uniform(3...10)),
            floor: rng.uniform(5...12),
            dryingPerDay: rng.logUniform(0.3...3),
            drainage: rng.uniform(3...12) * 3600,
            dailyWiggle: rng.uniform(0...1),
            irrigationEvery: rng.uniform(1...4) * 86_400,
            irrigationHour: rng.uniform(4...20),
            irrigationSize: low...(low + rng.uniform(0...7)),
            rainShowers: rng.chance(0.3) ? rng.int(1...3) : 0)
    }
}

/// The physics of one scale (platform, hopper or silo on load cells). Weights in kg, times in seconds.
public struct ScalePhysics: Sendable, Hashable {
    /// 200 kg … 30 t.
    public var capacity: Double
    /// Load at the start: 20–70 % of capacity.
    public var initialLoad: Double
    /// Loading or unloading events per day (in working hours): 0.5 … 30.
    public var eventsPerDay: Double
    /// Working hours (hour of day, UTC); nobody loads outside them.
    public var workStart: Double
    public var workEnd: Double
    /// Stored grain loses water: % of the load per day (0–0.3).
    public var dryingPerDay: Double
    /// Load-cell zero follows the temperature: kg either side over the day.
    public var zeroDrift: Double

    public static func draw(_ rng: inout TraceRandom) -> ScalePhysics {
        let capacity = rng.logUniform(200...30_000)
        return ScalePhysics(
            capacity: capacity,
            initialLoad: capacity * rng.uniform(0.2...0.7),
            eventsPerDay: rng.logUniform(0.5...30),
            workStart: rng.uniform(6...8),
            workEnd: rng.uniform(16...19),
            dryingPerDay: rng.uniform(0...0.3),
            zeroDrift: capacity * rng.uniform(0...2e-4))
    }
}

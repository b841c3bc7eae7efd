/// The physics of one cold room, drawn at random from wide ranges (`draw`). Times in seconds,
/// temperatures in °C. Recorded in each trace so results can be split into bands.
public struct ColdRoomPhysics: Sendable, Hashable {
    /// −20 (freezer) … +12 (fruit store).
    public var setPoint: Double
    /// One compressor on/off cycle: 5–40 min.
    public var cyclePeriod: Double
    /// Half the swing of a compressor cycle: 0.2–1.5 °C either side of the set-point.
    public var cycleAmplitude: Double
    /// Share of a cycle the compressor runs (the room cools); the rest it warms.
    public var compressorDuty: Double
    /// The room's mean follows the day a little (warmest mid-afternoon): 0–0.4 °C.
    public var dailySwing: Double
    /// Defrost every 4–12 h, first one `defrostPhase` after the trace starts.
    public var defrostEvery: Double
    public var defrostPhase: Double
    /// Heater on to back at the set-point: 10–60 min (each defrost ±10 %: termination by temperature).
    public var defrostDuration: Double
    /// Peak above the set-point at the end of the heater phase: 2–10 °C.
    public var defrostAmplitude: Double
    /// Share of `defrostDuration` with the heater on; the rest is the pull-down.
    public var heaterShare: Double
    /// Pull-down that runs past the set-point before cycling resumes (°C below it; 0 = none).
    public var recoveryOvershoot: Double
    /// Door openings per day: 1 (rare) … 72 (every 10 min of a working day); nine in ten in working hours.
    public var doorsPerDay: Double
    /// Largest warm-up of one opening (0.5–4 °C); each burst lasts 1–6 min.
    public var doorMaxAmplitude: Double
    /// Working hours (hour of day, UTC).
    public var workStart: Double
    public var workEnd: Double
    /// What the room warms toward with no cooling (the hall or the outside air).
    public var ambient: Double

    public static func draw(_ rng: inout TraceRandom) -> ColdRoomPhysics {
        let setPoint = rng.uniform(-20...12)
        let every = rng.uniform(4...12) * 3600
        return ColdRoomPhysics(
            setPoint: setPoint,
            cyclePeriod: rng.uniform(5...40) * 60,
            cycleAmplitude: rng.uniform(0.2...1.5),
            compressorDuty: rng.uniform(0.3...0.7),
            dailySwing: rng.uniform(0...0.4),
            defrostEvery: every,
            defrostPhase: rng.uniform(0...1) * every,
            defrostDuration: rng.uniform(10...60) * 60,
            defrostAmplitude: rng.uniform(2...10),
            heaterShare: rng.uniform(0.5...0.7),
            recoveryOvershoot: rng.chance(0.4) ? rng.uniform(0.3...1.5) : 0,
            doorsPerDay: rng.logUniform(1...72),
            doorMaxAmplitude: rng.uniform(0.5...4),
            workStart: rng.uniform(5...8),
            workEnd: rng.uniform(16...20),
            ambient: max(rng.uniform(18...32), max(setPoint, 8) + 10))
    }
}

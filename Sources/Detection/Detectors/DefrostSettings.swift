/// What a cold room's detector knows, or may learn, about its defrost cycle (see `DefrostSchedule`).
///
/// Three sources, best first: the controller's own defrost status (fed through
/// `ChannelDetector.noteDefrost(active:time:)`), a schedule declared here (`every` + `duration`, with
/// `phase` or `clockTimes`), and a schedule learned from the room's own readings (`learn`). Inside an
/// expected defrost a warm excursion is tolerated up to its duration plus `margin`; outside one the
/// detector reacts fast. Times are seconds.
public struct DefrostSettings: Sendable, Codable, Hashable {
    /// Declared period between defrost starts (e.g. 21_600 for every 6 h); nil = none declared.
    public var every: Double?
    /// Declared heater time of one defrost (e.g. 2_400); the air needs `margin` more to recover.
    public var duration: Double?
    /// Declared start of one defrost, seconds since the epoch (any one: the schedule repeats every
    /// `every`); nil with `every` set = starts at UTC midnight + k × every.
    public var phase: Double?
    /// Declared start times as seconds after UTC midnight (e.g. [7_200, 28_800, 50_400, 72_000]);
    /// used instead of `every`/`phase` when set.
    public var clockTimes: [Double]?
    /// Learn the schedule from warm excursions that end by themselves and are evenly spaced.
    public var learn: Bool
    /// Matching excursions needed before a learned schedule is trusted (fewer gave false locks in the field).
    public var lockCycles: Int
    /// Extra time tolerated after an expected defrost's duration, for the air to recover.
    public var margin: Double
    /// How long a warm excursion is tolerated while no schedule is known (the conservative default).
    public var unknownAllowance: Double

    public init(
        every: Double? = nil, duration: Double? = nil, phase: Double? = nil, clockTimes: [Double]? = nil,
        learn: Bool = true, lockCycles: Int = 4, margin: Double = 900, unknownAllowance: Double = 75 * 60
    ) {
        self.every = every
        self.duration = duration
        self.phase = phase
        self.clockTimes = clockTimes
        self.learn = learn
        self.lockCycles = max(3, lockCycles)
        self.margin = margin
        self.unknownAllowance = unknownAllowance
    }
}

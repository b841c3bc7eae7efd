/// The learned part of a cold room's defrost schedule, as stored in `ChannelDetectorSnapshot`: the
/// remembered self-ending warm excursions (the schedule is refitted from them on restore).
public struct DefrostScheduleSnapshot: Sendable, Codable, Hashable {
    public var starts: [Double]
    public var durations: [Double]
    /// Peak rise of each excursion above the room's floor.
    public var peaks: [Double]
    public var previousPeriod: Double?

    public init(starts: [Double], durations: [Double], peaks: [Double], previousPeriod: Double? = nil) {
        self.starts = starts
        self.durations = durations
        self.peaks = peaks
        self.previousPeriod = previousPeriod
    }
}

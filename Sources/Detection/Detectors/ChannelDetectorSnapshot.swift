/// What a `ChannelDetector` keeps across a restart: the learned baseline, the recent readings, the
/// learned defrost schedule, and whether an alert episode is open (so a restart neither re-raises nor
/// silently drops it). About 2 KB as raw Doubles at window 256 (the JSON form is roughly 2–3× that).
/// Short-lived state (windows, floor, envelope, spike memory, drift sums, stuck run) is rebuilt by
/// running `samples` through the detector again on restore.
///
/// Version 2 (components): a version-1 snapshot decodes (the new fields are optional) but is refused
/// by `restore`, so the detector starts fresh rather than misreading it.
public struct ChannelDetectorSnapshot: Sendable, Codable, Hashable {
    /// Format version; `ChannelDetector.restore` ignores snapshots of another version.
    public static let currentVersion = 2

    public var version: Int
    /// Valid readings of the long window, oldest first.
    public var samples: [Double]
    /// Time of the newest sample (seconds since the epoch), nil if none.
    public var lastTime: Double?
    /// Learned level baseline; nil before the first level evaluation.
    public var baseline: Double?
    /// When the baseline started learning (its warm-up runs from here).
    public var baselineSince: Double?
    public var baselineCount: Int
    /// Learned share of consecutive equal readings (how coarse the sensor is).
    public var zeroDiffShare: Double
    /// The open alert episode, if any.
    public var alertKind: AlertKind?
    public var alertSince: Double?
    /// The learned daily pattern (offsets from the baseline per time-of-day slot, then the seconds
    /// learned per slot) and when it started learning; nil without one. Absent in older snapshots.
    public var daily: [Double]?
    public var dailySince: Double?
    /// Cold rooms: the learned defrost schedule's excursions; nil without one.
    public var defrost: DefrostScheduleSnapshot?
    /// The longest flat run the stuck detector has seen on a behaving sensor (seconds); nil without one.
    public var longestFlatRun: Double?
    /// Generic channels: the day-over-day comparison's learned levels per slot; nil without one.
    public var dayOverDay: DayOverDaySnapshot?

    public init(
        version: Int = ChannelDetectorSnapshot.currentVersion, samples: [Double], lastTime: Double?, baseline: Double?,
        baselineSince: Double?, baselineCount: Int, zeroDiffShare: Double, alertKind: AlertKind?, alertSince: Double?,
        daily: [Double]? = nil, dailySince: Double? = nil, defrost: DefrostScheduleSnapshot? = nil,
        longestFlatRun: Double? = nil, dayOverDay: DayOverDaySnapshot? = nil
    ) {
        self.dayOverDay = dayOverDay
        self.defrost = defrost
        self.longestFlatRun = longestFlatRun
        self.version = version
        self.samples = samples
        self.lastTime = lastTime
        self.baseline = baseline
        self.baselineSince = baselineSince
        self.baselineCount = baselineCount
        self.zeroDiffShare = zeroDiffShare
        self.alertKind = alertKind
        self.alertSince = alertSince
        self.daily = daily
        self.dailySince = dailySince
    }
}

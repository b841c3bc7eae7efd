/// Settings for the level detector: a recent level (a quantile of the last `window` seconds) compared
/// with a slowly learned baseline. Using a low quantile for rises (and a high one for falls) means
/// the level must have moved for most of the window: a defrost or a door opening that is shorter
/// than `(1 - quantile) × window` cannot move it.
public struct LevelSettings: Sendable, Codable, Hashable {
    /// Seconds of recent samples that form the level.
    public var window: Double
    /// Quantile of the recent samples used for rises; `1 - quantile` is used for falls. 0.5 = median.
    public var quantile: Double
    /// Deviation (channel units) where the score starts to rise from 0, and where it reaches 1.
    public var low: Double
    public var high: Double
    /// Optional noise-relative floors: the effective thresholds are at least this many robust
    /// standard deviations of the long window. 0 switches them off.
    public var sigmaLow: Double
    public var sigmaHigh: Double
    /// Which directions alert.
    public var rises: Bool
    public var falls: Bool
    /// Time constant (seconds) of the baseline. While the level is off, the baseline learns 20 times slower,
    /// so an anomaly is not absorbed, yet a deliberate change (new set point) is learned in days.
    public var baselineTimeConstant: Double
    /// Seconds of data before the baseline is trusted (warm-up). Only this detector waits for it.
    public var warmup: Double
    /// Learn the usual level for each time of day (`dailyBins` slots of the UTC day) and compare with
    /// that instead of one baseline: a cycle that repeats every day (lights, vents, pumps or heaters on
    /// a timer, day and night) stops alerting once learned, while the same change at an unusual hour
    /// still does. The comparison allows for the neighbouring slots, so a schedule may drift by one slot.
    public var daily: Bool
    public var dailyBins: Int
    /// Days of data before the daily pattern is used, and roughly how many days it remembers.
    public var dailyWarmupDays: Double
    public var dailyMemoryDays: Double
    /// The window counted in samples (any sampling rate gets the same statistics); `window` is then
    /// only an upper bound on its span. nil = `window` seconds.
    public var windowSamples: Int?
    /// The warm-up counted in samples; `warmup` is then only an upper bound. nil = `warmup` seconds.
    public var warmupSamples: Int?
    /// Seconds a level shown by the series stays "known": a deviation to a level the series already
    /// showed within this memory does not raise a new alert (`LevelMemory`). nil = off.
    public var novelty: Double?

    public init(
        window: Double, quantile: Double = 0.5, low: Double, high: Double, sigmaLow: Double = 0, sigmaHigh: Double = 0,
        rises: Bool = true, falls: Bool = true, baselineTimeConstant: Double = 12 * 3600, warmup: Double = 3 * 3600,
        daily: Bool = false, dailyBins: Int = 48, dailyWarmupDays: Double = 3, dailyMemoryDays: Double = 7,
        windowSamples: Int? = nil, warmupSamples: Int? = nil, novelty: Double? = nil
    ) {
        self.windowSamples = windowSamples.map { max(3, $0) }
        self.warmupSamples = warmupSamples.map { max(1, $0) }
        self.novelty = novelty
        self.window = window
        self.quantile = quantile
        self.low = low
        self.high = high
        self.sigmaLow = sigmaLow
        self.sigmaHigh = sigmaHigh
        self.rises = rises
        self.falls = falls
        self.baselineTimeConstant = baselineTimeConstant
        self.warmup = warmup
        self.daily = daily
        self.dailyBins = max(1, dailyBins)
        self.dailyWarmupDays = dailyWarmupDays
        self.dailyMemoryDays = max(dailyMemoryDays, 1e-3)
    }
}

/// Everything a `ChannelDetector` needs to know about one channel. Start from
/// `DetectorConfig.defaults(for:sampleInterval:)` and override single fields for a channel
/// (the site file's per-channel settings map onto these fields one to one). A nil detector
/// setting switches that detector off. Times are seconds; values are in the channel's unit.
public struct DetectorConfig: Sendable, Codable, Hashable {
    public var kind: ChannelKind
    /// Shown in messages, e.g. "°C".
    public var unit: String
    /// The poll interval: converts the time spans below into sample counts.
    public var sampleInterval: Double

    /// Valid range of the quantity or sensor; nil = unbounded on that side. Outside = `out_of_range`.
    public var validMin: Double?
    public var validMax: Double?
    /// Values the firmware uses for "no reading" (e.g. 85.0 and -127.0 for a DS18B20). Match = `sentinel`.
    public var sentinels: [Double]
    public var sentinelTolerance: Double
    /// Seconds of missing readings (Modbus read faults) before a `no_data` alert.
    public var noDataAfter: Double
    /// A gap between readings longer than this restarts the short-term state (previous values,
    /// stuck run, spikes, drift sums); the learned baseline is kept.
    public var maxGap: Double

    /// Capacity of the long robust window (rolling median and MAD), in samples.
    public var window: Int

    public var spike: SpikeSettings?
    public var level: LevelSettings?
    public var drift: DriftSettings?
    public var stuck: StuckSettings?
    /// Cold rooms: the defrost cycle (declared, learned, or from the controller's status).
    public var defrost: DefrostSettings?
    /// Cold rooms: the compressor-failure projection.
    public var rise: RiseSettings?
    /// A floor under the noise scale (robust standard deviation), in the channel's unit: a series whose
    /// MAD is 0 would otherwise make any offset an anomaly. nil = only the learned floors (resolution,
    /// mean absolute deviation), see `NoiseScale`.
    public var minSpread: Double?
    /// Scales: a reading below the learned zero by more than this (or 4 noise scales) is out of range
    /// (`NegativeWeight`); use it with `validMin` nil. nil = off.
    public var negativeMargin: Double?
    /// Generic channels: the level against the same time yesterday and bursts of outliers. nil = off.
    public var dayOverDay: DayOverDaySettings?

    /// Alert gate: raise when the score stays ≥ `raiseLevel` for `raiseAfter` s, clear when it stays
    /// < `clearLevel` for `clearAfter` s.
    public var raiseLevel: Double
    public var clearLevel: Double
    public var raiseAfter: Double
    public var clearAfter: Double
    /// The clear delay counted in samples; `clearAfter` is then an upper bound. nil = seconds only.
    public var clearAfterSamples: Int?
    /// After a clear, no new raise for `refractorySamples` samples or `refractory` seconds, whichever
    /// comes first. nil = none.
    public var refractory: Double?
    public var refractorySamples: Int?

    /// Severity of alerts about the measured process (deviation, rate) and about the sensor itself.
    public var processSeverity: Severity
    public var faultSeverity: Severity

    public init(
        kind: ChannelKind, unit: String = "", sampleInterval: Double = 60,
        validMin: Double? = nil, validMax: Double? = nil, sentinels: [Double] = [], sentinelTolerance: Double = 1e-6,
        noDataAfter: Double = 600, maxGap: Double = 1800, window: Int = 256,
        spike: SpikeSettings? = nil, level: LevelSettings? = nil, drift: DriftSettings? = nil, stuck: StuckSettings? = nil,
        raiseLevel: Double = 0.8, clearLevel: Double = 0.3, raiseAfter: Double = 0, clearAfter: Double = 900,
        processSeverity: Severity = .warning, faultSeverity: Severity = .warning,
        defrost: DefrostSettings? = nil, rise: RiseSettings? = nil, minSpread: Double? = nil,
        clearAfterSamples: Int? = nil, refractory: Double? = nil, refractorySamples: Int? = nil,
        negativeMargin: Double? = nil, dayOverDay: DayOverDaySettings? = nil
    ) {
        self.negativeMargin = negativeMargin
        self.dayOverDay = dayOverDay
        self.defrost = defrost
        self.rise = rise
        self.minSpread = minSpread
        self.clearAfterSamples = clearAfterSamples
        self.refractory = refractory
        self.refractorySamples = refractorySamples
        self.kind = kind
        self.unit = unit
        self.sampleInterval = sampleInterval
        self.validMin = validMin
        self.validMax = validMax
        self.sentinels = sentinels
        self.sentinelTolerance = sentinelTolerance
        self.noDataAfter = noDataAfter
        self.maxGap = maxGap
        self.window = window
        self.spike = spike
        self.level = level
        self.drift = drift
        self.stuck = stuck
        self.raiseLevel = raiseLevel
        self.clearLevel = clearLevel
        self.raiseAfter = raiseAfter
        self.clearAfter = clearAfter
        self.processSeverity = processSeverity
        self.faultSeverity = faultSeverity
    }

    /// Defaults from the physics of each kind (see docs/detection.md for the reasoning).
    /// `sampleInterval` is the poll interval in seconds; nil picks the kind's usual one.
    public static func defaults(for kind: ChannelKind, sampleInterval: Double? = nil) -> DetectorConfig {
        switch kind {
        case .coldRoom:
            // Air in a cold room: compressor cycling, defrost heaters every few hours for 10–60 min, doors
            // opened for minutes. Air cannot swing 5 °C and back within a minute. The level window is
            // short (20 min, doubled while no defrost schedule is known) because warm excursions that a
            // defrost explains are kept out of it (`DefrostSchedule`); the rise projection catches a
            // compressor failure before the window would. Level thresholds at 1.5 / 2.5 noise scales:
            // the level is a low quantile compared with a median baseline, so it shows a set-point drift
            // about half a cycle short (at 2 / 3.5 a 3 °C drift in a room cycling ±1.4 °C never raised).
            // `stuck` after 2 h on a coarse sensor (not 4): a cold room's air moves with every compressor
            // cycle and defrost, and the stuck detector's learned longest normal flat run still protects
            // a sensor that legitimately sits on one step.
            return DetectorConfig(
                kind: kind, unit: "°C", sampleInterval: sampleInterval ?? 60,
                validMin: -40, validMax: 60, sentinels: [85, -127, -999, 3276.7, -3276.8, 6553.5],
                noDataAfter: 600, maxGap: 1800,
                spike: SpikeSettings(minJump: 5, sigmas: 8, count: 2, memory: 1800),
                level: LevelSettings(
                    window: 1200, quantile: 0.25, low: 1.0, high: 2.0, sigmaLow: 1.5, sigmaHigh: 2.5, rises: true, falls: true,
                    baselineTimeConstant: 12 * 3600, warmup: 3 * 3600),
                drift: nil,
                stuck: StuckSettings(duration: 3600, quantizedFactor: 2),
                clearAfter: 900, processSeverity: .critical, faultSeverity: .warning,
                defrost: DefrostSettings(), rise: RiseSettings())
        case .soilMoisture:
            // Soil water: dries over days, wiggles with the day, jumps up on irrigation or rain. It cannot
            // fall 5 points in minutes: a sudden fall is a probe out of the ground or a broken cable.
            return DetectorConfig(
                kind: kind, unit: "%", sampleInterval: sampleInterval ?? 300,
                validMin: 0, validMax: 100, sentinels: [-999, 3276.7, 6553.5],
                noDataAfter: 3600, maxGap: 3 * 3600,
                spike: SpikeSettings(minJump: 8, sigmas: 8, count: 2, memory: 3600),
                level: LevelSettings(
                    window: 1800, quantile: 0.5, low: 4, high: 8, rises: false, falls: true,
                    baselineTimeConstant: 24 * 3600, warmup: 6 * 3600),
                drift: nil,
                stuck: StuckSettings(duration: 3 * 3600),
                clearAfter: 3600, processSeverity: .warning, faultSeverity: .warning)
        case .weight:
            let dt = sampleInterval ?? 30
            // A scale: flat between loading steps, a few tenths of noise. Loading is a step (a sack: many
            // times the reading-to-reading noise, done within minutes); a slide that is not a step (leak,
            // theft, creep) is the anomaly: 0.4–0.8 % of the load over 12 h (stored grain dries at most
            // 0.15 % in that time), or a run of steps lasting longer than loading sacks takes (10 min), 1–3 % of the load. Spikes are
            // single readings far off that come straight back. Weight below the scale's own learned zero (an empty
            // platform reads a little below 0 when its zero wanders) is a fault: `negativeMargin`.
            return DetectorConfig(
                kind: kind, unit: "kg", sampleInterval: dt,
                validMin: nil, validMax: nil, sentinels: [-999, 65535, -32768, 6553.5],
                noDataAfter: 600, maxGap: 1800,
                // Three spikes within 10 readings (a burst), forgotten as fast, so the alert ends with it.
                spike: SpikeSettings(minJump: 0, sigmas: 12, count: 3, memory: max(120, 10 * dt)),
                level: nil,
                drift: DriftSettings(
                    stepSigmas: 4, noiseSigmas: 3.5, eventSpan: 600, runSteps: 4,
                    fastLowFraction: 0.01, fastHighFraction: 0.03,
                    slowSpan: 12 * 3600, slowLowFraction: 0.004, slowHighFraction: 0.008),
                stuck: StuckSettings(duration: 1800),
                clearAfter: 900, processSeverity: .warning, faultSeverity: .warning,
                clearAfterSamples: 4, negativeMargin: 5)
        case .generic:
            // Unknown quantity, sampled every few seconds to every hour: only checks relative to the
            // series itself and counted in readings. The level (median of 5 readings) is compared with
            // the same time yesterday (whatever repeats daily cancels; a level the series holds is not
            // news), against 4.5 times how far that difference usually goes in a slot of the day, half
            // of yesterday's range (all of it while less than a day of differences is known), three
            // noises and 3.2 grid steps (`DayOverDay`), and raised only on a level not held normally in
            // the last three days, nor within 3.2 grid steps of one (a known plateau at a new hour, a
            // setting walked by hand, is not news); a level outside all of those by half their span
            // raises by itself. Two readings within ten that jump out of the last 128 readings'
            // 3rd–97th percentile band by half its width (and six noises, no more than its tails show,
            // and 2.5 grid steps), away from both neighbours, and come straight back are a burst of
            // glitches (`SpikeBurst`).
            // The clear delay is 5 readings (at most 6 h), and after a clear nothing raises for 30
            // readings (at most 12 h), so one episode is one raise. `stuck` is off (many quantities are
            // legitimately flat); the baseline `level`, `drift` and `spike` detectors can be switched on.
            return DetectorConfig(
                kind: kind, unit: "", sampleInterval: sampleInterval ?? 60,
                validMin: nil, validMax: nil, sentinels: [-999, -9999, 65535],
                noDataAfter: 600, maxGap: 1800,
                spike: nil, level: nil, drift: nil, stuck: nil,
                clearAfter: 6 * 3600,
                clearAfterSamples: 5, refractory: 12 * 3600, refractorySamples: 30,
                dayOverDay: DayOverDaySettings())
        }
    }

    /// Converts a time span to a sample count in 1...window.
    func samples(for span: Double) -> Int {
        let n = Int((span / max(sampleInterval, 1e-3)).rounded())
        return max(1, min(window, n))
    }

    /// `count` samples when given, but no more than `span` seconds of them (and at least `minimum`);
    /// `span` alone without a count. Clamped to 1...window.
    func samples(count: Int?, span: Double, minimum: Int = 1) -> Int {
        guard let count else { return samples(for: span) }
        let bySpan = Int((span / max(sampleInterval, 1e-3)).rounded(.down))
        return max(1, min(window, max(minimum, min(count, bySpan))))
    }
}

/// The `rate` detector for scales (and any channel that sets `drift`): a steady slide that is not a
/// loading step — a leak, theft, load-cell creep.
///
/// What counts as a step comes from the channel itself, not from a fixed size: a change between
/// consecutive readings is a step when it exceeds `stepSigmas` reading-to-reading noise scales (from
/// the upper quartile of the last 63 non-step changes, floored at the display resolution), or `step`
/// when that is set. Two rules score a slide:
/// - *slow*: the sum of the non-step changes over `slowSpan`, against the larger of a share of the
///   stored level and `noiseSigmas` × what the sum wanders by itself (the noise × √(flat stretches
///   between steps), or a robust scale of the sum at the last 144 bucket ends without a slide, which
///   also covers the load cell's zero following the day). Once alerting, the sum must keep advancing
///   at half its pace at the start; when it stops, the sums restart (what it moved is the new normal,
///   and the alert ends with the slide, not a span later): creep and leaks;
/// - *run*: consecutive same-sign steps lasting longer than `eventSpan` (plus one reading interval)
///   and at least `runSteps` readings, a slide too fast for the slow rule (sacks are loaded within minutes); in an hour of the
///   day (or next to one) when loading has been seen, only once it lasts three times as long. Its net
///   change must exceed `fastLowFraction` of the level: theft at night at slow sampling.
///
/// Costs: O(1) per reading (a 63-value sorted window for the noise; a ring of 72 time buckets for the
/// slow sum, re-added once per ring turn so rounding cannot build up; a 144-value sorted window of the
/// wander, pushed once per bucket); all allocated at init. Nothing to persist: a restart rebuilds the
/// sums from the snapshot's readings.
struct DriftRate: Sendable {
    typealias Settings = DriftSettings
    let settings: Settings
    static let buckets = 72
    private let bucketLength: Double
    private let interval: Double
    private var sums: [Double]
    private var stretches: [Int]
    private var current = 0
    private var currentEnd = Double.nan
    private var turned = 0
    /// Readings seen within the slow span (for messages).
    private(set) var count = 0
    private var started = Double.nan
    private(set) var slowSum = 0.0
    private var slowStretches = 0
    /// Buckets in use (up to `buckets`), and the spread of the closed ones' sums.
    private var filled = 1
    /// |slow sum| at each bucket's end while nothing slid (a day of them): how far the sum wanders
    /// on this scale when all is well (noise that does not cancel, the zero following the day).
    private var wander: SortedWindow
    private var lastScore = 0.0
    private var absDiffs: SortedWindow
    private var resolution = Double.infinity
    private var previous = Double.nan
    private var previousTime = Double.nan
    // The current run of same-sign steps.
    private var runSum = 0.0
    private var runSteps = 0
    private var runStart = Double.nan
    private var runEnd = Double.nan
    /// Hours of the (UTC) day in which loading has been seen, one bit each.
    private(set) var activeHours: UInt32 = 0
    // The slide being scored: when it started, its largest sum so far and when that was reached.
    private var slideStart = Double.nan
    private var pace = 0.0
    private var checkTime = Double.nan
    private var checkSum = 0.0
    private var smoothSum = 0.0
    private let smoothing: Int
    /// The run's net change, and its length in readings (for messages).
    var fastSum: Double { runSum }
    var fastSamples: Int { max(1, runSteps) }
    private(set) var fastDominates = false

    init(settings: Settings, config: DetectorConfig) {
        self.settings = settings
        interval = max(config.sampleInterval, 1e-3)
        bucketLength = max(settings.slowSpan / Double(Self.buckets), interval)
        sums = [Double](repeating: 0, count: Self.buckets)
        stretches = [Int](repeating: 0, count: Self.buckets)
        wander = SortedWindow(capacity: 2 * Self.buckets)
        smoothing = max(1, min(50, Int(600 / interval)))
        absDiffs = SortedWindow(capacity: 63)
    }

    /// The reading-to-reading noise (a robust standard deviation of the changes).
    /// 0 until 8 changes have been seen.
    var diffNoise: Double {
        guard absDiffs.count >= 8 else { return 0 }
        // The upper quartile of |change| is 1.15 standard deviations for normal noise, and unlike the
        // median it does not collapse onto one display step when the noise is about that size.
        let m = absDiffs.count >= 8 ? absDiffs.quantile(0.75) / 1.15 : .nan
        let r = resolution.isFinite ? resolution : 0
        return m.isFinite ? max(m, r) : r
    }

    /// Feeds a plausible reading at `time`; `level` is the stored level (the long window's median).
    /// Returns the score.
    mutating func update(time: Double, x: Double, level: Double) -> Double {
        advance(to: time)
        defer { previous = x; previousTime = time }
        guard previous.isFinite else { return 0 }
        let diff = x - previous
        let a = abs(diff)
        let noise = diffNoise
        let limit = settings.step.map { min($0, max(settings.stepSigmas * noise, 2 * resolution)) }
            ?? max(settings.stepSigmas * noise, 2 * resolution)
        if a > 0 { resolution = min(resolution * 1.0005, a) } else { resolution *= 1.0005 }
        guard absDiffs.count >= 8 else { absDiffs.push(a); return 0 }
        let isStep = a > limit
        // Steps stay out of the noise estimate, so a long slide cannot teach it that steps are noise.
        if !isStep { absDiffs.push(a) }
        if isStep {
            if runSteps > 0 && (diff > 0) == (runSum > 0) {
                runSum += diff
                runSteps += 1
            } else {
                endRun()
                runSum = diff
                runSteps = 1
                runStart = previousTime
            }
            runEnd = time
            stretches[current] += 1
            slowStretches += 1
        } else {
            endRun()
            sums[current] += diff
            slowSum += diff
        }
        let l = abs(level.isFinite ? level : x)
        // Slow rule: creep against the level's share and the noise across the flat stretches.
        let wanderScale = wander.count >= Self.buckets / 2 ? 1.4826 * wander.median : 0
        let noiseFloor = settings.noiseSigmas * max(noise * Double(slowStretches + 1).squareRoot(), wanderScale)
        let sLo = max(settings.slowLow, settings.slowLowFraction * l, noiseFloor)
        let sHi = max(settings.slowHigh, settings.slowHighFraction * l, sLo * 1.5)
        smoothSum += (slowSum - smoothSum) / Double(smoothing)
        var slow = ramp(abs(slowSum), sLo, sHi)
        if slow > 0 {
            // Still sliding: once alerting, the sum (averaged over about 10 minutes, at most 50
            // readings) must keep advancing at half the pace it had when the alert began, checked
            // every `window` (long enough for that pace to move it 3 of the average's noise). When it
            // does not, the slide has stopped and the sums restart: what it moved is the new normal,
            // and the alert ends with the slide, not a span later.
            let margin = noise / Double(smoothing).squareRoot()
            if slideStart.isNaN && slow >= 1 {
                slideStart = time
                pace = abs(slowSum) / max(min(time - started, settings.slowSpan), interval)
                checkTime = time
                checkSum = abs(smoothSum)
            }
            let window = max(4 * interval, 600, 3 * margin / max(pace, 1e-12))
            var stopped = false
            if slideStart.isFinite && time - checkTime >= window {
                stopped = abs(smoothSum) - checkSum < 0.5 * pace * (time - checkTime)
                checkTime = time
                checkSum = abs(smoothSum)
            }
            if stopped {
                for k in 0..<Self.buckets { sums[k] = 0; stretches[k] = 0 }
                slowSum = 0
                slowStretches = 0
                smoothSum = 0
                slow = 0
                slideStart = .nan
            }
        } else {
            slideStart = .nan
        }
        // Run rule: a flow of steps longer than loading takes.
        var run = 0.0
        let span = time - runStart
        let loading = settings.eventSpan + interval                  // the readings around a loading add one interval
        if runSteps >= settings.runSteps && span > loading
            && (span > 3 * loading || !isActive(runStart) || !isActive(time)) {
            let fLo = max(settings.fastLow, settings.fastLowFraction * l)
            let fHi = max(settings.fastHigh, settings.fastHighFraction * l, fLo * 1.2)
            run = ramp(abs(runSum), fLo, fHi)
        }
        fastDominates = run > slow
        lastScore = max(slow, run)
        return lastScore
    }

    /// Closes the current run of steps; one that was over within `eventSpan` was loading, so its
    /// hours of the day are working hours.
    private mutating func endRun() {
        if runSteps > 0 && runEnd - runStart <= settings.eventSpan + interval {
            activeHours |= Self.hourBit(runStart) | Self.hourBit(runEnd)
        }
        runSteps = 0
        runSum = 0
    }

    private static func hourBit(_ time: Double) -> UInt32 {
        let hour = Int((time / 3600).rounded(.down)) % 24
        return 1 << UInt32(hour < 0 ? hour + 24 : hour)
    }

    /// True if loading was seen in this hour of the day or the hours next to it.
    private func isActive(_ time: Double) -> Bool {
        let bit = Self.hourBit(time)
        let around = bit | (bit << 1) | (bit >> 1) | (bit == 1 ? 1 << 23 : 0) | (bit == 1 << 23 ? 1 : 0)
        return activeHours & around != 0
    }

    /// Moves the slow buckets on to `time`, dropping what left the span.
    private mutating func advance(to time: Double) {
        if currentEnd.isNaN || time < currentEnd - 2 * bucketLength || time - currentEnd > settings.slowSpan {
            for i in 0..<Self.buckets { sums[i] = 0; stretches[i] = 0 }
            slowSum = 0
            slowStretches = 0
            filled = 1
            count = 0
            started = time
            currentEnd = ((time / bucketLength).rounded(.down) + 1) * bucketLength
        }
        while time >= currentEnd {
            current = current + 1 == Self.buckets ? 0 : current + 1
            slowSum -= sums[current]
            slowStretches -= stretches[current]
            sums[current] = 0
            stretches[current] = 0
            currentEnd += bucketLength
            if filled >= Self.buckets / 2 && lastScore == 0 && slideStart.isNaN { wander.push(abs(slowSum)) }
            filled = min(filled + 1, Self.buckets)
            turned += 1
            if turned >= Self.buckets {
                turned = 0
                slowSum = sums.reduce(0, +)
                slowStretches = stretches.reduce(0, +)
            }
        }
        count = Int((min(time - started, settings.slowSpan) / interval).rounded()) + 1
    }

    mutating func restartShortTerm() {
        previous = .nan
        previousTime = .nan
        runSum = 0
        runSteps = 0
    }
}

/// 0 at or below `lo`, 1 at or above `hi`, linear between: how every component turns a distance into a score.
@inline(__always)
func ramp(_ v: Double, _ lo: Double, _ hi: Double) -> Double {
    if v <= lo { return 0 }
    if v >= hi { return 1 }
    return (v - lo) / (hi - lo)
}

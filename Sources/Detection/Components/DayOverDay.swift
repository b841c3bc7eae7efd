/// The `deviation` detector of a generic channel: the level now against the level at the same time
/// yesterday, judged by how far that difference usually goes on this series.
///
/// Whatever repeats every day (lights, pumps on a timer, the sun) cancels in the difference, and so
/// does a level the series holds; what is left is what changed since yesterday. The level is the
/// median of the last `smoothing` readings (a single spike does not move it). Yesterday's level is
/// the mean level of the same slot of the day (`slots` slots, or one per reading when readings are
/// further apart), from the last day that slot was normal (at most three days back: a slot whose
/// level was off is no reference, or its echo would alert a day later; a lasting change is accepted
/// after three days). The level is compared with the lowest and highest of that slot and two on
/// either side, so a daily change that comes a little earlier or later is not news. The usual size
/// of the difference is learned from its largest value in each slot over the last two days (the
/// upper quartile / 1.15), left alone while the level is off (a fault does not teach it that faults
/// are normal). The thresholds are the larger of `sigmas` usual sizes, `rangeShare` of yesterday's
/// range of levels (all of it until a day of differences is known), `noiseSigmas` reading noises
/// (from the last 63 reading-to-reading changes) and 3.2 grid steps (the smallest move of the level,
/// and at most the grid the values lie on, `ValueGrid`): a series that swings from day to day must
/// change by a share of its own range, a noisy one by more than its noise, and a register changed by
/// hand in steps by more than a few steps (a change of three steps scores 0, one of four raises).
///
/// Promises: silent for the first day and until the usual size is known (24 slots, at most a day);
/// a level that moves by the low threshold within a day scores above 0, by 1.3 times it scores 1.
/// Costs: O(1) per reading (three small sorted windows), O(slots) once per slot; all allocated at
/// init. What it learned (the slots' levels, the usual size of the difference, the resolution) is
/// persisted (`snapshot`), so a restart does not make it silent for a day.
struct DayOverDay: Sendable {
    let sigmas: Double
    let rangeShare: Double
    let noiseSigmas: Double
    let slotLength: Double
    let slots: Int
    private var recent: SortedWindow
    private var changes: SortedWindow
    private var spread: SortedWindow
    /// Mean level of each slot (ring over one day), and when it was filled.
    private var means: [Double]
    private var filledAt: [Double]
    /// What each slot held before its last refill (for the slots refilled earlier today).
    private var earlierMeans: [Double]
    private var earlierAt: [Double]
    private var slot = -1
    private var slotSum = 0.0
    private var slotCount = 0
    /// The reference for the current slot: the lowest and highest normal level of it and its neighbours.
    private var yesterday = Double.nan
    private var yesterdayHigh = Double.nan
    private var resolution = Double.infinity
    /// The smallest change of the level seen (slowly forgotten): the series' resolution step,
    /// or 0 while none is known.
    var step: Double { let r = min(resolution, grid.step); return r.isFinite ? r : 0 }
    /// The grid the readings lie on (caps `step`: a register that never moved still shows its grid).
    private var grid = ValueGrid()
    private(set) var range = Double.nan
    private var previous = Double.nan
    private var lastDifference = Double.nan
    private var deviating = false
    private var slotDeviated = false
    /// The largest |difference| in the current slot.
    private var slotLargest = Double.nan
    /// The last evaluation, for messages: the level, yesterday's level and their difference.
    private(set) var level = Double.nan
    private(set) var reference = Double.nan
    private(set) var difference = 0.0
    /// The low threshold of the last evaluation (0 until known).
    private(set) var threshold = 0.0

    init(sampleInterval: Double, smoothing: Int = 5, sigmas: Double = 5, rangeShare: Double = 0.5, noiseSigmas: Double = 8) {
        self.sigmas = sigmas
        self.rangeShare = rangeShare
        self.noiseSigmas = noiseSigmas
        let n = max(4, min(96, Int((86_400 / max(sampleInterval, 900)).rounded(.down))))
        slots = n
        slotLength = 86_400 / Double(n)
        recent = SortedWindow(capacity: max(1, smoothing))
        changes = SortedWindow(capacity: 63)
        spread = SortedWindow(capacity: 2 * n)
        means = [Double](repeating: .nan, count: n)
        filledAt = [Double](repeating: -.infinity, count: n)
        earlierMeans = means
        earlierAt = filledAt
    }

    /// The factor the resolution grows by per slot of the day: about 2 per week (1 + ln 2 per week).
    static func resolutionForgetting(slotLength: Double) -> Double { 1 + 0.693 * slotLength / (7 * 86_400) }

    /// The smallest change worth a look on this series whatever its history: `noiseSigmas` reading
    /// noises and 3.2 resolution steps.
    var floor: Double { max(noiseSigmas * noise, stepFloor, 1e-9) }
    /// 3.2 resolution steps: a change of three steps (a setting changed by hand) scores 0, one of four raises.
    var stepFloor: Double { 3.2 * step }

    /// The reading-to-reading noise (a robust standard deviation of one reading).
    var noise: Double { changes.count >= 8 ? changes.quantile(0.75) / 1.15 / 2.0.squareRoot() : 0 }

    /// Feeds a plausible reading; returns the score in [0, 1].
    mutating func update(time: Double, x: Double) -> Double {
        if previous.isFinite { changes.push(abs(x - previous)) }
        grid.note(x)
        previous = x
        recent.push(x)
        // The grid step is learned from the level's changes, not the readings': a glitch does not
        // move the median, so a burst of spikes on a flat register does not teach it a coarse grid.
        let move = abs(recent.median - level)
        if move > 0 && recent.isFull { resolution = min(resolution, move) }
        level = recent.median
        let index = Int((time / slotLength).rounded(.down)) % slots
        let s = index < 0 ? index + slots : index
        if s != slot {
            // The grid step is a property of the register: forgotten over days (it doubles in a week
            // without a change that small), not per reading, so a register that sits still for days
            // (a setting) keeps it and a rare odd small change does not pin it forever.
            if slot >= 0 && resolution.isFinite { resolution *= Self.resolutionForgetting(slotLength: slotLength) }
            closeSlot(next: s, time: time)
        }
        slotSum += level
        slotCount += 1
        guard yesterday.isFinite else { difference = 0; deviating = false; return 0 }
        reference = level > yesterdayHigh ? yesterdayHigh : (level < yesterday ? yesterday : level)
        difference = level > yesterdayHigh ? level - yesterdayHigh : (level < yesterday ? level - yesterday : 0)
        lastDifference = difference
        slotLargest = slotLargest.isFinite ? max(slotLargest, abs(difference)) : abs(difference)
        guard spread.count >= min(slots, 24) else { return 0 }
        let usual = spread.quantile(0.75) / 1.15
        // Less than a day of differences says little about a series that wanders over days (a few
        // hours of a slow wander are one sample): until then the change must also exceed what the
        // series did within the last day (its whole range, not half of it).
        let share = spread.count >= slots ? rangeShare : max(rangeShare, 1)
        let lo = max(sigmas * usual, share * range, floor)
        threshold = lo
        let a = abs(difference)
        deviating = a > 0.5 * lo
        if deviating { slotDeviated = true }
        return ramp(a, lo, 1.3 * lo)
    }

    /// Stores the slot that ended, learns the usual size of the difference, and picks yesterday's
    /// level for the slot that begins.
    private mutating func closeSlot(next: Int, time: Double) {
        // A slot whose level was off is not a reference for tomorrow (its echo would alert a day
        // later): the older day's level stays.
        if slot >= 0 && slotCount > 0 && !slotDeviated {
            earlierMeans[slot] = means[slot]
            earlierAt[slot] = filledAt[slot]
            means[slot] = slotSum / Double(slotCount)
            filledAt[slot] = time
            if slotLargest.isFinite { spread.push(slotLargest) }
        }
        slot = next
        slotSum = 0
        slotCount = 0
        slotDeviated = false
        // The last normal level of this slot, from one to three days ago (older, or none after a gap:
        // silent; so a lasting change is accepted after three days).
        // The lowest and highest of this slot and two on either side, so a change that comes a little
        // earlier or later than yesterday (a pump, the working day) is not news.
        yesterday = .infinity
        yesterdayHigh = -.infinity
        for offset in -2...2 {
            let k = (next + offset + slots) % slots
            // A slot already refilled today (the ones just before this) offers the value it had before.
            let today = time - filledAt[k] <= 0.5 * 86_400
            let age = time - (today ? earlierAt[k] : filledAt[k])
            guard age > 0.5 * 86_400 && age < 3.5 * 86_400 else { continue }
            let m = today ? earlierMeans[k] : means[k]
            yesterday = min(yesterday, m)
            yesterdayHigh = max(yesterdayHigh, m)
        }
        if !yesterday.isFinite { yesterday = .nan }
        var lo = Double.infinity, hi = -Double.infinity
        for m in means where m.isFinite { lo = min(lo, m); hi = max(hi, m) }
        range = hi >= lo ? hi - lo : .nan
        lastDifference = .nan
        slotLargest = .nan
    }

    /// What a restart keeps: one Double per slot and day kept, the learned spread, the resolution.
    var snapshot: DayOverDaySnapshot {
        DayOverDaySnapshot(means: means, filledAt: filledAt, earlierMeans: earlierMeans, earlierAt: earlierAt,
                           spread: spread.values, resolution: resolution.isFinite ? resolution : nil)
    }

    /// Takes back what `snapshot` saved, after the recent readings have been replayed (they rebuild
    /// the smoothing and noise windows); a snapshot with another slot count is ignored. The reference
    /// for the slot under way is picked again from the restored levels at `now`.
    mutating func restore(_ s: DayOverDaySnapshot, now: Double) {
        guard s.means.count == slots, s.filledAt.count == slots, s.earlierMeans.count == slots, s.earlierAt.count == slots else { return }
        means = s.means
        filledAt = s.filledAt
        earlierMeans = s.earlierMeans
        earlierAt = s.earlierAt
        spread.removeAll()
        for v in s.spread.suffix(spread.capacity) { spread.push(v) }
        if let r = s.resolution { resolution = min(resolution, r) }
        let current = slot
        let (sum, count) = (slotSum, slotCount)
        if current >= 0 {
            // Re-pick yesterday's reference for the open slot without storing it.
            slot = -1
            closeSlot(next: current, time: now)
            slotSum = sum
            slotCount = count
        }
    }

    /// After a gap: the smoothing window restarts (what was learned is kept).
    mutating func restartShortTerm() {
        recent.removeAll()
        previous = .nan
    }
}

/// What `DayOverDay` keeps across a restart (`ChannelDetectorSnapshot.dayOverDay`).
public struct DayOverDaySnapshot: Sendable, Codable, Hashable {
    var means: [Double]
    var filledAt: [Double]
    var earlierMeans: [Double]
    var earlierAt: [Double]
    var spread: [Double]
    var resolution: Double?
}

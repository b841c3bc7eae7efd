/// When a cold room defrosts, from the best source available, and whether the current reading belongs
/// to a warm excursion that a defrost explains.
///
/// Sources, best first:
/// 1. the controller's status (`noteStatus`, from a `role: defrost` channel): authoritative while fresh
///    (a status at most 30 min old); tolerated while it says "defrost" and `margin` after;
/// 2. a declared schedule (`every` + `duration`, `phase` or `clockTimes`);
/// 3. a learned schedule: warm excursions (readings above the room's floor by `threshold`) that end by
///    themselves within 6–100 minutes are remembered (the last 24, with their duration and peak); when the newest `lockCycles` + 1
///    cycles of one period between 3.5 h and 26 h (controllers defrost 2–6 times a day) have at least `lockCycles` of them (3 when the period
///    matches the previous lock: a re-lock) that look alike (duration and peak within 0.7–1.4 × their
///    median: a defrost repeats itself, door openings do not), the schedule locks on that period, the fitted phase of the
///    newest, and the longest of their durations. Among periods that qualify, one must also predict the
///    biggest recurring excursions (the defrosts), not the many small door bursts between them. Every
///    new excursion refits, so the phase keeps re-locking (a set-point change moves the floor, not the
///    excursions); a lock whose newest match is more than 2.5 periods
///    old (defrosts stopped, a clock step, a new controller program) is dropped.
///
/// An excursion that starts inside an expected defrost (from 1 tolerance before the predicted start
/// to the longest duration after it) is tolerated until predicted start + longest duration + margin;
/// one that starts outside is not tolerated at all (react fast); while nothing is known, every
/// excursion is tolerated conservatively for 1.5 × the longest excursion seen + 10 min (at least as
/// long as the heater of a 40-minute defrost may keep rising, 35 min: the excursions seen so far may
/// all be door bursts, and a real defrost must not be flagged mid-heater; `unknownAllowance` at most,
/// and before any was seen). A failure is still caught by `heaterOverrun` once it outlasts that heater.
/// Whatever the source (except the controller's status), an excursion that still makes new highs
/// later than a heater phase can last (`heaterOverrun`) is no longer tolerated: a heater's rise ends by
/// itself, a compressor failure — also one that began inside a defrost — keeps rising.
/// A lock on a multiple of the real period (defrosts at a half … a fifth of it that look like its own)
/// is refused, also when it is the lock in force; the lock in force re-qualifies with 3 cycles.
///
/// Costs: O(1) per reading; O(n²) with n ≤ 24 (about 50 µs, a third more with `unexplainedLarger`) when an excursion ends (a few times a day), no
/// allocation. Memory: five arrays of 24 Doubles allocated at init. The remembered excursions are persisted (`Snapshot`), so a
/// restart keeps a locked schedule.
struct DefrostSchedule: Sendable {
    typealias Settings = DefrostSettings
    static let capacity = 24
    static let minPeriod = 3.5 * 3600
    static let maxPeriod = 26.0 * 3600
    static let minExcursion = 6.0 * 60
    static let maxExcursion = 100.0 * 60
    static let statusFreshness = 1800.0

    struct Lock: Sendable, Hashable {
        var period: Double
        /// Start of the newest matched excursion (fitted).
        var phase: Double
        var longest: Double
        var tolerance: Double
        var newestMatch: Double
    }

    let settings: Settings
    let sampleInterval: Double

    // Controller status.
    private var statusTime = Double.nan
    private var statusActive = false
    private var statusEnd = Double.nan

    // The excursion under way.
    private(set) var inExcursion = false
    private(set) var excursionStart = Double.nan
    private var reference = Double.nan
    private var lastWarm = Double.nan
    private var allowedUntil = -Double.infinity

    // Learned: excursions in order of their starts (a ring).
    private var starts: [Double]
    private var durations: [Double]
    /// Peak rise above the floor of each excursion.
    private var peaks: [Double]
    private var peak = 0.0
    /// When the excursion under way last made a new high (by more than 0.15 × the threshold over
    /// `highMark`, the high that was new then: a slow, steady rise counts, noise on a plateau does not).
    private var peakTime = Double.nan
    private var highMark = 0.0
    /// Where a heater phase may have begun: the excursion's start, or where it ran into an expected defrost.
    private var riseStart = Double.nan
    /// The excursion under way kept rising past any heater phase (`heaterOverrun`): no defrost
    /// explains it any more, expected or not.
    private(set) var overran = false
    private var scratchDurations: [Double] = []
    private var scratchPeaks: [Double] = []
    private var next = 0
    private var count = 0
    private(set) var lock: Lock?
    /// The excursion threshold of the last reading (for `diagnostics`).
    private var lastThreshold = Double.nan
    private var previousPeriod = Double.nan
    /// While a restore replays old readings: they must not be learned a second time.
    var learningPaused = false

    init(settings: Settings, sampleInterval: Double) {
        self.settings = settings
        self.sampleInterval = sampleInterval
        starts = [Double](repeating: 0, count: Self.capacity)
        durations = [Double](repeating: 0, count: Self.capacity)
        peaks = [Double](repeating: 0, count: Self.capacity)
        scratchDurations.reserveCapacity(Self.capacity)
        scratchPeaks.reserveCapacity(Self.capacity)
    }

    /// A defrost status reading from the room's controller.
    mutating func noteStatus(active: Bool, time: Double) {
        if statusActive && !active { statusEnd = time }
        statusActive = active
        statusTime = time
    }

    private func statusFresh(_ time: Double) -> Bool {
        statusTime.isFinite && time - statusTime <= Self.statusFreshness && time >= statusTime - Self.statusFreshness
    }

    /// True when some source says when defrosts happen (then the room is judged on a short window).
    func isKnown(at time: Double) -> Bool {
        statusFresh(time) || settings.every != nil || settings.clockTimes != nil || lock != nil
    }

    /// Feeds a plausible reading with the room's floor and the rise that counts as an excursion;
    /// returns true when the reading belongs to a defrost (known, expected or, while nothing is
    /// known, plausible) and should be kept out of the room's level.
    mutating func update(time: Double, x: Double, floor: Double, threshold: Double) -> Bool {
        lastThreshold = threshold
        if let l = lock, time - l.newestMatch > 2.5 * l.period { dropLock() }
        if floor.isFinite {
            if !inExcursion {
                if x > floor + threshold {
                    inExcursion = true
                    excursionStart = time
                    reference = floor
                    lastWarm = time
                    peak = x - floor
                    peakTime = time
                    highMark = x - floor
                    riseStart = time
                    overran = false
                    allowedUntil = allowance(start: time)
                }
            } else if x > max(reference, floor) + 0.5 * threshold {
                lastWarm = time
                if x - reference > highMark + 0.15 * threshold { highMark = x - reference; peakTime = time }
                peak = max(peak, x - reference)
                if !overran && heaterOverrun() {
                    // Still warming after the longest heater phase: a defrost ends its own rise; a
                    // failure under way (also one that began inside a defrost) keeps rising.
                    overran = true
                    allowedUntil = -.infinity
                } else if !overran, time > allowedUntil, let until = expectedDefrost(at: time) {
                    // An excursion under way (a door, a slow drift) that runs into an expected defrost:
                    // from here on the defrost explains it.
                    allowedUntil = until
                    riseStart = time
                }
            } else if time - lastWarm >= max(180, 1.5 * sampleInterval) {
                // Back at the floor for long enough that a dip inside one defrost does not split it.
                endExcursion(duration: lastWarm - excursionStart + sampleInterval, time: time)
            }
        }
        if statusFresh(time) {
            return statusActive || (statusEnd.isFinite && time - statusEnd <= settings.margin && time >= statusEnd)
        }
        return inExcursion && time <= allowedUntil
    }

    /// After a gap or a clock going backwards: the excursion under way is forgotten (not learned).
    mutating func restartShortTerm() {
        inExcursion = false
        overran = false
        allowedUntil = -.infinity
    }

    // MARK: - Expected defrosts

    /// When a known schedule (declared or locked) has a defrost under way at `time`: until when it is
    /// tolerated. Nil otherwise (also while nothing is known).
    func expectedDefrost(at time: Double) -> Double? {
        guard settings.every != nil || settings.clockTimes != nil || lock != nil else { return nil }
        let until = allowance(start: time)
        return until > time ? until : nil
    }

    /// Until when an excursion starting at `s` is tolerated (−∞: not at all).
    func allowance(start s: Double) -> Double {
        let margin = settings.margin
        if let every = settings.every, every > 0 {
            let duration = settings.duration ?? 0
            let early = max(2 * sampleInterval, 300)
            let phase = settings.phase ?? 0
            let k = ((s + early - phase) / every).rounded(.down)
            let predicted = phase + k * every                       // the latest start at or before s + early
            return s <= predicted + duration + margin ? predicted + duration + margin : -.infinity
        }
        if let times = settings.clockTimes, !times.isEmpty {
            let duration = settings.duration ?? 0
            let early = max(2 * sampleInterval, 300)
            let day = (s / 86_400).rounded(.down) * 86_400
            for offset in [-86_400.0, 0, 86_400] {
                for t in times {
                    let predicted = day + offset + t
                    if s >= predicted - early && s <= predicted + duration + margin { return predicted + duration + margin }
                }
            }
            return -.infinity
        }
        if let l = lock {
            let k = ((s + l.tolerance - l.phase) / l.period).rounded(.down)
            let predicted = l.phase + k * l.period
            return s <= predicted + l.longest ? predicted + l.longest + margin + l.tolerance : -.infinity
        }
        guard settings.learn || settings.unknownAllowance > 0 else { return -.infinity }
        let longest = longestSeen
        let hold = longest > 0 ? min(settings.unknownAllowance, max(heaterBound(Self.assumedDefrost), 1.5 * longest + 600)) : settings.unknownAllowance
        return s + hold
    }

    /// True when the excursion under way made a new high later than a defrost's heater phase can
    /// last: 75 % of the longest defrost known (a heater runs for at most about 70 % of it, the rest
    /// is the pull-down), plus 5 minutes (2 readings at least) of slack. False while no duration is known.
    private func heaterOverrun() -> Bool {
        // Nothing known yet: the longest excursion seen, but at least a 40-minute defrost (the first
        // excursions remembered may be door openings).
        let longest = lock?.longest ?? settings.duration ?? max(longestSeen, Self.assumedDefrost)
        guard longest > 0, peakTime.isFinite else { return false }
        return peakTime - riseStart > heaterBound(longest)
    }

    /// The shortest defrost assumed while none is known (the first excursions remembered may be door
    /// openings): 40 minutes.
    static let assumedDefrost = 2400.0

    /// How long after its start a defrost of `longest` seconds may still make new highs: 75 % of it plus
    /// 5 minutes (2 readings at least) of slack.
    private func heaterBound(_ longest: Double) -> Double { 0.75 * longest + max(300, 2 * sampleInterval) }

    /// Longest self-ending excursion remembered.
    var longestSeen: Double {
        var m = 0.0
        for i in 0..<count { m = max(m, durations[i]) }
        return m
    }

    // MARK: - Learning

    private mutating func endExcursion(duration: Double, time: Double) {
        inExcursion = false
        overran = false
        allowedUntil = -.infinity
        guard settings.learn, !learningPaused, duration >= max(Self.minExcursion, 1.5 * sampleInterval), duration <= Self.maxExcursion else { return }
        record(start: excursionStart, duration: duration, peak: peak)
        refit(now: time)
    }

    private mutating func record(start: Double, duration: Double, peak: Double) {
        // Kept in order of their starts: the ring's oldest entry is overwritten.
        starts[next] = start
        durations[next] = duration
        peaks[next] = peak
        next = next + 1 == Self.capacity ? 0 : next + 1
        count = min(count + 1, Self.capacity)
    }

    /// The i-th remembered excursion, oldest first.
    private func excursion(_ i: Int) -> (start: Double, duration: Double, peak: Double) {
        let j = (next - count + i + Self.capacity) % Self.capacity
        return (starts[j], durations[j], peaks[j])
    }

    private mutating func dropLock() {
        if let l = lock { previousPeriod = l.period }
        lock = nil
    }

    /// Finds the period and phase of the remembered excursions (see the type's comment): every period
    /// that a pair of them suggests (their gap / 1…8) is tried with the newer one as the anchor; it
    /// qualifies when the newest cycles it predicts were nearly all seen (`lockCycles` of the last
    /// `lockCycles` + 1). Among qualifying ones the best explains most remembered excursions: matches
    /// minus missed cycles over everything remembered (a multiple of the true period matches only
    /// every other defrost; a fraction of it, or a period that doors happen to fit, misses many; one
    /// that leaves two or more longer, higher excursions off its grid — the defrosts, when it locked on
    /// doors — loses two points for each: `unexplainedLarger`), then the smallest residual.
    mutating func refit(now: Double) {
        guard count >= 3 else { return }
        var best: (score: Int, residual: Double, lock: Lock)?
        // A lock in force that turns out to be a multiple of the real period is let go (not kept as
        // the previous period either): nothing known is safer than defrosts expected at the wrong times.
        if let l = lock, isMultiple(period: l.period, anchor: l.phase, tolerance: l.tolerance) { lock = nil }
        // The lock in force competes too, one point ahead: a few doors that happen to fit a
        // neighbouring phase must not pull a good lock away.
        if let l = lock, let fit = evaluate(period: l.period, anchor: l.phase, now: now) {
            best = (fit.score + 1, fit.residual, fit.lock)
        }
        // Candidates are anchored on the four newest excursions (one of them may be a door opening that
        // merged with a defrost, or the door itself): anchoring on every one cost 4× more for nothing.
        for j in max(1, count - 4)..<count {
            let a = excursion(j)
            for i in 0..<j {
                let gap = a.start - excursion(i).start
                for k in 1...8 {
                    let period = gap / Double(k)
                    guard period >= Self.minPeriod && period <= Self.maxPeriod else { continue }
                    // Judged on the fitted grid, as the lock in force is: the anchor may be a door.
                    guard let fit = evaluate(period: period, anchor: a.start, now: now),
                          !isMultiple(period: fit.lock.period, anchor: fit.lock.phase, tolerance: fit.lock.tolerance) else { continue }
                    if let b = best, fit.score < b.score || (fit.score == b.score && fit.residual >= b.residual) { continue }
                    best = fit
                }
            }
        }
        if let b = best {
            lock = b.lock
        } else if var l = lock {
            // No fit qualifies (the newest excursion may have merged with a door opening): the lock
            // stands as long as excursions keep arriving on its grid; each one nudges its phase.
            let newest = excursion(count - 1)
            let r = (newest.start - l.phase) / l.period
            let off = (r - r.rounded()) * l.period
            if abs(off) <= l.tolerance {
                l.phase += r.rounded() * l.period + 0.5 * off
                l.newestMatch = newest.start
                lock = l
            } else if now - l.newestMatch > 2.5 * l.period {
                dropLock()
            }
        }
    }

    /// True when `period` looks like a multiple of the real one: remembered excursions that look like
    /// the ones on its grid (peak within 0.6–1.6 × their mean, duration 0.5–2 ×: a defrost that barely
    /// clears the excursion threshold is timed from a crossing that varies a lot; doors are short) also
    /// fall regularly between its cycles, at j/d of it for one divisor d of 2…5 — at least half of the
    /// in-between defrosts that divisor predicts over the grid's span (d − 1 per cycle for a prime d, 2 for
    /// d = 4), and 2. Counted per divisor: a few such points per cycle, each ± the tolerance, cover a
    /// good part of the cycle together, but one divisor's points do not. Half, because the in-between
    /// defrosts a fault hid or a door merged with are missing — precisely when a recent run of missed
    /// defrosts lets a multiple qualify before the real period does (then nothing locks until the
    /// real one qualifies again: no schedule is safer than defrosts expected at the wrong times).
    private func isMultiple(period: Double, anchor: Double, tolerance: Double) -> Bool {
        var onGrid = 0
        var between = (0, 0, 0, 0, 0, 0)                        // by divisor d (index d): 2, 3, 4, 5
        var first = Double.infinity                              // excursions before the grid's first match
        var meanDuration = 0.0, meanPeak = 0.0                   // belong to an older schedule: not counted
        for i in 0..<count {
            let e = excursion(i)
            let r = (e.start - anchor) / period
            guard abs(r - r.rounded()) * period <= tolerance else { continue }
            first = min(first, e.start)
            onGrid += 1
            meanDuration += e.duration
            meanPeak += e.peak
        }
        guard onGrid > 0 else { return false }
        meanDuration /= Double(onGrid)
        meanPeak /= Double(onGrid)
        for i in 0..<count where excursion(i).start >= first {
            let e = excursion(i)
            let r = (e.start - anchor) / period
            guard abs(r - r.rounded()) * period > tolerance,
                  e.duration >= 0.5 * meanDuration, e.duration <= 2 * meanDuration,
                  e.peak >= 0.6 * meanPeak, e.peak <= 1.6 * meanPeak else { continue }
            for d in 2...5 {
                let rd = r * Double(d)
                guard abs(rd - rd.rounded()) * period / Double(d) <= tolerance else { continue }
                switch d {
                case 2: between.2 += 1
                case 3: between.3 += 1
                case 4: between.4 += 1
                default: between.5 += 1
                }
                break
            }
        }
        let gaps = Double(max(1, onGrid - 1))
        func many(_ n: Int, perCycle: Double) -> Bool { Double(n) >= max(2, 0.5 * perCycle * gaps) }
        return many(between.2, perCycle: 1) || many(between.3, perCycle: 2) || many(between.4, perCycle: 2)
            || many(between.5, perCycle: 4)
    }

    private mutating func evaluate(period: Double, anchor: Double, now: Double) -> (score: Int, residual: Double, lock: Lock)? {
        let tolerance = max(2 * sampleInterval + 120, 480, 0.02 * period)
        // The lock in force, or the one dropped last, needs one cycle fewer: a defrost hidden by a
        // fault (a stuck sensor, a door left open) must not hand the lock to a multiple of its period.
        let relock = (previousPeriod.isFinite && abs(previousPeriod - period) <= tolerance)
            || (lock.map { abs($0.period - period) <= tolerance } ?? false)
        let needed = relock ? 3 : settings.lockCycles
        // Cycles are numbered from the anchor (0); the newest cycle that should have been seen by now
        // and the `needed` before it must nearly all have an excursion.
        let newestCycle = Int(((now - anchor) / period).rounded(.down))
        let oldestCycle = newestCycle - needed
        var matched = 0
        var lastK = Int.min
        // Over everything remembered: cycles with an excursion, and the span of cycles they cover.
        var allMatched = 0
        var allLastK = Int.min
        var kMin = Int.max
        // Least squares of start against cycle number over the recent cycles, and their longest duration.
        var n = 0.0, sk = 0.0, ss = 0.0, skk = 0.0, sks = 0.0
        var longest = 0.0
        var newest = -Double.infinity
        var residual = 0.0
        // The recent matches' durations and peaks: a defrost repeats itself, doors do not (kept in
        // scratch arrays allocated at init, so a refit allocates nothing).
        scratchDurations.removeAll(keepingCapacity: true)
        scratchPeaks.removeAll(keepingCapacity: true)
        for i in 0..<count {
            let e = excursion(i)
            let r = (e.start - anchor) / period
            let k = r.rounded()
            let ki = Int(k)
            let off = (r - k) * period
            guard abs(off) <= tolerance else { continue }
            if ki != allLastK { allMatched += 1 }
            allLastK = ki
            kMin = min(kMin, ki)
            guard ki >= oldestCycle, ki <= newestCycle else { continue }
            scratchDurations.append(e.duration)
            scratchPeaks.append(e.peak)
            if ki != lastK { matched += 1 }                          // starts are in order: equal k are adjacent
            lastK = ki
            n += 1; sk += k; ss += e.start; skk += k * k; sks += k * e.start
            longest = max(longest, e.duration)
            newest = max(newest, e.start)
            residual += off * off
        }
        guard matched >= needed, now - newest <= 2.5 * period,
              Self.alike(&scratchDurations, needed), Self.alike(&scratchPeaks, needed) else { return nil }
        let denominator = n * skk - sk * sk
        var fitted = period
        var phase = newest
        if denominator > 0 {
            fitted = (n * sks - sk * ss) / denominator
            let intercept = (ss - fitted * sk) / n
            phase = intercept + fitted * Double(lastK)
        }
        guard fitted >= Self.minPeriod && abs(fitted - period) <= tolerance else { return nil }
        let bigger = unexplainedLarger(period: period, anchor: anchor, tolerance: tolerance, since: kMin)
        let score = allMatched - ((allLastK - kMin + 1) - allMatched) - (bigger >= 2 ? 2 * bigger : 0)
        guard score >= needed else { return nil }
        return (score, residual / n, Lock(period: fitted, phase: phase, longest: longest, tolerance: tolerance, newestMatch: newest))
    }

    /// How many remembered excursions since cycle `since` of the grid fall off it although they are
    /// longer and higher than the ones it matches (at least their median duration, more than 1.4 × their
    /// median peak; `scratchDurations` and `scratchPeaks` hold the matches, sorted by `alike`). A lock
    /// must predict the biggest recurring excursions — the defrosts —, not the many small door bursts
    /// between them: two or more of these cost a candidate two points each.
    private func unexplainedLarger(period: Double, anchor: Double, tolerance: Double, since: Int) -> Int {
        guard !scratchDurations.isEmpty, !scratchPeaks.isEmpty else { return 0 }
        let duration = scratchDurations[scratchDurations.count / 2]
        let peak = scratchPeaks[scratchPeaks.count / 2]
        var n = 0
        for i in 0..<count {
            let e = excursion(i)
            let r = (e.start - anchor) / period
            guard r.rounded() >= Double(since), abs(r - r.rounded()) * period > tolerance,
                  e.duration >= duration, e.peak > 1.4 * peak else { continue }
            n += 1
        }
        return n
    }

    /// True when at least `needed` of `values` lie within 0.7…1.4 × their median.
    private static func alike(_ values: inout [Double], _ needed: Int) -> Bool {
        guard !values.isEmpty else { return false }
        values.sort()
        let median = values[values.count / 2]
        var n = 0
        for v in values where v >= 0.7 * median && v <= 1.4 * median { n += 1 }
        return n >= needed
    }

    // MARK: - Diagnostics

    /// The schedule's state in words, relative to `time` (minutes), for tuning (`sweep --explain`).
    /// Builds a string: not for the per-reading path.
    func diagnostics(at time: Double) -> String {
        func m(_ s: Double) -> String { s.isFinite ? String(Int((s / 60).rounded())) : "-" }
        var out = "threshold \(lastThreshold.isFinite ? String(Int((lastThreshold * 100).rounded())) : "-") c°C, remembered \(count), longest seen \(m(longestSeen)) m"
        if let l = lock {
            let r = (time - l.phase) / l.period
            out += "; LOCK every \(m(l.period)) m longest \(m(l.longest)) m tol \(m(l.tolerance)) m, \(m((r - r.rounded(.down)) * l.period)) m into its cycle"
        } else {
            out += "; no lock"
        }
        if inExcursion {
            out += "; excursion since \(m(time - excursionStart)) m, peak \(String(Int((peak * 10).rounded()))) d°C, allowed \(allowedUntil.isFinite ? m(allowedUntil - time) + " m more" : "no")\(overran ? ", overran" : "")"
        }
        return out
    }

    // MARK: - Persistence

    var snapshot: DefrostScheduleSnapshot {
        DefrostScheduleSnapshot(
            starts: (0..<count).map { excursion($0).start }, durations: (0..<count).map { excursion($0).duration },
            peaks: (0..<count).map { excursion($0).peak },
            previousPeriod: previousPeriod.isFinite ? previousPeriod : nil)
    }

    /// Replaces the learned excursions by the snapshot's and refits.
    mutating func restore(_ s: DefrostScheduleSnapshot, now: Double) {
        count = 0
        next = 0
        lock = nil
        for i in s.starts.indices.suffix(Self.capacity) where i < s.durations.count && i < s.peaks.count {
            guard s.starts[i].isFinite, s.durations[i].isFinite, s.peaks[i].isFinite else { continue }
            record(start: s.starts[i], duration: s.durations[i], peak: s.peaks[i])
        }
        previousPeriod = s.previousPeriod ?? .nan
        if now.isFinite { refit(now: now) }
    }
}

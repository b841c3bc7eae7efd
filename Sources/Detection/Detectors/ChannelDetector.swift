/// The anomaly detector of one channel: validity checks (missing, sentinel, out of range), spikes,
/// level deviation from a learned baseline, drift, and a stuck sensor, combined into one score in
/// [0, 1] (the strongest detector wins) and passed through a `HysteresisGate`, so that one episode is
/// one raise and one clear.
///
/// Costs per reading: O(log level window) for the recent window's sorted order (a binary search and a
/// shift of ≈ window / 3 values, see `SortedRing`), O(1) for everything else, plus an O(window)
/// refresh of the long window's median and MAD at most every window / 2 readings and only when a
/// detector asks for them (spike candidates, noise-relative levels, drift thresholds relative to the
/// level; see `RobustRingCore`). It allocates nothing in steady state, except the strings of an
/// `AlertEvent` on the sample that raises or clears. Memory: one buffer of
/// 8 × (2 × window + 2 × level samples + drift span + spike count + 2 × daily slots + sentinels) bytes (≈ 4.6 KB for a
/// cold room at window 256) plus ≈ 1 KB inline. Copies share the buffer until one of them is
/// updated; mutate the detector in place (`detectors[i].update(...)`).
public struct ChannelDetector: Sendable {
    public let channel: String
    /// The settings this detector was made with (kept behind one reference: the per-reading path reads
    /// `hot` instead, and a smaller detector touches fewer cache lines per reading).
    public var config: DetectorConfig { configBox.value }
    private let configBox: ConfigBox

    private final class ConfigBox: Sendable {
        let value: DetectorConfig
        init(_ value: DetectorConfig) { self.value = value }
    }

    /// The settings the per-reading path needs, unpacked from `config` once (no optionals to open,
    /// nothing to copy on the hot path).
    private let hot: Hot
    /// All windows in one allocation: long ring + scratch, recent ring + sorted, spike times, drift
    /// changes, sentinels (offsets in `hot`).
    private var buffer: DoubleBuffer
    private var long: RobustRingCore
    private var recent: SortedRing
    private let levelSamples: Int
    /// Median and level quantiles of a full recent window, positions computed at init.
    private let levelPositions: (SortedWindow.Position, SortedWindow.Position, SortedWindow.Position)
    /// The level quantile is the median (rises and falls compare the centre itself).
    private let levelIsMedian: Bool
    private var gate: HysteresisGate
    private var episodeKind: AlertKind?
    private var raisedAt = Double.nan

    // Baseline (level detector).
    private var baseline = Double.nan
    private var baselineSince = Double.nan
    private var baselineCount = 0

    // Short-term state, reset after a gap.
    private var prev1 = Double.nan
    private var prev2 = Double.nan
    private var lastTime = Double.nan
    private var missingSince = Double.nan
    private var stuckRef = Double.nan
    private var stuckStart = Double.nan
    private var zeroDiffShare = 0.0
    private var spikeNext = 0
    /// Until when a remembered spike still counts (the newest spike time + memory): after it, none does.
    private var spikeUntil = -Double.infinity

    // Drift: ring of sample-to-sample changes with steps zeroed, and running sums.
    private let diffCapacity: Int
    private var diffNext = 0
    private var diffCount = 0
    private var fastSum = 0.0
    private var slowSum = 0.0
    private let fastSamples: Int
    private var sinceResum = 0

    // Daily pattern (level detector): offsets per time-of-day slot and seconds learned per slot live in
    // the buffer; this is when learning started.
    private var dailySince = Double.nan
    /// The slot of the last reading and the times it spans, so a reading in the same slot needs no arithmetic.
    private var dailySlotIndex = 0
    /// The slot's learned offset, and the lowest and highest of it and its neighbours (the offsets
    /// only change when a slot ends, see `foldDaily`).
    private var dailySlotOffset = 0.0
    private var dailySlotLow = 0.0
    private var dailySlotHigh = 0.0
    /// Learning gathered in the current slot, folded into it when the slot ends (or into a snapshot):
    /// seconds of data, their weights (slowed while deviating), and the weighted sum of offsets.
    private var dailyPendingSeconds = 0.0
    private var dailyPendingWeight = 0.0
    private var dailyPendingSum = 0.0
    private var dailySlotStart = Double.infinity
    private var dailySlotEnd = -Double.infinity

    // Last component values, for reasons and messages.
    private var lastLevelUp = 0.0
    private var lastLevelDown = 0.0
    private var lastLevelValue = Double.nan
    private var lastExpected = Double.nan

    private struct Hot: Sendable {
        var validMin = -Double.infinity
        var validMax = Double.infinity
        var sentinelTolerance = 0.0
        /// Sentinels inside the valid range come first in the buffer: only they can match a valid-looking value.
        var inRangeSentinels = 0
        /// The first four of those, here as well (+∞ for none): every valid reading is checked against them.
        var nearSentinels = (Double.infinity, Double.infinity, Double.infinity, Double.infinity)
        var sentinels = 0
        var noDataAfter = 0.0
        var maxGap = 0.0

        var spikeOn = false
        var spikeMinJump = 0.0
        var spikeSigmas = 0.0
        var spikeMemory = 0.0
        var spikeCount = 1

        var stuckOn = false
        var stuckDuration = 0.0
        var stuckTolerance = 0.0
        var stuckQuantizedFactor = 1.0

        var levelOn = false
        var levelLow = 0.0
        var levelHigh = 0.0
        var levelSigmaLow = 0.0
        var levelSigmaHigh = 0.0
        var levelRises = false
        var levelFalls = false
        /// 1 / the baseline's time constant.
        var levelRate = 1.0
        var levelWarmup = 0.0
        var dailyOn = false
        var dailyBins = 1
        /// Slots per second (1 / slot length), so the slot is a multiplication, not a division.
        var dailySlotsPerSecond = 1 / 86_400.0
        var dailyWarmup = 0.0
        /// Seconds of learning per slot after which a slot's value is an exponential average.
        var dailyMemory = 1.0
        var dailyOffset = 0

        var driftOn = false
        var drift = DriftSettings(step: 0, fastSpan: 0, fastLow: 0, fastHigh: 0, slowSpan: 0, slowLow: 0, slowHigh: 0)

        var spikeOffset = 0
        var diffOffset = 0
        var sentinelOffset = 0
    }

    public init(channel: String = "", config: DetectorConfig) {
        self.channel = channel
        configBox = ConfigBox(config)
        var h = Hot()
        h.validMin = config.validMin ?? -.infinity
        h.validMax = config.validMax ?? .infinity
        h.sentinelTolerance = config.sentinelTolerance
        h.noDataAfter = config.noDataAfter
        h.maxGap = config.maxGap

        let longCapacity = max(3, config.window)
        let ls = config.level.map { config.samples(for: $0.window) } ?? 1
        levelSamples = ls
        let lq = config.level?.quantile ?? 0.5
        levelIsMedian = lq == 0.5
        levelPositions = (
            SortedWindow.Position(0.5, count: ls), SortedWindow.Position(lq, count: ls),
            SortedWindow.Position(1 - lq, count: ls))
        if let s = config.spike {
            h.spikeOn = true
            h.spikeMinJump = s.minJump
            h.spikeSigmas = s.sigmas
            h.spikeMemory = s.memory
            h.spikeCount = max(1, s.count)
        }
        if let st = config.stuck {
            h.stuckOn = true
            h.stuckDuration = st.duration
            h.stuckTolerance = st.tolerance
            h.stuckQuantizedFactor = st.quantizedFactor
        }
        if let l = config.level {
            h.levelOn = true
            h.levelLow = l.low
            h.levelHigh = l.high
            h.levelSigmaLow = l.sigmaLow
            h.levelSigmaHigh = l.sigmaHigh
            h.levelRises = l.rises
            h.levelFalls = l.falls
            h.levelRate = 1 / max(l.baselineTimeConstant, 1e-9)
            h.levelWarmup = l.warmup
            if l.daily {
                h.dailyOn = true
                h.dailyBins = max(1, min(1440, l.dailyBins))
                h.dailySlotsPerSecond = Double(h.dailyBins) / 86_400
                h.dailyWarmup = l.dailyWarmupDays * 86_400
                h.dailyMemory = l.dailyMemoryDays * 86_400 / Double(h.dailyBins)
            }
        }
        if let d = config.drift {
            h.driftOn = true
            h.drift = d
            let slow = config.samples(for: d.slowSpan)
            diffCapacity = slow
            fastSamples = min(slow, config.samples(for: d.fastSpan))
        } else {
            diffCapacity = 0
            fastSamples = 0
        }
        let tol = config.sentinelTolerance
        let inRange = config.sentinels.filter { $0 >= h.validMin - tol && $0 <= h.validMax + tol }
        let outOfRange = config.sentinels.filter { !($0 >= h.validMin - tol && $0 <= h.validMax + tol) }
        h.inRangeSentinels = inRange.count
        let near = inRange.prefix(4) + Array(repeating: Double.infinity, count: max(0, 4 - inRange.count))
        h.nearSentinels = (near[0], near[1], near[2], near[3])
        h.sentinels = config.sentinels.count

        // Layout of the one buffer.
        let longOffset = 0
        let recentOffset = longOffset + RobustRingCore.doubles(capacity: longCapacity)
        h.spikeOffset = recentOffset + (h.levelOn ? SortedRing.doubles(capacity: ls) : 0)
        h.diffOffset = h.spikeOffset + h.spikeCount
        h.dailyOffset = h.diffOffset + diffCapacity
        h.sentinelOffset = h.dailyOffset + (h.dailyOn ? 2 * h.dailyBins : 0)
        let total = h.sentinelOffset + h.sentinels
        buffer = DoubleBuffer(count: total)
        long = RobustRingCore(capacity: longCapacity, offset: longOffset)
        recent = SortedRing(capacity: ls, offset: recentOffset)
        for (i, s) in (inRange + outOfRange).enumerated() { buffer.base[h.sentinelOffset + i] = s }
        for i in 0..<h.spikeCount { buffer.base[h.spikeOffset + i] = -.infinity }
        hot = h
        gate = HysteresisGate(
            raiseLevel: config.raiseLevel, clearLevel: config.clearLevel,
            raiseAfter: config.raiseAfter, clearAfter: config.clearAfter)
    }

    /// True while an alert episode is open.
    public var isAlerting: Bool { gate.active }

    /// True once the level detector has a baseline (after its warm-up).
    public var hasBaseline: Bool {
        guard let l = config.level, baseline.isFinite else { return false }
        return lastTime - baselineSince >= l.warmup
    }

    /// The buffer, made unique first (a copy of this detector may share it). Call before writing.
    @inline(__always)
    private mutating func writableBase() -> UnsafeMutablePointer<Double> {
        if !isKnownUniquelyReferenced(&buffer) { buffer = buffer.copy() }
        return buffer.base
    }

    /// Feeds one reading. `value` nil means the read failed. `time` is seconds since the epoch and
    /// should not go backwards; if it does, the short-term state restarts (no crash, no alert).
    public mutating func update(time: Double, value: Double?) -> DetectorOutput {
        if let x = value, x.isFinite, x >= hot.validMin, x <= hot.validMax,
           !(hot.inRangeSentinels > 0 && matchesInRangeSentinel(x)) {
            return updateValid(time: time, x: x)
        }
        return updateInvalid(time: time, value: value)
    }

    /// A plausible reading (finite, in range, not a sentinel): every detector looks at it. Almost
    /// every reading comes here, so `update` only sorts and this does the work in one function.
    @inline(__always)
    private mutating func updateValid(time: Double, x: Double) -> DetectorOutput {
        missingSince = .nan
        var best = Strongest()
        let base = writableBase()
        if lastTime.isFinite && (time - lastTime > hot.maxGap || time < lastTime) {
            restartShortTerm(base)
        }
        scoreValid(time: time, x: x, best: &best, base)
        lastTime = time
        return finish(time: time, value: x, best: best)
    }

    /// A missing, impossible or sentinel reading: only the validity detectors score it, and the
    /// windows are left alone.
    @inline(never)
    private mutating func updateInvalid(time: Double, value: Double?) -> DetectorOutput {
        var best = Strongest()
        if let x = value, x.isFinite {
            missingSince = .nan
            if x >= hot.validMin && x <= hot.validMax {
                best.offer(1, .sentinel)                               // in range, so an in-range sentinel
            } else {
                best.offer(1, matchesSentinel(x, count: hot.sentinels) ? .sentinel : .outOfRange)
            }
        } else {
            if missingSince.isNaN { missingSince = time }
            let elapsed = time - missingSince
            if hot.noDataAfter <= 0 || elapsed >= hot.noDataAfter {
                best.offer(1, .noData)
            } else {
                best.offer(0.5 * elapsed / hot.noDataAfter, .noData)
            }
        }
        return finish(time: time, value: value, best: best)
    }

    /// The combined score through the alert gate.
    @inline(__always)
    private mutating func finish(time: Double, value: Double?, best: Strongest) -> DetectorOutput {
        let score = min(1, max(0, best.score))
        let kind = best.kind
        let transition = gate.update(time: time, score: score)
        if transition == .none {
            // Almost every sample: no event, so no optional AlertEvent to build, copy or destroy.
            return DetectorOutput(score: score, alert: gate.active, kind: score > 0 ? kind : nil, event: nil)
        }
        return transitionOutput(transition, kind: kind, time: time, value: value, score: score)
    }

    /// The output of a sample that raises or clears an episode (kept out of line: rare, and it
    /// builds an `AlertEvent`).
    @inline(never)
    private mutating func transitionOutput(
        _ transition: HysteresisGate.Transition, kind: AlertKind?, time: Double, value: Double?, score: Double
    ) -> DetectorOutput {
        var event: AlertEvent? = nil
        switch transition {
        case .none:
            break
        case .raised:
            let k = kind ?? .deviation
            episodeKind = k
            raisedAt = time
            event = makeRaise(kind: k, time: time, value: value, score: score)
        case .cleared:
            let k = episodeKind ?? .deviation
            event = makeClear(kind: k, time: time, value: value, score: score)
            episodeKind = nil
            raisedAt = .nan
        }
        return DetectorOutput(score: score, alert: gate.active, kind: score > 0 ? kind : nil, event: event)
    }

    // MARK: - Persistence

    /// The state worth persisting. O(window); allocates the sample array.
    public func snapshot() -> ChannelDetectorSnapshot {
        ChannelDetectorSnapshot(
            samples: long.values(buffer.base),
            lastTime: lastTime.isFinite ? lastTime : nil,
            baseline: baseline.isFinite ? baseline : nil,
            baselineSince: baselineSince.isFinite ? baselineSince : nil,
            baselineCount: baselineCount,
            zeroDiffShare: zeroDiffShare,
            alertKind: gate.active ? episodeKind : nil,
            alertSince: gate.active ? raisedAt : nil,
            daily: hot.dailyOn && dailySince.isFinite ? dailySnapshot() : nil,
            dailySince: hot.dailyOn && dailySince.isFinite ? dailySince : nil)
    }

    /// The daily offsets and seconds learned, with the current slot's gathered learning folded in.
    private func dailySnapshot() -> [Double] {
        var daily = Array(UnsafeBufferPointer(start: buffer.base + hot.dailyOffset, count: 2 * hot.dailyBins))
        daily.withUnsafeMutableBufferPointer { foldDaily(into: $0.baseAddress!, slot: dailySlotIndex) }
        return daily
    }

    /// Creates a detector and restores `snapshot` into it (see `restore(_:)`).
    public init(channel: String = "", config: DetectorConfig, restoring snapshot: ChannelDetectorSnapshot) {
        self.init(channel: channel, config: config)
        restore(snapshot)
    }

    /// Restores a snapshot taken by `snapshot()`, also from a detector with a different window size
    /// (the newest samples are kept). Returns false, leaving the detector fresh, for an unknown version.
    /// The recent-level window and the drift sums are rebuilt from the newest samples, as if they had
    /// arrived `config.sampleInterval` apart; a gap longer than `config.maxGap` until the next reading
    /// restarts them anyway. O(window × level window); call once at start-up.
    @discardableResult
    public mutating func restore(_ snapshot: ChannelDetectorSnapshot) -> Bool {
        guard snapshot.version == ChannelDetectorSnapshot.currentVersion else { return false }
        self = ChannelDetector(channel: channel, config: config)
        let base = buffer.base                                           // fresh, so unique
        let valid = snapshot.samples.filter { $0.isFinite }
        for x in valid.suffix(long.capacity) { long.push(x, base) }
        if hot.levelOn {
            for x in valid.suffix(levelSamples) { recent.push(x, base) }
        }
        if hot.driftOn {
            var previous = Double.nan
            for x in valid.suffix(diffCapacity + 1) {
                if previous.isFinite {
                    let diff = x - previous
                    pushDiff(abs(diff) > hot.drift.step ? 0 : diff, base)
                }
                previous = x
            }
        }
        if let last = valid.last { prev1 = last }
        if valid.count >= 2 { prev2 = valid[valid.count - 2] }
        lastTime = snapshot.lastTime ?? .nan
        baseline = snapshot.baseline ?? .nan
        baselineSince = snapshot.baselineSince ?? .nan
        baselineCount = snapshot.baselineCount
        zeroDiffShare = snapshot.zeroDiffShare
        if hot.dailyOn, let daily = snapshot.daily, let since = snapshot.dailySince,
           daily.count == 2 * hot.dailyBins, daily.allSatisfy(\.isFinite) {
            // The same slots only: a pattern learned with another slot count would be misplaced.
            for (i, v) in daily.enumerated() { base[hot.dailyOffset + i] = v }
            dailySince = since
        }
        if let since = snapshot.alertSince {
            gate.restore(activeSince: since)
            episodeKind = snapshot.alertKind
            raisedAt = since
        }
        return true
    }

    // MARK: - Detectors on a valid reading

    @inline(__always)
    private mutating func scoreValid(time: Double, x: Double, best: inout Strongest, _ base: UnsafeMutablePointer<Double>) {
        long.push(x, base)
        if hot.levelOn { recent.push(x, base) }

        // Spike: the previous sample jumped away from both neighbours.
        if hot.spikeOn && prev1.isFinite && prev2.isFinite {
            let up1 = prev1 - prev2
            let up2 = prev1 - x
            if (up1 > 0) == (up2 > 0) {
                let jump = min(abs(up1), abs(up2))
                if jump > hot.spikeMinJump {
                    var isSpike = true
                    if hot.spikeSigmas > 0 && long.count >= 8 {
                        isSpike = jump > hot.spikeSigmas * 1.4826 * long.mad(base)
                    }
                    if isSpike {
                        base[hot.spikeOffset + spikeNext] = time
                        spikeNext = spikeNext + 1 == hot.spikeCount ? 0 : spikeNext + 1
                        spikeUntil = max(spikeUntil, time + hot.spikeMemory)
                    }
                }
            }
            if time <= spikeUntil {
                var n = 0
                let times = base + hot.spikeOffset
                for i in 0..<hot.spikeCount where time - times[i] <= hot.spikeMemory { n += 1 }
                if n > 0 { best.offer(min(1, Double(n) / Double(hot.spikeCount)), .spike) }
            }
        }

        // Stuck: no movement beyond the tolerance.
        if hot.stuckOn {
            let required = hot.stuckDuration * (zeroDiffShare > 0.3 ? hot.stuckQuantizedFactor : 1)
            var elapsed = 0.0
            if abs(x - stuckRef) <= hot.stuckTolerance {                // the run continues (never for a NaN reference)
                elapsed = time - stuckStart
                if required > 0 && elapsed > 0 {
                    best.offer(elapsed >= required ? 1 : 0.5 * elapsed / required, .stuck)
                }
            } else {
                stuckRef = x
                stuckStart = time
            }
            if prev1.isFinite && elapsed < 0.5 * required {
                let zero = abs(x - prev1) <= hot.stuckTolerance ? 1.0 : 0.0
                zeroDiffShare += (zero - zeroDiffShare) * 0.002          // a 500-sample average
            }
        }

        // Level: recent quantile against the learned baseline (plus the usual offset for this time of day).
        if hot.levelOn && recent.count * 2 >= levelSamples {
            let center = recent.quantile(at: levelPositions.0, base)
            if baseline.isNaN {
                baseline = center
                baselineSince = time
                baselineCount = 1
            }
            let trusted = time - baselineSince >= hot.levelWarmup
            // The daily pattern: this slot's offset, and the range of it and its neighbours.
            var dailyInUse = false
            var seasonal = 0.0
            var expectedHi = baseline
            var expectedLo = baseline
            if hot.dailyOn {
                if !(time >= dailySlotStart && time < dailySlotEnd) { newDailySlot(time, base) }
                if dailySince.isNaN { dailySince = time }
                dailyInUse = time - dailySince >= hot.dailyWarmup
                if dailyInUse {
                    seasonal = dailySlotOffset
                    expectedHi += dailySlotHigh
                    expectedLo += dailySlotLow
                }
            }
            var deviating = false
            if trusted {
                var lo = hot.levelLow
                var hi = hot.levelHigh
                if hot.levelSigmaLow > 0 || hot.levelSigmaHigh > 0 {
                    let sigma = 1.4826 * long.mad(base)
                    lo = max(lo, hot.levelSigmaLow * sigma)
                    hi = max(hi, hot.levelSigmaHigh * sigma, lo * 1.5)
                }
                let upLevel = levelIsMedian ? center : recent.quantile(at: levelPositions.1, base)
                let downLevel = levelIsMedian ? center : recent.quantile(at: levelPositions.2, base)
                let up = upLevel - expectedHi
                let down = expectedLo - downLevel
                lastLevelUp = up
                lastLevelDown = down
                if hot.levelRises && up > lo {
                    deviating = true
                    lastLevelValue = upLevel
                    lastExpected = expectedHi
                    best.offer(ramp(up, lo, hi), .deviation)
                }
                if hot.levelFalls && down > lo {
                    deviating = true
                    lastLevelValue = downLevel
                    lastExpected = expectedLo
                    best.offer(ramp(down, lo, hi), .deviation)
                }
                if !deviating && (up > lo || down > lo) { deviating = true }
            }
            // Learn: fast (averaging) during warm-up, then an exponential average with the time
            // constant; 20× slower while the level is off so an anomaly is not absorbed. With a daily
            // pattern in use, the baseline learns the level with the time of day's offset taken out.
            if !trusted {
                baselineCount += 1
                baseline += (center - baseline) / Double(baselineCount)
            } else if lastTime.isFinite && time > lastTime {
                let dt = time - lastTime
                var alpha = min(1, dt * hot.levelRate)
                if deviating { alpha *= 0.05 }
                baseline += alpha * (center - seasonal - baseline)
                if hot.dailyOn {
                    // Gathered here, folded into the slot when it ends (`foldDaily`): one division per slot.
                    let step = min(dt, hot.maxGap)
                    let weight = deviating && dailyInUse ? 0.05 * step : step
                    dailyPendingSeconds += step
                    dailyPendingWeight += weight
                    dailyPendingSum += weight * (center - baseline)
                }
            }
        }

        // Drift: net small-step change over the fast and slow spans.
        if hot.driftOn {
            let d = hot.drift
            if prev1.isFinite {
                var diff = x - prev1
                if abs(diff) > d.step { diff = 0 }
                pushDiff(diff, base)
            }
            let level = abs(long.median(base, maxAge: long.capacity / 2))
            let fLo = max(d.fastLow, d.fastLowFraction * level)
            let fHi = max(d.fastHigh, d.fastHighFraction * level, fLo * 1.2)
            let sLo = max(d.slowLow, d.slowLowFraction * level)
            let sHi = max(d.slowHigh, d.slowHighFraction * level, sLo * 1.2)
            best.offer(max(ramp(abs(fastSum), fLo, fHi), ramp(abs(slowSum), sLo, sHi)), .rate)
        }

        prev2 = prev1
        prev1 = x
    }

    /// The strongest detector so far for the current sample.
    private struct Strongest {
        var score = 0.0
        var kind: AlertKind? = nil
        @inline(__always) mutating func offer(_ s: Double, _ k: AlertKind) {
            if s > score { score = s; kind = k }
        }
    }

    private mutating func pushDiff(_ diff: Double, _ base: UnsafeMutablePointer<Double>) {
        let cap = diffCapacity
        guard cap > 0 else { return }
        let diffs = base + hot.diffOffset
        // Leaving the fast span: the diff `fastSamples` back (if present).
        if diffCount >= fastSamples {
            var i = diffNext - fastSamples                     // -cap < i < cap (fastSamples ≤ cap)
            if i < 0 { i += cap }
            fastSum -= diffs[i]
        }
        if diffCount == cap {
            slowSum -= diffs[diffNext]
        } else {
            diffCount += 1
        }
        diffs[diffNext] = diff
        diffNext = diffNext + 1 == cap ? 0 : diffNext + 1
        fastSum += diff
        slowSum += diff
        // Re-add from scratch once per ring turn so rounding errors cannot accumulate.
        sinceResum += 1
        if sinceResum >= cap {
            sinceResum = 0
            var f = 0.0
            var s = 0.0
            for k in 0..<diffCount {
                let v = diffs[(diffNext - 1 - k + cap) % cap]
                s += v
                if k < fastSamples { f += v }
            }
            fastSum = f
            slowSum = s
        }
    }

    /// Moves to the time-of-day slot (UTC) of `time`: folds the learning gathered in the previous
    /// slot into it, then remembers the new slot, the times it spans and its offsets. O(1).
    @inline(never)
    private mutating func newDailySlot(_ time: Double, _ base: UnsafeMutablePointer<Double>) {
        foldDaily(into: base + hot.dailyOffset, slot: dailySlotIndex)
        dailyPendingSeconds = 0
        dailyPendingWeight = 0
        dailyPendingSum = 0
        let dayStart = (time * (1 / 86_400)).rounded(.down) * 86_400
        let slotLength = 86_400 / Double(hot.dailyBins)
        let position = ((time - dayStart) * hot.dailySlotsPerSecond).rounded(.down)
        let slot = position.isFinite ? min(hot.dailyBins - 1, max(0, Int(position))) : 0
        dailySlotIndex = slot
        dailySlotStart = dayStart + Double(slot) * slotLength
        dailySlotEnd = slot == hot.dailyBins - 1 ? dayStart + 86_400 : dailySlotStart + slotLength
        let offsets = base + hot.dailyOffset
        let n = hot.dailyBins
        let before = offsets[slot == 0 ? n - 1 : slot - 1]
        let after = offsets[slot + 1 == n ? 0 : slot + 1]
        dailySlotOffset = offsets[slot]
        dailySlotLow = min(before, dailySlotOffset, after)
        dailySlotHigh = max(before, dailySlotOffset, after)
    }

    /// Folds the learning gathered in `slot` into its offset: the weighted mean of the offsets seen
    /// (level minus baseline) is averaged in as a running mean until the slot has `dailyMemoryDays` of
    /// learning, then as an exponential average; readings taken while the level was off (once the
    /// pattern is in use) count 20× less, so an anomaly is not learned as usual. `values` holds the
    /// offsets, then the seconds learned per slot.
    private func foldDaily(into values: UnsafeMutablePointer<Double>, slot: Int) {
        guard dailyPendingWeight > 0 else { return }
        let learned = values + hot.dailyBins
        let seconds = min(learned[slot] + dailyPendingSeconds, hot.dailyMemory)
        let rate = min(1, dailyPendingWeight / max(seconds, dailyPendingWeight))
        let mean = dailyPendingSum / dailyPendingWeight
        values[slot] += rate * (mean - values[slot])
        learned[slot] = seconds
    }

    private mutating func restartShortTerm(_ base: UnsafeMutablePointer<Double>) {
        prev1 = .nan
        prev2 = .nan
        stuckRef = .nan
        stuckStart = .nan
        for i in 0..<hot.spikeCount { base[hot.spikeOffset + i] = -.infinity }
        spikeUntil = -.infinity
        diffNext = 0
        diffCount = 0
        fastSum = 0
        slowSum = 0
        recent.removeAll()
    }

    /// True if x is within the tolerance of one of the first `count` sentinels (in-range ones first).
    private func matchesSentinel(_ x: Double, from first: Int = 0, count: Int) -> Bool {
        let s = buffer.base + hot.sentinelOffset
        for i in first..<count where abs(x - s[i]) <= hot.sentinelTolerance { return true }
        return false
    }

    /// True if x (finite) is a sentinel inside the valid range: four comparisons without a loop or a
    /// jump, then the rest of the list if there are more than four.
    @inline(__always)
    private func matchesInRangeSentinel(_ x: Double) -> Bool {
        let s = hot.nearSentinels
        let nearest = min(min(abs(x - s.0), abs(x - s.1)), min(abs(x - s.2), abs(x - s.3)))
        if nearest <= hot.sentinelTolerance { return true }
        return hot.inRangeSentinels > 4 && matchesSentinel(x, from: 4, count: hot.inRangeSentinels)
    }

    @inline(__always) private func ramp(_ v: Double, _ lo: Double, _ hi: Double) -> Double {
        if v <= lo { return 0 }
        if v >= hi { return 1 }
        return (v - lo) / (hi - lo)
    }

    // MARK: - Events

    private var name: String { channel.isEmpty ? "this sensor" : channel }

    /// A value with as many decimals as a reader needs, and the unit ("3.52 °C" is "3.52°C", "12.5 kg").
    private func text(_ x: Double, unit u: String) -> String {
        let decimals = abs(x) >= 100 ? 0 : (abs(x) >= 10 ? 1 : 2)
        let number = NumberText.fixed(x, decimals: decimals)
        return u.isEmpty ? number : number + u
    }

    /// The unit as written after a number: "%" and "°C" directly, others after a space.
    private var unitSuffix: String {
        let u = config.unit
        return u.isEmpty || u == "%" || u == "°C" ? u : " " + u
    }

    private func makeRaise(kind: AlertKind, time: Double, value: Double?, score: Double) -> AlertEvent {
        let severity = kind.isSensorFault ? config.faultSeverity : config.processSeverity
        let unit = unitSuffix
        func text(_ x: Double) -> String { self.text(x, unit: unit) }
        let v = value.map { text($0) } ?? "no reading"
        var reason = ""
        var message = ""
        switch kind {
        case .sentinel:
            reason = compose("value \(v) is a sentinel code")
            message = compose("\(name) sent its \"no reading\" code (\(v)). Check the probe and its cable.")
        case .outOfRange:
            let lo = config.validMin.map { text($0) } ?? "-∞"
            let hi = config.validMax.map { text($0) } ?? "∞"
            reason = compose("value \(v) outside valid range \(lo)…\(hi)")
            message = compose("\(name) reads \(v), which is impossible (valid \(lo) to \(hi)). Check the sensor, wiring and calibration.")
        case .noData:
            reason = compose("no readings for \(NumberText.duration(time - missingSince))")
            message = compose("No readings from \(name) for \(NumberText.duration(time - missingSince)). Check power and the RS-485 cable.")
        case .stuck:
            let d = NumberText.duration(time - stuckStart)
            reason = compose("value unchanged at \(v) for \(d)")
            message = compose("\(name) has shown exactly \(v) for \(d). A live sensor always moves a little: it may be frozen or disconnected.")
        case .spike:
            reason = compose("repeated implausible jumps (latest around \(v))")
            message = compose("\(name) is jumping erratically (readings like \(v) that come straight back). Check the connection and the probe.")
        case .deviation:
            let up = lastLevelUp >= lastLevelDown
            let usual = lastExpected.isFinite ? lastExpected : baseline
            let dev = up ? lastLevelUp : lastLevelDown
            let word: String
            switch config.kind {
            case .coldRoom: word = up ? "warmer" : "colder"
            case .soilMoisture: word = up ? "wetter" : "drier"
            default: word = up ? "higher" : "lower"
            }
            let levelText = text(lastLevelValue)
            let devText = text(dev)
            let usualText = text(usual)
            reason = compose("level \(levelText) is \(up ? "+" : "-")\(devText) from baseline \(usualText)")
            switch config.kind {
            case .coldRoom:
                let check = up ? "Check the door and the cooling unit." : "Check the thermostat: produce may freeze."
                message = compose("\(name) has been \(devText) \(word) than usual for a while (\(levelText), usually \(usualText)). \(check)")
            case .soilMoisture:
                let check = "Soil does not dry that fast: check that the probe is still in the ground."
                message = compose("\(name) suddenly reads \(devText) \(word) than before (\(levelText), was \(usualText)). \(check)")
            default:
                message = compose("\(name) is \(devText) \(word) than usual (\(levelText), usually \(usualText)).")
            }
        case .rate:
            let fast = abs(fastSum) >= abs(slowSum) * Double(fastSamples) / Double(max(1, diffCapacity)) * 4
            let sum = fast ? fastSum : slowSum
            let span = Double(fast ? min(fastSamples, diffCount) : diffCount) * config.sampleInterval
            reason = compose("changed \(sum >= 0 ? "+" : "")\(text(sum)) in \(NumberText.duration(span)) without a step")
            if config.kind == .weight {
                message = compose(sum < 0
                    ? "\(name) lost \(text(-sum)) in \(NumberText.duration(span)) without anyone unloading. Check for a leak, pests or theft."
                    : "\(name) is slowly gaining weight (\(text(sum)) in \(NumberText.duration(span))) with nothing loaded. The load cell may be creeping: recalibrate.")
            } else {
                message = compose("\(name) has \(sum < 0 ? "fallen" : "risen") steadily by \(text(abs(sum))) in \(NumberText.duration(span)).")
            }
        case .threshold, .spoilageBudget:
            reason = "rule"
            message = compose("\(name): rule triggered at \(v).")
        }
        return AlertEvent(
            phase: .raise, channel: channel, time: time, severity: severity, kind: kind,
            value: value, score: score, reason: reason, message: message)
    }

    private func makeClear(kind: AlertKind, time: Double, value: Double?, score: Double) -> AlertEvent {
        let severity = kind.isSensorFault ? config.faultSeverity : config.processSeverity
        let start = raisedAt.isFinite ? raisedAt : time
        let d = NumberText.duration(time - start)
        return AlertEvent(
            phase: .clear, channel: channel, time: time, severity: severity, kind: kind, value: value, score: score,
            reason: compose("score below \(NumberText.fixed(config.clearLevel, decimals: 2)) for \(NumberText.duration(config.clearAfter))"),
            message: compose("\(name) is back to normal (\(kind.words) lasted \(d))."),
            duration: time - start)
    }

}

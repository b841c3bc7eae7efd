/// The usual offset of a channel's level from its baseline for each time-of-day slot (UTC), for
/// quantities that follow the clock: lights, vents, pumps on a timer, day and night.
///
/// Promises: after `dailyWarmupDays` it lets `LevelDeviation` compare with baseline + this slot's
/// offset, allowing the range of it and its neighbouring slots (a schedule may run one slot early or
/// late); readings taken while the level is off learn 20× slower, so an anomaly is not learned as
/// usual. A cycle shorter than a slot is not learned (a slot's offset is its mean). Costs: O(1) per
/// reading — learning is summed per slot and folded in once when the slot ends, so the expected
/// level does not move within a slot; 2 × bins Doubles allocated at init. Persisted (with the open
/// slot's sums folded in) so a restart needs no three new days.
struct DailyPattern: Sendable {
    let bins: Int
    let warmup: Double
    /// Seconds of learning per slot after which a slot's value is an exponential average.
    let memory: Double
    private let slotsPerSecond: Double
    /// Offsets per slot, then seconds learned per slot.
    private(set) var values: [Double]
    private(set) var since = Double.nan
    private var slot = 0
    private var slotStart = Double.infinity
    private var slotEnd = -Double.infinity
    private(set) var slotOffset = 0.0
    private(set) var slotLow = 0.0
    private(set) var slotHigh = 0.0
    private var pendingSeconds = 0.0
    private var pendingWeight = 0.0
    private var pendingSum = 0.0

    init(settings: LevelSettings) {
        bins = max(1, min(1440, settings.dailyBins))
        slotsPerSecond = Double(bins) / 86_400
        warmup = settings.dailyWarmupDays * 86_400
        memory = settings.dailyMemoryDays * 86_400 / Double(bins)
        values = [Double](repeating: 0, count: 2 * bins)
    }

    /// Moves to `time`'s slot if needed; true once the pattern is in use (after its warm-up).
    mutating func advance(to time: Double) -> Bool {
        if !(time >= slotStart && time < slotEnd) { newSlot(time) }
        if since.isNaN { since = time }
        return time - since >= warmup
    }

    /// Gathers `step` seconds of the offset `offset` (level minus baseline) for the current slot.
    mutating func learn(offset: Double, step: Double, slowed: Bool) {
        let weight = slowed ? 0.05 * step : step
        pendingSeconds += step
        pendingWeight += weight
        pendingSum += weight * offset
    }

    /// The offsets with the open slot's learning folded in (for a snapshot).
    var folded: [Double] {
        var v = values
        Self.fold(into: &v, slot: slot, bins: bins, memory: memory, pending: (pendingSeconds, pendingWeight, pendingSum))
        return v
    }

    /// Restores learned offsets (same slot count only) and when learning started; anything else
    /// leaves the pattern fresh and returns false.
    mutating func restore(_ v: [Double], since: Double) -> Bool {
        reset()
        guard v.count == values.count, v.allSatisfy(\.isFinite), since.isFinite else { return false }
        values = v
        self.since = since
        return true
    }

    /// Forgets everything learned.
    mutating func reset() { self = DailyPattern(copying: self) }

    private init(copying other: DailyPattern) {
        bins = other.bins
        warmup = other.warmup
        memory = other.memory
        slotsPerSecond = other.slotsPerSecond
        values = [Double](repeating: 0, count: 2 * other.bins)
    }

    @inline(never)
    private mutating func newSlot(_ time: Double) {
        // Static, with the pending sums passed in: an instance method would need `self` while `values`
        // is being written, and Swift would copy the array to keep the two apart (one malloc per slot).
        Self.fold(into: &values, slot: slot, bins: bins, memory: memory, pending: (pendingSeconds, pendingWeight, pendingSum))
        pendingSeconds = 0
        pendingWeight = 0
        pendingSum = 0
        let dayStart = (time * (1 / 86_400)).rounded(.down) * 86_400
        let slotLength = 86_400 / Double(bins)
        let position = ((time - dayStart) * slotsPerSecond).rounded(.down)
        let s = position.isFinite ? min(bins - 1, max(0, Int(position))) : 0
        slot = s
        slotStart = dayStart + Double(s) * slotLength
        slotEnd = s == bins - 1 ? dayStart + 86_400 : slotStart + slotLength
        let before = values[s == 0 ? bins - 1 : s - 1]
        let after = values[s + 1 == bins ? 0 : s + 1]
        slotOffset = values[s]
        slotLow = min(before, slotOffset, after)
        slotHigh = max(before, slotOffset, after)
    }

    /// Folds the learning gathered in `slot` into its offset: a running mean until the slot has
    /// `memory` seconds of learning, then an exponential average.
    private static func fold(
        into v: inout [Double], slot: Int, bins: Int, memory: Double, pending: (seconds: Double, weight: Double, sum: Double)
    ) {
        guard pending.weight > 0 else { return }
        let seconds = min(v[bins + slot] + pending.seconds, memory)
        let rate = min(1, pending.weight / max(seconds, pending.weight))
        let mean = pending.sum / pending.weight
        v[slot] += rate * (mean - v[slot])
        v[bins + slot] = seconds
    }
}

/// The usual cold level of a room over the last two hours: the 20th percentile of the minima of
/// 2.5-minute slots (or one slot per reading when readings are sparser). Warm excursions are measured
/// from it, so it must not rise with them: a defrost of up to an hour moves it little, and a set-point
/// change is followed within about two hours.
///
/// Costs: O(1) per reading, O(log 48) when a slot ends; 96 Doubles allocated at init. Not persisted
/// (rebuilt from the snapshot's readings on restore).
struct FloorTracker: Sendable {
    let slotLength: Double
    private var slots: SortedWindow
    private var slotMin = Double.infinity
    private var slotEnd = -Double.infinity
    private(set) var floor = Double.nan

    init(sampleInterval: Double, span: Double = 7200) {
        slotLength = max(150, sampleInterval)
        slots = SortedWindow(capacity: max(4, Int((span / slotLength).rounded())))
    }

    mutating func update(time: Double, x: Double) {
        if time >= slotEnd {
            if slotMin.isFinite {
                slots.push(slotMin)
                floor = slots.quantile(0.2)
            }
            slotMin = .infinity
            slotEnd = time + slotLength
        }
        slotMin = min(slotMin, x)
        if floor.isNaN { floor = slotMin }
    }

    mutating func restartShortTerm() { slotEnd = -.infinity; slotMin = .infinity }
}

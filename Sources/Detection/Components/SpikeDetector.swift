/// The `spike` detector: a reading that jumps away from both neighbours and comes straight back.
///
/// Promises: one glitch never alerts on its own (the score is spikes remembered / `count`, so it
/// takes `count` spikes within `memory` seconds to reach 1); a jump counts only if it exceeds both
/// `minJump` and `sigmas` noise scales, so a noisy channel is not "spiky". The verdict on a reading
/// comes one reading later (it needs the neighbour after it). Costs: O(count) per reading while a
/// spike is remembered, O(1) otherwise; the spike times live in an array allocated at init.
struct SpikeDetector: Sendable {
    typealias Settings = SpikeSettings
    let settings: Settings
    private var previous = Double.nan
    private var beforePrevious = Double.nan
    private var times: [Double]
    private var next = 0
    /// Until when a remembered spike still counts (the newest spike + memory): after it, none does.
    private var until = -Double.infinity

    init(settings: Settings) {
        self.settings = settings
        times = [Double](repeating: -.infinity, count: max(1, settings.count))
    }

    /// Feeds a plausible reading; returns the score in [0, 1].
    mutating func update(time: Double, x: Double, noise: inout NoiseScale) -> Double {
        defer {
            beforePrevious = previous
            previous = x
        }
        guard previous.isFinite && beforePrevious.isFinite else { return 0 }
        let up1 = previous - beforePrevious
        let up2 = previous - x
        if (up1 > 0) == (up2 > 0) {
            let jump = min(abs(up1), abs(up2))
            if jump > settings.minJump && (settings.sigmas <= 0 || noise.count < 8 || jump > settings.sigmas * noise.sigma()) {
                times[next] = time
                next = next + 1 == times.count ? 0 : next + 1
                until = max(until, time + settings.memory)
            }
        }
        guard time <= until else { return 0 }
        var n = 0
        for t in times where time - t <= settings.memory { n += 1 }
        return min(1, Double(n) / Double(times.count))
    }

    /// After a gap: neighbours and remembered spikes are forgotten.
    mutating func restartShortTerm() {
        previous = .nan
        beforePrevious = .nan
        for i in times.indices { times[i] = -.infinity }
        until = -.infinity
    }
}

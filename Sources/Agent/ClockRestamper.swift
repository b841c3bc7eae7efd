public import EdgeCore

/// Honest time on a board without a real-time clock: a Pi boots at its last saved time (or 1970)
/// and polls until NTP sets the clock. Each poll carries its wall time and its boot time
/// (CLOCK_BOOTTIME, which no clock step moves), so the wall clock's offset from the boot clock is
/// known for every poll. When the first poll with a synchronised clock arrives, every poll of this
/// run taken before it is corrected by the step the clock took since: (offset now) − (offset then).
///
/// Spans of consecutive polls of one device with the same offset (within half a second) are kept,
/// not every poll: a clock stepped twice before it synchronised (a saved time at boot, then NTP)
/// gives two spans with their own shifts. Polls of an earlier run (the agent restarted, or the board
/// rebooted, before the clock was set) cannot be related to this boot's clock: they stay flagged
/// `clock_synced: false`, as do polls already delivered before the correction.
public struct ClockRestamper: Sendable {
    /// Consecutive polls of one device taken at one clock offset.
    public struct Span: Sendable, Equatable {
        public var device: String
        public var seqs: ClosedRange<UInt64>
        /// Wall time minus boot time for these polls.
        public var offset: Double
    }

    /// A correction to apply: add `shift` to the time of `device`'s polls numbered `seqs`.
    public struct Correction: Sendable, Equatable {
        public var device: String
        public var seqs: ClosedRange<UInt64>
        public var shift: Double
    }

    private var spans: [Span] = []
    /// Whether a synchronised poll has been seen: from then on nothing is kept.
    public private(set) var synchronised = false

    public init() {}

    /// Looks at one numbered poll. Returns the corrections due when this is the first poll with a
    /// synchronised clock after unsynchronised ones; nil otherwise.
    public mutating func observe(_ sample: DeviceSample, seq: UInt64) -> [Correction]? {
        guard !synchronised, sample.monotonic > 0 else { return nil }
        let offset = sample.time - sample.monotonic
        guard sample.clockSynced else {
            if let i = spans.lastIndex(where: { $0.device == sample.device }),
               spans[i].seqs.upperBound + 1 == seq, abs(spans[i].offset - offset) < 0.5 {
                spans[i].seqs = spans[i].seqs.lowerBound...seq
            } else {
                spans.append(Span(device: sample.device, seqs: seq...seq, offset: offset))
            }
            return nil
        }
        synchronised = true
        defer { spans.removeAll() }
        return spans.isEmpty ? nil : spans.map { Correction(device: $0.device, seqs: $0.seqs, shift: offset - $0.offset) }
    }
}

/// A fixed-capacity sliding window of the most recent values, kept both in arrival order (a ring)
/// and in sorted order, so that the median, any quantile and the MAD are cheap. The level detector's
/// recent window works like this (inside the detector's own buffer, see `SortedRing`).
///
/// Costs: `push` O(log capacity) for the search plus a shift of the values between the evicted value
/// and the new one (≈ capacity / 3 on average; a one-by-one slide up to 64 values, a memmove above);
/// `quantile` O(1); `mad` O(log capacity). Storage: one array of 2 × capacity Doubles, allocated once
/// in `init`; nothing allocates afterwards as long as the window is mutated in place.
public struct SortedWindow: Sendable {
    private var core: SortedRing
    private var storage: [Double]

    /// A capacity below 1 (a mistyped setting) is raised to 1 rather than trapping.
    public init(capacity requested: Int) {
        core = SortedRing(capacity: requested, offset: 0)
        storage = [Double](repeating: 0, count: SortedRing.doubles(capacity: core.capacity))
    }

    public var capacity: Int { core.capacity }
    public var count: Int { core.count }
    public var isFull: Bool { core.count == core.capacity }

    /// Adds `x` (must not be NaN), evicting the oldest value when full.
    public mutating func push(_ x: Double) {
        storage.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            core.push(x, base)
        }
    }

    /// Removes everything; keeps the storage.
    public mutating func removeAll() { core.removeAll() }

    private func read<R>(_ body: (UnsafeMutablePointer<Double>) -> R) -> R {
        storage.withUnsafeBufferPointer { buffer in
            // The cores take mutable pointers for uniformity; these reads never write.
            body(UnsafeMutablePointer(mutating: buffer.baseAddress!))
        }
    }

    /// The q-quantile (0...1) by linear interpolation between order statistics; NaN when empty. O(1).
    public func quantile(_ q: Double) -> Double { read { core.quantile(q, $0) } }

    /// The values in arrival order, oldest first (for a snapshot). Allocates the result.
    public var values: [Double] { read { core.values($0) } }

    /// `(quantile(a), quantile(b), quantile(c))`.
    public func quantiles(_ a: Double, _ b: Double, _ c: Double) -> (Double, Double, Double) {
        read { (core.quantile(a, $0), core.quantile(b, $0), core.quantile(c, $0)) }
    }

    /// Where the q-quantile of `count` sorted values lies, computed once: a window holding exactly
    /// `count` values (a full one) then skips the position arithmetic.
    public struct Position: Sendable {
        public let q: Double
        let count: Int
        let index: Int
        let frac: Double

        public init(_ q: Double, count n: Int) {
            self.q = q
            count = n
            let pos = max(0, min(1, q)) * Double(max(n, 1) - 1)
            let i = Int(pos)
            index = i
            frac = pos - Double(i)
        }
    }

    /// The same values as `quantiles(a.q, b.q, c.q)`.
    public func quantiles(_ a: Position, _ b: Position, _ c: Position) -> (Double, Double, Double) {
        read { (core.quantile(at: a, $0), core.quantile(at: b, $0), core.quantile(at: c, $0)) }
    }

    public var median: Double { quantile(0.5) }
    public var minimum: Double { read { core.minimum($0) } }
    public var maximum: Double { read { core.maximum($0) } }

    /// Median absolute deviation from `center` (normally the median). O(log capacity), no allocation.
    public func mad(around center: Double) -> Double { read { core.mad(around: center, $0) } }

    /// The values in arrival order, oldest first. Allocates the result; for snapshots, not the hot path.
    public var valuesInArrivalOrder: [Double] { read { core.values($0) } }
}

/// A fixed-capacity ring of the most recent values with a cached median and MAD (see `RobustRingCore`):
/// the long window of a detector. `push` O(1); `median`/`mad` O(1) plus an O(capacity) refresh at most
/// every `refreshEvery` pushes. Storage: 2 × capacity Doubles, allocated once in `init`.
public struct RobustRing: Sendable {
    private var core: RobustRingCore
    private var storage: [Double]

    public init(capacity: Int, refreshEvery: Int? = nil) {
        core = RobustRingCore(capacity: capacity, offset: 0, refreshEvery: refreshEvery)
        storage = [Double](repeating: 0, count: RobustRingCore.doubles(capacity: core.capacity))
    }

    public var capacity: Int { core.capacity }
    public var count: Int { core.count }
    public var refreshEvery: Int { core.refreshEvery }

    private mutating func access<R>(_ body: (inout RobustRingCore, UnsafeMutablePointer<Double>) -> R) -> R {
        storage.withUnsafeMutableBufferPointer { buffer in body(&core, buffer.baseAddress!) }
    }

    public mutating func push(_ x: Double) { access { $0.push(x, $1) } }
    public mutating func removeAll() { core.removeAll() }
    /// Median of the window, at most `refreshEvery` pushes old.
    public mutating func median() -> Double { access { $0.median($1) } }
    /// MAD around the median, at most `2 × refreshEvery` pushes old.
    public mutating func mad() -> Double { access { $0.mad($1) } }
    /// Recomputes the median and MAD now.
    public mutating func refresh() { access { $0.refresh($1) } }
    public var valuesInArrivalOrder: [Double] {
        storage.withUnsafeBufferPointer { core.values(UnsafeMutablePointer(mutating: $0.baseAddress!)) }
    }
}

/// A fixed-capacity sliding window of the most recent values, kept both in arrival order (a ring)
/// and in sorted order, so that the median, any quantile and the MAD are cheap.
///
/// The sorted copy is brought up to date lazily, on the first query after some pushes, because
/// several detectors query their long window only now and then (the spike check of a cold room only
/// when a reading jumps by more than 5 °C). A `push` is O(1): it writes the ring and remembers the
/// value it evicted. A query first applies the pushes since the previous query: each one costs two
/// binary searches (where the evicted value sits, where the new one goes) plus one memmove of the
/// Doubles between them (≤ capacity, typically capacity / 3); after more than capacity / 2 pushes
/// without a query it re-sorts the ring instead (an in-place heapsort, O(capacity log capacity)).
/// So a window queried after every push costs what an eagerly sorted one does, and one that is
/// never queried costs a ring write. The query itself: `quantile` O(1), `mad` O(log capacity).
/// The sorted order of equal values (0.0 and -0.0) is the only thing that can depend on when the
/// updates are applied. Storage: one array of 2.5 × capacity Doubles (ring, sorted, evicted values),
/// allocated once in `init`; neither `push` nor a query allocates as long as the window is not
/// copied (mutate it in place).
public struct SortedWindow: Sendable {
    public let capacity: Int
    /// Pushes that are remembered for an incremental update; more than this re-sorts instead.
    private let pendingLimit: Int
    /// `storage[0..<capacity]` is the ring (arrival order), `storage[capacity..<2 × capacity]` the
    /// sorted values (the first `sortedCount` are valid), `storage[2 × capacity...]` the values
    /// evicted by the pending pushes, in push order.
    private var storage: [Double]
    /// Index in the ring of the oldest value.
    private var head = 0
    public private(set) var count = 0
    /// How many values the sorted part holds (`count` once it is up to date).
    private var sortedCount = 0
    /// Pushes not yet applied to the sorted part; `pendingLimit + 1` means "re-sort".
    private var pending = 0

    /// A capacity below 1 (a mistyped setting) is raised to 1 rather than trapping.
    public init(capacity requested: Int) {
        let capacity = max(1, requested)
        self.capacity = capacity
        pendingLimit = max(1, capacity / 2)
        storage = [Double](repeating: 0, count: 2 * capacity + pendingLimit)
    }

    public var isFull: Bool { count == capacity }

    /// Adds `x` (must not be NaN), evicting the oldest value when full. O(1).
    public mutating func push(_ x: Double) {
        let cap = capacity
        let n = count
        let h = head
        let p = pending
        let limit = pendingLimit
        storage.withUnsafeMutableBufferPointer { buffer in
            // buffer.count == 2 * cap + limit (set in init, never resized).
            guard let ring = buffer.baseAddress else { return }
            if n < cap {
                ring[h + n < cap ? h + n : h + n - cap] = x      // 0 ≤ h < cap, 0 ≤ n < cap
            } else {
                if p < limit { ring[2 * cap + p] = ring[h] }       // 2cap ≤ 2cap + p < 2cap + limit
                ring[h] = x
            }
        }
        if n < cap {
            count = n + 1
        } else {
            head = h + 1 == cap ? 0 : h + 1
        }
        pending = p <= limit ? p + 1 : p                           // saturates at limit + 1
    }

    /// Brings the sorted part up to date. O(1) when it already is.
    @inline(__always)
    private mutating func sync() {
        if pending != 0 { applyPending() }
    }

    private mutating func applyPending() {
        let cap = capacity
        let n = count
        let k = pending
        let h = head
        let s0 = sortedCount
        let limit = pendingLimit
        storage.withUnsafeMutableBufferPointer { buffer in
            guard let ring = buffer.baseAddress else { return }
            let s = ring + cap
            if k > limit {
                // Too many to apply one by one: copy the ring and sort it.
                Self.move(ring, to: s, count: n)                   // ring[0..<n] → s[0..<n], n ≤ cap
                Self.heapSort(s, n)
                return
            }
            // The k pending pushes are the newest k values of the ring (k ≤ limit < cap... or k ≤ n):
            // push i (oldest first) sits at logical position n - k + i. While the sorted part was
            // short of cap, a push added a value; afterwards it replaced the evicted value ring[2cap + i].
            var sc = s0
            var pos = h + n - k                                    // h < cap, n - k ≥ 0
            if pos >= cap { pos -= cap }
            for i in 0..<k {
                let x = ring[pos]
                pos = pos + 1 == cap ? 0 : pos + 1
                if sc < cap {
                    Self.insert(s, sc, x)
                    sc += 1
                } else {
                    Self.replace(s, cap, ring[2 * cap + i], x)     // i < k ≤ limit
                }
            }
        }
        sortedCount = n
        pending = 0
    }

    /// Inserts x into the sorted `s[0..<n]` (n < capacity), after the values equal to it.
    @inline(__always)
    private static func insert(_ s: UnsafeMutablePointer<Double>, _ n: Int, _ x: Double) {
        let k = upperBound(s, n, x)                                 // 0 ≤ k ≤ n
        move(s + k, to: s + k + 1, count: n - k)                    // s[k..<n] → s[k+1...n]
        s[k] = x
    }

    /// Replaces one `old` in the sorted, full `s[0..<cap]` by x.
    @inline(__always)
    private static func replace(_ s: UnsafeMutablePointer<Double>, _ cap: Int, _ old: Double, _ x: Double) {
        // lo: one slot holding `old` (it is present, so s[lo] == old; the min only matters for a NaN
        // pushed against the precondition). The search for x runs over the whole array, not from lo,
        // so that the two chains of dependent loads can overlap instead of running in turn.
        let lo = min(lowerBound(s, cap, old), cap - 1)             // 0 ≤ lo < cap
        if x > old {
            // j = first index with s[j] >= x; every index ≤ lo holds ≤ old < x, so j > lo.
            // Slide s[lo+1..<j] down by one and put x at j - 1.
            let j = max(lowerBound(s, cap, x), lo + 1)             // lo + 1 ≤ j ≤ cap
            move(s + lo + 1, to: s + lo, count: j - 1 - lo)        // s[lo+1..<j] → s[lo..<j-1]
            s[j - 1] = x
        } else {
            // i = first index with s[i] > x, at most lo (s[lo] = old ≥ x); equal values stay before x.
            // Slide s[i..<lo] up by one and put x at i.
            let i = min(upperBound(s, cap, x), lo)                 // 0 ≤ i ≤ lo
            move(s + i, to: s + i + 1, count: lo - i)              // s[i..<lo] → s[i+1...lo]
            s[i] = x
        }
    }

    /// First index i in `p[0..<n]` with `p[i] >= key` (n when none); `p[0..<n]` sorted ascending.
    /// Every read is inside `p[0..<n]`: base + half < base + len ≤ n.
    @inline(__always)
    static func lowerBound(_ p: UnsafeMutablePointer<Double>, _ n: Int, _ key: Double) -> Int {
        var base = 0
        var len = n
        // Invariant: p[i] < key for every i < base, and the answer is ≤ base + len ≤ n.
        // (A jump, not a conditional move: the predicted jump lets the CPU fetch the next probe
        // early, which measured faster here than a branch-free chain of dependent loads.)
        while len > 1 {
            let half = len >> 1
            if p[base + half] < key { base += half }
            len -= half
        }
        return len == 1 && p[base] < key ? base + 1 : base
    }

    /// First index i in `p[0..<n]` with `p[i] > key` (n when none); `p[0..<n]` sorted ascending.
    @inline(__always)
    static func upperBound(_ p: UnsafeMutablePointer<Double>, _ n: Int, _ key: Double) -> Int {
        var base = 0
        var len = n
        while len > 1 {
            let half = len >> 1
            if p[base + half] <= key { base += half }
            len -= half
        }
        return len == 1 && p[base] <= key ? base + 1 : base
    }

    /// memmove of `count` Doubles; the ranges may overlap.
    @inline(__always)
    static func move(_ from: UnsafeMutablePointer<Double>, to: UnsafeMutablePointer<Double>, count: Int) {
        UnsafeMutableRawPointer(to).copyMemory(from: UnsafeRawPointer(from), byteCount: count * MemoryLayout<Double>.stride)
    }

    /// Sorts `a[0..<n]` ascending in place, without allocating (no NaN). O(n log n).
    static func heapSort(_ a: UnsafeMutablePointer<Double>, _ n: Int) {
        guard n > 1 else { return }
        // Moves a[root] down the max-heap a[0..<end] (children of i are 2i+1 and 2i+2, read only if < end).
        func siftDown(_ start: Int, _ end: Int) {
            var root = start
            while true {
                var child = 2 * root + 1
                if child >= end { return }
                if child + 1 < end && a[child] < a[child + 1] { child += 1 }
                guard a[root] < a[child] else { return }
                let t = a[root]
                a[root] = a[child]
                a[child] = t
                root = child
            }
        }
        var start = n / 2 - 1
        while start >= 0 {
            siftDown(start, n)
            start -= 1
        }
        var end = n - 1
        while end > 0 {
            let t = a[0]
            a[0] = a[end]
            a[end] = t
            siftDown(0, end)
            end -= 1
        }
    }

    /// Removes everything; keeps the storage.
    public mutating func removeAll() {
        head = 0
        count = 0
        sortedCount = 0
        pending = 0
    }

    /// The q-quantile (0...1) by linear interpolation between order statistics; NaN when empty.
    /// O(1) once the sorted part is up to date (see the type's notes).
    public mutating func quantile(_ q: Double) -> Double {
        sync()
        guard count > 0 else { return .nan }
        let pos = max(0, min(1, q)) * Double(count - 1)
        let i = Int(pos)
        let frac = pos - Double(i)
        let s = capacity
        if i + 1 >= count { return storage[s + count - 1] }
        return storage[s + i] + (storage[s + i + 1] - storage[s + i]) * frac
    }

    /// Three quantiles at once, with one catch-up of the sorted order: the same values as
    /// `(quantile(a), quantile(b), quantile(c))`, for the level detector that needs all three per reading.
    public mutating func quantiles(_ a: Double, _ b: Double, _ c: Double) -> (Double, Double, Double) {
        sync()
        let n = count
        guard n > 0 else { return (.nan, .nan, .nan) }
        let s = capacity
        let last = Double(n - 1)
        @inline(__always) func at(_ q: Double) -> Double {
            let pos = max(0, min(1, q)) * last
            let i = Int(pos)
            let frac = pos - Double(i)
            if i + 1 >= n { return storage[s + n - 1] }
            return storage[s + i] + (storage[s + i + 1] - storage[s + i]) * frac
        }
        return (at(a), at(b), at(c))
    }

    /// Where the q-quantile of `count` sorted values lies, computed once: `quantiles(_:_:_:)` of a window
    /// holding exactly `count` values (a full one) then skips the position arithmetic.
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

    /// The same values as `quantiles(a.q, b.q, c.q)`; uses the precomputed positions when the window
    /// holds the count they were computed for.
    public mutating func quantiles(_ a: Position, _ b: Position, _ c: Position) -> (Double, Double, Double) {
        sync()
        let n = count
        guard n == a.count && n == b.count && n == c.count && n > 0 else { return quantiles(a.q, b.q, c.q) }
        let s = capacity
        @inline(__always) func at(_ p: Position) -> Double {
            let i = p.index
            if i + 1 >= n { return storage[s + n - 1] }
            return storage[s + i] + (storage[s + i + 1] - storage[s + i]) * p.frac
        }
        return (at(a), at(b), at(c))
    }

    public var median: Double { mutating get { quantile(0.5) } }
    public var minimum: Double { mutating get { sync(); return count > 0 ? storage[capacity] : .nan } }
    public var maximum: Double { mutating get { sync(); return count > 0 ? storage[capacity + count - 1] : .nan } }

    /// Median absolute deviation from `center` (normally the median): the k-th smallest of
    /// |x - center| found by a k-th-of-two-sorted-sequences search. O(log capacity), no allocation.
    public mutating func mad(around center: Double) -> Double {
        sync()
        let n = count
        guard n > 0 else { return .nan }
        let cap = capacity
        return storage.withUnsafeBufferPointer { all -> Double in
            let s = UnsafeBufferPointer(rebasing: all[cap..<(cap + n)])
            // p = first index with s[p] >= center. Left distances: center - s[p-1-i], right: s[p+j] - center.
            var lo = 0
            var hi = n
            while lo < hi {
                let mid = (lo + hi) >> 1
                if s[mid] < center { lo = mid + 1 } else { hi = mid }
            }
            let p = lo
            let a = p          // count of left distances
            let b = n - p      // count of right distances
            let k = n / 2      // 0-based rank of the (upper) median distance
            @inline(__always) func left(_ i: Int) -> Double { center - s[p - 1 - i] }
            @inline(__always) func right(_ j: Int) -> Double { s[p + j] - center }
            // Take i from left and k + 1 - i from right; find the i that makes the (k+1)-prefix valid.
            var iLo = max(0, k + 1 - b)
            var iHi = min(a, k + 1)
            while iLo < iHi {
                let i = (iLo + iHi) >> 1
                let j = k + 1 - i
                // Too few taken from left if left(i) < right(j - 1).
                if i < a && j > 0 && left(i) < right(j - 1) { iLo = i + 1 } else { iHi = i }
            }
            let i = iLo
            let j = k + 1 - i
            let l = i > 0 ? left(i - 1) : -Double.infinity
            let r = j > 0 ? right(j - 1) : -Double.infinity
            return max(l, r)
        }
    }

    /// The values in arrival order, oldest first. Allocates the result; for snapshots, not the hot path.
    public var valuesInArrivalOrder: [Double] {
        (0..<count).map { storage[(head + $0) % capacity] }
    }
}

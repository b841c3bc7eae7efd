/// A fixed-capacity sliding window of the most recent values, kept both in arrival order (a ring)
/// and in sorted order, so that the median, any quantile and the MAD are cheap.
///
/// Costs: `push` is O(d) where d is how far the new value lands from the value it evicts in sorted
/// order (≤ capacity; a shifted run of Doubles, like memmove). `quantile` is O(1); `mad` is
/// O(log capacity). Storage: 2 × capacity × 8 bytes, allocated once in `init`; `push` never allocates
/// as long as the window is not copied (mutate it in place).
public struct SortedWindow: Sendable {
    public let capacity: Int
    private var ring: [Double]
    private var sorted: [Double]
    /// Index in `ring` of the oldest value.
    private var head = 0
    public private(set) var count = 0

    public init(capacity: Int) {
        precondition(capacity > 0, "window capacity must be positive")
        self.capacity = capacity
        ring = [Double](repeating: 0, count: capacity)
        sorted = [Double](repeating: 0, count: capacity)
    }

    public var isFull: Bool { count == capacity }

    /// Adds `x` (must not be NaN), evicting the oldest value when full.
    public mutating func push(_ x: Double) {
        let cap = capacity
        if count < cap {
            ring[(head + count) % cap] = x
            let n = count
            sorted.withUnsafeMutableBufferPointer { s in
                var k = n
                while k > 0 && s[k - 1] > x {
                    s[k] = s[k - 1]
                    k -= 1
                }
                s[k] = x
            }
            count += 1
            return
        }
        let old = ring[head]
        ring[head] = x
        head += 1
        if head == cap { head = 0 }
        sorted.withUnsafeMutableBufferPointer { s in
            // Find one slot holding `old` (binary search), then slide the neighbours over it towards x.
            var lo = 0
            var hi = cap - 1
            while lo < hi {
                let mid = (lo + hi) >> 1
                if s[mid] < old { lo = mid + 1 } else { hi = mid }
            }
            var k = lo
            if x > old {
                while k + 1 < cap && s[k + 1] < x {
                    s[k] = s[k + 1]
                    k += 1
                }
            } else {
                while k > 0 && s[k - 1] > x {
                    s[k] = s[k - 1]
                    k -= 1
                }
            }
            s[k] = x
        }
    }

    /// Removes everything; keeps the storage.
    public mutating func removeAll() {
        head = 0
        count = 0
    }

    /// The q-quantile (0...1) by linear interpolation between order statistics; NaN when empty. O(1).
    public func quantile(_ q: Double) -> Double {
        guard count > 0 else { return .nan }
        let pos = max(0, min(1, q)) * Double(count - 1)
        let i = Int(pos)
        let frac = pos - Double(i)
        if i + 1 >= count { return sorted[count - 1] }
        return sorted[i] + (sorted[i + 1] - sorted[i]) * frac
    }

    public var median: Double { quantile(0.5) }
    public var minimum: Double { count > 0 ? sorted[0] : .nan }
    public var maximum: Double { count > 0 ? sorted[count - 1] : .nan }

    /// Median absolute deviation from `center` (normally the median): the k-th smallest of
    /// |x - center| found by a k-th-of-two-sorted-sequences search. O(log capacity), no allocation.
    public func mad(around center: Double) -> Double {
        let n = count
        guard n > 0 else { return .nan }
        return sorted.withUnsafeBufferPointer { s -> Double in
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
        (0..<count).map { ring[(head + $0) % capacity] }
    }
}

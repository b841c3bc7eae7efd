/// The arithmetic of the detectors' windows, over `Double` memory owned by someone else: the array of a
/// `SortedWindow` or `RobustRing`, or the one buffer of a `ChannelDetector` (which keeps all its windows
/// in one allocation, so that an update checks one reference for uniqueness and then works through
/// plain pointers). Every method takes the base pointer of that memory; the offsets are fixed at init.

/// A sliding window kept in arrival order (a ring) and in sorted order, both updated on every push.
/// Memory: `2 × capacity` Doubles from `offset` (ring, then sorted).
struct SortedRing: Sendable {
    let capacity: Int
    let offset: Int
    private(set) var head = 0
    private(set) var count = 0

    static func doubles(capacity: Int) -> Int { 2 * capacity }

    init(capacity: Int, offset: Int) {
        self.capacity = max(1, capacity)
        self.offset = offset
    }

    /// Adds `x` (not NaN), evicting the oldest value when full. O(log capacity) search plus a shift of
    /// the values between the evicted one and x (≈ capacity / 3 on average).
    @inline(__always)
    mutating func push(_ x: Double, _ base: UnsafeMutablePointer<Double>) {
        let cap = capacity
        let ring = base + offset
        let n = count
        let h = head
        if n < cap {
            fill(x, ring)
        } else {
            let old = ring[h]
            ring[h] = x
            head = h + 1 == cap ? 0 : h + 1
            Self.replace(ring + cap, cap, old, x)
        }
    }

    mutating func removeAll() {
        head = 0
        count = 0
    }

    /// `push` while the window fills (kept out of line, so that `push` is small enough to inline).
    @inline(never)
    private mutating func fill(_ x: Double, _ ring: UnsafeMutablePointer<Double>) {
        let cap = capacity
        let n = count
        let h = head
        ring[h + n < cap ? h + n : h + n - cap] = x                  // 0 ≤ h < cap, 0 ≤ n < cap
        Self.insert(ring + cap, n, x)
        count = n + 1
    }

    /// Inserts x into the sorted `s[0..<n]` (n < capacity), after the values equal to it.
    @inline(__always)
    static func insert(_ s: UnsafeMutablePointer<Double>, _ n: Int, _ x: Double) {
        var i = n
        while i > 0 && s[i - 1] > x {
            s[i] = s[i - 1]
            i -= 1
        }
        s[i] = x
    }

    /// Replaces one `old` in the sorted, full `s[0..<cap]` by x.
    @inline(__always)
    static func replace(_ s: UnsafeMutablePointer<Double>, _ cap: Int, _ old: Double, _ x: Double) {
        // i: one slot holding `old` (it is present; the min only matters for a NaN pushed against the rule).
        var i = min(lowerBound(s, cap, old), cap &- 1)
        if cap <= 64 {
            // A short window (a level window of tens of values): slide the values between old and x
            // one by one while looking for x's place; cheaper than a second search and a memmove call.
            // The scans need no index check: they stop at the last (first) value, which is ≥ x (≤ x),
            // or at the end that is checked before.
            if x > old {
                if x >= s[cap &- 1] {
                    while i < cap &- 1 { s[i] = s[i &+ 1]; i &+= 1 }
                } else {
                    while s[i &+ 1] < x { s[i] = s[i &+ 1]; i &+= 1 }
                }
            } else if x < old {
                if x <= s[0] {
                    while i > 0 { s[i] = s[i &- 1]; i &-= 1 }
                } else {
                    while s[i &- 1] > x { s[i] = s[i &- 1]; i &-= 1 }
                }
            }
            s[i] = x
            return
        }
        replaceLong(s, cap, i, old, x)
    }

    /// `replace` for a window of more than 64 values: a second search and a memmove (kept out of line,
    /// so that `push` is small enough to inline).
    @inline(never)
    static func replaceLong(_ s: UnsafeMutablePointer<Double>, _ cap: Int, _ i: Int, _ old: Double, _ x: Double) {
        if x > old {
            // j = first index with s[j] >= x; every index ≤ i holds ≤ old < x, so j > i.
            // Slide s[i+1..<j] down by one and put x at j - 1.
            let j = max(lowerBound(s, cap, x), i + 1)                // i + 1 ≤ j ≤ cap
            move(s + i + 1, to: s + i, count: j - 1 - i)
            s[j - 1] = x
        } else {
            // k = first index with s[k] > x, at most i (s[i] = old ≥ x); equal values stay before x.
            // Slide s[k..<i] up by one and put x at k.
            let k = min(upperBound(s, cap, x), i)                    // 0 ≤ k ≤ i
            move(s + k, to: s + k + 1, count: i - k)
            s[k] = x
        }
    }

    /// First index i in `p[0..<n]` with `p[i] >= key` (n when none); `p[0..<n]` sorted ascending.
    /// Every read is inside `p[0..<n]`: base + half < base + len ≤ n. (The compiler makes the step a
    /// jump; a jump-free version on the sign bit of the difference measured 15 % slower per reading:
    /// the predicted jump lets the next probe's load start early.)
    @inline(__always)
    static func lowerBound(_ p: UnsafeMutablePointer<Double>, _ n: Int, _ key: Double) -> Int {
        var base = 0
        var len = n
        while len > 1 {
            let half = len &>> 1
            base = p[base &+ half] < key ? base &+ half : base
            len &-= half
        }
        return len == 1 && p[base] < key ? base &+ 1 : base
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

    /// The q-quantile (0...1) by linear interpolation between order statistics; NaN when empty. O(1).
    @inline(__always)
    func quantile(_ q: Double, _ base: UnsafeMutablePointer<Double>) -> Double {
        let n = count
        guard n > 0 else { return .nan }
        let s = base + offset + capacity
        let pos = max(0, min(1, q)) * Double(n - 1)
        let i = Int(pos)
        if i + 1 >= n { return s[n - 1] }
        return s[i] + (s[i + 1] - s[i]) * (pos - Double(i))
    }

    /// The quantile at a precomputed position (see `SortedWindow.Position`). O(1).
    @inline(__always)
    func quantile(at p: SortedWindow.Position, _ base: UnsafeMutablePointer<Double>) -> Double {
        guard count == p.count else { return quantile(p.q, base) }
        let s = base + offset + capacity
        let i = p.index
        if i + 1 >= count { return s[count - 1] }
        return s[i] + (s[i + 1] - s[i]) * p.frac
    }

    func minimum(_ base: UnsafeMutablePointer<Double>) -> Double { count > 0 ? base[offset + capacity] : .nan }
    func maximum(_ base: UnsafeMutablePointer<Double>) -> Double { count > 0 ? base[offset + capacity + count - 1] : .nan }

    /// Median absolute deviation from `center` (normally the median): the k-th smallest of
    /// |x - center| found by a k-th-of-two-sorted-sequences search. O(log capacity), no allocation.
    func mad(around center: Double, _ base: UnsafeMutablePointer<Double>) -> Double {
        let n = count
        guard n > 0 else { return .nan }
        let s = base + offset + capacity
        // p = first index with s[p] >= center. Left distances: center - s[p-1-i], right: s[p+j] - center.
        let p = Self.lowerBound(s, n, center)
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

    /// The values in arrival order, oldest first. Allocates the result.
    func values(_ base: UnsafeMutablePointer<Double>) -> [Double] {
        (0..<count).map { base[offset + (head + $0) % capacity] }
    }
}

/// A ring of the last `capacity` values, with their median and MAD (median absolute deviation)
/// computed on demand and cached.
///
/// The detectors use the two as a robust centre and noise scale (a spike's size in standard
/// deviations, the noise floor of a level threshold, the stored weight a drift is compared with).
/// Those of 256 readings do not change meaningfully when a few readings are replaced, so the cache
/// is reused for up to `refreshEvery` pushes (half the window by default; the MAD twice as long), and
/// while the window fills, until it has doubled. A refresh copies the ring into scratch memory and runs two
/// in-place selections (Hoare, median-of-three pivot): O(capacity) expected.
/// Memory: `2 × capacity` Doubles from `offset` (ring, then scratch).
struct RobustRingCore: Sendable {
    let capacity: Int
    let offset: Int
    let refreshEvery: Int
    private(set) var head = 0
    private(set) var count = 0
    private var cachedMedian = Double.nan
    private var cachedMAD = Double.nan
    /// Pushes so far (wrapping), and the push count at which each cached value was computed.
    private var pushes = 0
    private var medianAt = 0
    private var madAt = 0
    /// Twice the window's count when each was computed (a window that has doubled since recomputes;
    /// 0: never computed), and the MAD's maximum age: kept ready, so that the check on every request
    /// is two comparisons.
    private var medianRecount = 0
    private var madRecount = 0
    private let madMaxAge: Int

    static func doubles(capacity: Int) -> Int { 2 * capacity }

    init(capacity: Int, offset: Int, refreshEvery: Int? = nil) {
        self.capacity = max(1, capacity)
        self.offset = offset
        self.refreshEvery = max(1, refreshEvery ?? self.capacity / 2)
        madMaxAge = 2 * self.refreshEvery
    }

    /// Adds `x` (not NaN), evicting the oldest value when full. O(1).
    @inline(__always)
    mutating func push(_ x: Double, _ base: UnsafeMutablePointer<Double>) {
        let cap = capacity
        let n = count
        let h = head
        if n < cap {
            base[offset + (h + n < cap ? h + n : h + n - cap)] = x
            count = n + 1
        } else {
            base[offset + h] = x
            head = h + 1 == cap ? 0 : h + 1
        }
        pushes &+= 1
    }

    mutating func removeAll() {
        head = 0
        count = 0
        cachedMedian = .nan
        cachedMAD = .nan
        medianRecount = 0
        madRecount = 0
    }

    /// The median (the mean of the two middle values for an even count), NaN when empty; at most
    /// `maxAge` pushes old (default `refreshEvery`).
    @inline(__always)
    mutating func median(_ base: UnsafeMutablePointer<Double>, maxAge: Int? = nil) -> Double {
        if pushes &- medianAt >= (maxAge ?? refreshEvery) || count > medianRecount { refresh(base, mad: false) }
        return cachedMedian
    }

    /// The MAD around the median (the upper middle one of the sorted distances), NaN when empty;
    /// at most `2 × refreshEvery` pushes old (a noise scale changes more slowly than a level, and a
    /// refresh with the MAD costs twice one without).
    @inline(__always)
    mutating func mad(_ base: UnsafeMutablePointer<Double>) -> Double {
        if pushes &- madAt >= madMaxAge || count > madRecount { refresh(base, mad: true) }
        return cachedMAD
    }

    /// Recomputes the cached median, and the MAD if asked, from the current values. O(count) expected.
    mutating func refresh(_ base: UnsafeMutablePointer<Double>, mad withMAD: Bool = true) {
        let n = count
        medianAt = pushes
        medianRecount = 2 * n
        if withMAD {
            madAt = pushes
            madRecount = 2 * n
        }
        guard n > 0 else {
            cachedMedian = .nan
            cachedMAD = .nan
            return
        }
        let r = base + offset
        let s = r + capacity
        // Any order will do: copy the filled part of the ring.
        if n == capacity {
            s.update(from: r, count: n)
        } else {
            let first = min(n, capacity - head)                       // r[head..<head+first], then r[0...]
            s.update(from: r + head, count: first)
            (s + first).update(from: r, count: n - first)
        }
        let k = n / 2
        let upper = Self.select(s, n, k, hint: cachedMedian)          // s[k] in place, s[..<k] ≤ s[k]
        var med = upper
        if n % 2 == 0 {
            var lowerMiddle = s[0]                                    // max of s[0..<k], k ≥ 1
            for i in 1..<k where s[i] > lowerMiddle { lowerMiddle = s[i] }
            med = (lowerMiddle + upper) / 2
        }
        cachedMedian = med
        guard withMAD else { return }
        for i in 0..<n { s[i] = abs(s[i] - med) }
        cachedMAD = Self.select(s, n, k, hint: cachedMAD)
    }

    /// Rearranges `a[0..<n]` so that `a[k]` holds the value a sort would put there, with nothing larger
    /// before it and nothing smaller after it, and returns it. Hoare's selection with a median-of-three
    /// pivot; O(n) expected, in place. `0 ≤ k < n`, no NaN. `hint`, a guess of the answer (the value
    /// the last refresh found: a window changes slowly), is the first pivot when it lies between the
    /// three sampled values, so the first split lands next to `k` (a NaN hint is ignored).
    static func select(_ a: UnsafeMutablePointer<Double>, _ n: Int, _ k: Int, hint: Double = .nan) -> Double {
        @inline(__always) func swap(_ i: Int, _ j: Int) {
            let t = a[i]
            a[i] = a[j]
            a[j] = t
        }
        var lo = 0
        var hi = n - 1
        var guess = hint
        while hi - lo > 16 {
            // Median of three into the middle; a[lo] ≤ pivot ≤ a[hi] then bound both scans (for any
            // pivot value between them, so the hint may be one that is not in the array).
            let mid = lo + (hi - lo) >> 1
            if a[mid] < a[lo] { swap(mid, lo) }
            if a[hi] < a[lo] { swap(hi, lo) }
            if a[hi] < a[mid] { swap(hi, mid) }
            let pivot = guess >= a[lo] && guess <= a[hi] ? guess : a[mid]
            guess = .nan
            var i = lo
            var j = hi
            while true {
                repeat { i += 1 } while a[i] < pivot
                repeat { j -= 1 } while a[j] > pivot
                if i >= j { break }
                swap(i, j)
            }
            // a[lo...j] ≤ pivot ≤ a[j+1...hi], lo ≤ j < hi.
            if k <= j { hi = j } else { lo = j + 1 }
        }
        // A few values left: insertion sort them.
        var i = lo + 1
        while i <= hi {
            let x = a[i]
            var j = i - 1
            while j >= lo && a[j] > x {
                a[j + 1] = a[j]
                j -= 1
            }
            a[j + 1] = x
            i += 1
        }
        return a[k]
    }

    /// The values in arrival order, oldest first. Allocates the result.
    func values(_ base: UnsafeMutablePointer<Double>) -> [Double] {
        (0..<count).map { base[offset + (head + $0) % capacity] }
    }
}

@testable import Detection
import Testing

@Suite("Sorted window")
struct SortedWindowTests {
    @Test("median, quantiles and MAD match a brute-force computation while sliding")
    func matchesBruteForce() {
        var rng = SeededRandom(seed: 42)
        var w = SortedWindow(capacity: 37)
        var history: [Double] = []
        for i in 0..<500 {
            // Repeated values too, to exercise ties.
            let x = i % 7 == 0 ? 1.0 : (rng.uniform() * 20).rounded() / 2
            w.push(x)
            history.append(x)
            let win = Array(history.suffix(37)).sorted()
            let n = win.count
            #expect(w.count == n)
            let pos = 0.5 * Double(n - 1)
            let lo = Int(pos)
            let median = lo + 1 < n ? win[lo] + (win[lo + 1] - win[lo]) * (pos - Double(lo)) : win[lo]
            #expect(abs(w.median - median) < 1e-12)
            #expect(w.minimum == win.first && w.maximum == win.last)
            let dev = win.map { abs($0 - median) }.sorted()
            #expect(w.mad(around: median) == dev[n / 2], "step \(i)")
        }
        #expect(w.valuesInArrivalOrder == Array(history.suffix(37)))
    }

    @Test("quantiles match brute force after runs of pushes of every length, filling and full")
    func lazyCatchUp() {
        var rng = SeededRandom(seed: 7)
        for capacity in [1, 2, 5, 16, 37, 256] {
            var w = SortedWindow(capacity: capacity)
            var history: [Double] = []
            var step = 0
            // Gaps between queries from 1 to 3 × capacity, so both the one-by-one catch-up
            // (≤ capacity / 2 pushes) and the re-sort are exercised, while filling and when full.
            for gap in [1, 2, 3, capacity / 2, capacity / 2 + 1, capacity, 3 * capacity, 1, 7, capacity - 1, 2] {
                for _ in 0..<max(1, gap) {
                    let x = step % 5 == 0 ? 2.5 : (rng.uniform() * 40).rounded() / 4 - 3
                    w.push(x)
                    history.append(x)
                    step += 1
                }
                let win = Array(history.suffix(capacity)).sorted()
                let n = win.count
                #expect(w.count == n)
                for q in [0.0, 0.2, 0.5, 0.75, 1.0] {
                    let pos = q * Double(n - 1)
                    let lo = Int(pos)
                    let expected = lo + 1 < n ? win[lo] + (win[lo + 1] - win[lo]) * (pos - Double(lo)) : win[lo]
                    #expect(w.quantile(q) == expected, "capacity \(capacity) step \(step) q \(q)")
                }
                let minimum = w.minimum
                let maximum = w.maximum
                #expect(minimum == win.first && maximum == win.last)
                let median = w.median
                let dev = win.map { abs($0 - median) }.sorted()
                #expect(w.mad(around: median) == dev[n / 2], "capacity \(capacity) step \(step)")
                #expect(w.valuesInArrivalOrder == Array(history.suffix(capacity)))
            }
            w.removeAll()
            history.removeAll()
            for x in [3.0, 1.0, 2.0] { w.push(x); history.append(x) }
            let expected = Array(history.suffix(capacity)).sorted()
            #expect(w.minimum == expected.first && w.maximum == expected.last)
        }
    }
}

@Suite("Robust ring (long window)")
struct RobustRingTests {
    /// Median (mean of the middle two for an even count) and MAD (upper middle distance) by sorting.
    private func bruteForce(_ values: [Double]) -> (median: Double, mad: Double) {
        let s = values.sorted()
        let n = s.count
        let median = n % 2 == 0 ? (s[n / 2 - 1] + s[n / 2]) / 2 : s[n / 2]
        let dev = s.map { abs($0 - median) }.sorted()
        return (median, dev[n / 2])
    }

    @Test("a refresh gives exactly the median and MAD of the window, for every fill level and capacity")
    func refreshMatchesBruteForce() {
        var rng = SeededRandom(seed: 11)
        for capacity in [1, 2, 3, 17, 18, 64, 256] {
            var ring = RobustRing(capacity: capacity)
            var history: [Double] = []
            for step in 0..<(3 * capacity + 5) {
                // Ties and runs too: the selection must cope with many equal values.
                let x = step % 4 == 0 ? 5.0 : (rng.uniform() * 30).rounded() / 3 - 2
                ring.push(x)
                history.append(x)
                ring.refresh()
                let expected = bruteForce(Array(history.suffix(capacity)))
                #expect(ring.median() == expected.median, "capacity \(capacity) step \(step)")
                #expect(ring.mad() == expected.mad, "capacity \(capacity) step \(step)")
            }
            #expect(ring.valuesInArrivalOrder == Array(history.suffix(capacity)))
        }
    }

    @Test("the cached median and MAD are never older than the refresh interval, and follow a level change")
    func cacheAge() {
        var ring = RobustRing(capacity: 256)
        #expect(ring.refreshEvery == 128)
        for _ in 0..<256 { ring.push(10) }
        #expect(ring.median() == 10)
        // A step to 20: once more than half the window is new, a query within the interval sees it.
        for _ in 0..<129 { ring.push(20) }
        var latest = ring.median()
        for _ in 0..<128 {
            ring.push(20)
            latest = ring.median()
        }
        #expect(latest == 20)
        // Fill-up: a window that has more than doubled since the last refresh is refreshed at once.
        var filling = RobustRing(capacity: 256)
        filling.push(1)
        #expect(filling.median() == 1)
        filling.push(3)
        filling.push(3)
        #expect(filling.median() == 3)
        #expect(filling.mad() == 0)
    }

    @Test("selection puts the k-th value in place for sorted, reversed, constant and random input, with any hint")
    func selection() {
        var rng = SeededRandom(seed: 3)
        let inputs: [[Double]] = [
            Array(0..<100).map(Double.init), Array((0..<100).reversed()).map(Double.init),
            [Double](repeating: 2, count: 50), (0..<301).map { _ in rng.uniform() },
            // Few distinct values (a quantized or stuck sensor; the distances of a MAD).
            (0..<256).map { _ in rng.uniform() < 0.5 ? 0 : 1 }, (0..<256).map { _ in (rng.uniform() * 3).rounded() },
            (0..<256).map { $0 < 250 ? 7 : Double($0) }, (0..<257).map { $0 % 2 == 0 ? -1e300 : 1e300 },
        ]
        for input in inputs {
            let sorted = input.sorted()
            for k in [0, 1, input.count / 3, input.count / 2, input.count / 2 + 1, input.count - 1] {
                // Any hint, right, wrong or outside the values, gives the same answer.
                for hint in [Double.nan, sorted[k], sorted[0] - 1, sorted[sorted.count - 1] + 1, sorted[sorted.count / 3]] {
                    var a = input
                    let v = a.withUnsafeMutableBufferPointer { RobustRingCore.select($0.baseAddress!, $0.count, k, hint: hint) }
                    #expect(v == sorted[k], "k \(k), hint \(hint)")
                    #expect(a[..<k].allSatisfy { $0 <= v } && a[(k + 1)...].allSatisfy { $0 >= v })
                }
            }
        }
    }
}

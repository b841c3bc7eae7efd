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

    @Test("queries after runs of pushes of every length (incremental catch-up and re-sort) match brute force")
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

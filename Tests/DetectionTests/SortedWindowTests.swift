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
}

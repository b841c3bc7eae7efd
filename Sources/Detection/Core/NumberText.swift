/// Fixed-point text for numbers in messages and CSV output, without Foundation.
/// `NumberText.fixed(3.14159, decimals: 2)` is `"3.14"`. O(digits), allocates the returned String only.
public enum NumberText {
    private static let powers: [Double] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]

    /// Rounds half away from zero to `decimals` (0...6) places. Non-finite values print as `nan`, `inf`, `-inf`.
    public static func fixed(_ x: Double, decimals: Int) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        append(x, decimals: decimals, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the text of `fixed(x, decimals:)` to `out`; allocation-free when `out` has capacity.
    public static func append(_ x: Double, decimals: Int, to out: inout [UInt8]) {
        if x.isNaN { out.append(contentsOf: [0x6E, 0x61, 0x6E]); return }
        if x.isInfinite {
            if x < 0 { out.append(0x2D) }
            out.append(contentsOf: [0x69, 0x6E, 0x66])
            return
        }
        let d = max(0, min(6, decimals))
        let scale = powers[d]
        var v = x
        if v < 0 { v = -v }
        let scaled = (v * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9.0e18 else {
            // Too large for fixed point in UInt64; fall back to the standard description.
            out.append(contentsOf: Array(String(x).utf8))
            return
        }
        let n = UInt64(scaled)
        if x < 0 && n != 0 { out.append(0x2D) }
        let p = UInt64(scale)
        appendInteger(n / p, to: &out)
        if d > 0 {
            out.append(0x2E)
            var frac = n % p
            // Emit exactly d digits, most significant first.
            var div = p / 10
            for _ in 0..<d {
                out.append(0x30 + UInt8(frac / div))
                frac %= div
                div /= 10
                if div == 0 { div = 1 }
            }
        }
    }

    static func appendInteger(_ n: UInt64, to out: inout [UInt8]) {
        if n < 10 { out.append(0x30 + UInt8(n)); return }
        var tmp: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                  UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var len = 0
        var v = n
        withUnsafeMutableBytes(of: &tmp) { buf in
            while v > 0 {
                buf[len] = 0x30 + UInt8(v % 10)
                v /= 10
                len += 1
            }
            var i = len - 1
            while i >= 0 {
                out.append(buf[i])
                i -= 1
            }
        }
    }

    /// "2 h 10 min", "45 min", "30 s": a duration a farmer reads at a glance.
    public static func duration(_ seconds: Double) -> String {
        let s = max(0, seconds)
        if s < 90 { return "\(Int(s.rounded())) s" }
        let minutes = Int((s / 60).rounded())
        if minutes < 60 { return "\(minutes) min" }
        let h = minutes / 60
        let m = minutes % 60
        if h >= 48 { return "\(h / 24) days" }
        return m == 0 ? "\(h) h" : "\(h) h \(m) min"
    }
}

/// Fixed-point text for numbers in messages and CSV output, without Foundation.
/// `NumberText.fixed(3.14159, decimals: 2)` is `"3.14"`. O(digits); the digits are written on the
/// stack, so `fixed` allocates nothing for results of up to 15 bytes (Swift keeps those inline).
public enum NumberText {
    /// Longest text `write` produces: sign, 19 integer digits, point, 6 decimals.
    static let maxBytes = 32

    /// Rounds half away from zero to `decimals` (0...6) places. Non-finite values print as `nan`, `inf`, `-inf`.
    public static func fixed(_ x: Double, decimals: Int) -> String {
        if !fits(x, decimals: decimals) { return String(x) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxBytes) { buf in
            let n = write(x, decimals: decimals, into: buf.baseAddress!)
            return String(decoding: UnsafeBufferPointer(start: buf.baseAddress!, count: n), as: UTF8.self)
        }
    }

    /// Appends the text of `fixed(x, decimals:)` to `out`; allocation-free when `out` has capacity.
    public static func append(_ x: Double, decimals: Int, to out: inout [UInt8]) {
        if !fits(x, decimals: decimals) {
            out.append(contentsOf: String(x).utf8)
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxBytes) { buf in
            let n = write(x, decimals: decimals, into: buf.baseAddress!)
            out.append(contentsOf: UnsafeBufferPointer(start: buf.baseAddress!, count: n))
        }
    }

    private static func clampDecimals(_ decimals: Int) -> Int { max(0, min(6, decimals)) }

    private static func scale(_ d: Int) -> Double {
        switch d {
        case 0: 1
        case 1: 10
        case 2: 100
        case 3: 1_000
        case 4: 10_000
        case 5: 100_000
        default: 1_000_000
        }
    }

    /// False when the scaled value does not fit fixed point in a UInt64 (then the standard description is used).
    private static func fits(_ x: Double, decimals: Int) -> Bool {
        !x.isFinite || (abs(x) * scale(clampDecimals(decimals))).rounded(.toNearestOrAwayFromZero) < 9.0e18
    }

    /// Writes the text into `p` (at least `maxBytes` long) and returns its length. `x` must pass `fits`.
    private static func write(_ x: Double, decimals: Int, into p: UnsafeMutablePointer<UInt8>) -> Int {
        var len = 0
        @inline(__always) func put(_ b: UInt8) {
            p[len] = b
            len += 1
        }
        if x.isNaN {
            put(0x6E); put(0x61); put(0x6E)
            return len
        }
        if x.isInfinite {
            if x < 0 { put(0x2D) }
            put(0x69); put(0x6E); put(0x66)
            return len
        }
        let d = clampDecimals(decimals)
        let s = scale(d)
        let n = UInt64((abs(x) * s).rounded(.toNearestOrAwayFromZero))
        if x < 0 && n != 0 { put(0x2D) }
        let unit = UInt64(s)
        // Integer part: digits in reverse at the end of the buffer, then copied forward.
        var whole = n / unit
        var digits = 0
        repeat {
            p[maxBytes - 1 - digits] = 0x30 + UInt8(whole % 10)
            whole /= 10
            digits += 1
        } while whole > 0
        for i in 0..<digits { put(p[maxBytes - digits + i]) }
        if d > 0 {
            put(0x2E)
            var frac = n % unit
            var div = unit / 10
            for _ in 0..<d {
                put(0x30 + UInt8(frac / div))
                frac %= div
                div = max(1, div / 10)
            }
        }
        return len
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

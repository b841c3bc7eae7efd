import Detection

/// The physics bands a sweep reports separately, so a weakness in one kind of room is not averaged
/// away: for every kind the sampling interval; for cold rooms also defrost length, door traffic,
/// set-point and noise; for generic series their origin.
public enum Bands {
    /// (band family, band) pairs a trace belongs to.
    public static func of(_ trace: LabelledTrace) -> [(String, String)] {
        let dt = trace.sensor.interval
        var out = [("sampling", dt <= 30 ? "<=30 s" : dt <= 120 ? "30-120 s" : ">120 s")]
        switch trace.physics {
        case .coldRoom(let p):
            let d = p.defrostDuration / 60
            out.append(("defrost", d < 25 ? "10-25 min" : d < 40 ? "25-40 min" : "40-60 min"))
            out.append(("doors", p.doorsPerDay < 4 ? "rare <4/d" : p.doorsPerDay <= 20 ? "normal" : "busy >20/d"))
            out.append(("set-point", p.setPoint <= -10 ? "freezer" : p.setPoint <= 6 ? "chiller" : "warm >6"))
            out.append(("noise", trace.sensor.quantum >= 0.5 ? "coarse 0.5" : "quiet"))
        case .generic(let p):
            out.append(("origin", p.origin.rawValue))
        case .soil, .scale:
            break
        }
        return out
    }
}

/// Fixed-width text for the sweep's table without Foundation's `String(format:)`.
enum Text {
    static func fixed(_ x: Double, _ decimals: Int) -> String {
        guard x.isFinite else { return "-" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let m = Int((abs(x) * scale).rounded())
        let whole = m / Int(scale)
        var frac = String(m % Int(scale))
        while frac.count < decimals { frac = "0" + frac }
        return (x < 0 && m != 0 ? "-" : "") + String(whole) + (decimals > 0 ? "." + frac : "")
    }

    static func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return left ? s + fill : fill + s
    }
}

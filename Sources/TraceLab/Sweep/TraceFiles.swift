import Detection

/// A trace as the files `coop-edge replay` and `tools/score_traces.py` read: the CSV
/// (`timestamp,value`, UTC, values with 3 decimals, `nan` for a failed poll) and its entries in
/// `labels.json` and `kinds.json`. Text only: the caller writes the files.
public enum TraceFiles {
    /// `kind/name.csv`, the key in labels.json.
    public static func key(_ t: LabelledTrace) -> String {
        "\(t.kind == .weight ? "scale" : t.kind.rawValue)/\(t.name).csv"
    }

    public static func csv(_ t: LabelledTrace) -> String {
        var s = "timestamp,value\n"
        s.reserveCapacity(t.count * 30)
        for i in 0..<t.count {
            s += timestamp(t.time(at: i)) + "," + (t.values[i].map { Text.fixed($0, 3) } ?? "nan") + "\n"
        }
        return s
    }

    /// `"key": [["start", "end"], ...]` and `"key": ["kind", ...]` entries for the two JSON files.
    public static func jsonEntries(_ t: LabelledTrace) -> (labels: String, kinds: String) {
        let windows = t.labels.map { "[\"\(timestamp($0.start))\", \"\(timestamp($0.end))\"]" }.joined(separator: ", ")
        let kinds = t.labels.map { "\"\($0.kind.rawValue)\"" }.joined(separator: ", ")
        return ("\"\(key(t))\": [\(windows)]", "\"\(key(t))\": [\(kinds)]")
    }

    /// `YYYY-MM-DD HH:MM:SS` in UTC (civil-from-days, valid for any date after 1970).
    public static func timestamp(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.down))
        let days = s / 86_400
        let rem = s % 86_400
        let z = days + 719_468
        let era = z / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ x: Int) -> String { x < 10 ? "0\(x)" : "\(x)" }
        return "\(y)-\(two(m))-\(two(d)) \(two(rem / 3600)):\(two(rem % 3600 / 60)):\(two(rem % 60))"
    }
}

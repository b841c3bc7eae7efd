/// The pure half of `coop-edge replay`: parse a `timestamp,value` CSV held in memory, run a
/// `ChannelDetector` over it, and produce `timestamp,value,score,alert` bytes. No I/O: the command reads
/// and writes the files. One output row per input row (blank lines are not rows, as in Python's csv);
/// a row that cannot be read is reported with its line number and still gets an output row with an
/// empty value and score 0; its alert column keeps the detector's state (an alert open before a
/// missing reading is still open on it: a gap must not split one episode into two).
///
/// Costs: one pass over the bytes, no per-row allocation (hand-written fixed-format timestamp and
/// decimal parsers); output bytes are reserved up front.
public enum ReplayCSV {
    /// A row that could not be read. `line` is the 1-based line number in the file.
    public struct Problem: Sendable, Hashable {
        public var line: Int
        public var message: String
        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }
    }

    /// What parsing one data line yields.
    public enum Row: Sendable, Hashable {
        /// Both fields read. `value` nil means the sensor had no reading (empty field or `nan`).
        case ok(time: Double, value: Double?)
        /// The timestamp is unreadable; nothing can be fed to the detector.
        case badTimestamp(String)
        /// The timestamp is fine but the value is not a number.
        case badValue(time: Double, text: String)
    }

    public struct Result: Sendable {
        public var output: [UInt8]
        public var rows: Int
        public var alertRows: Int
        public var problems: [Problem]
        /// Alert events in order, for a summary.
        public var events: [AlertEvent]
    }

    public static let outputHeader = "timestamp,value,score,alert"

    // MARK: - Whole file

    /// Replays a whole CSV file's bytes. `config` nil picks `DetectorConfig.defaults(for: kind)` with
    /// the sample interval estimated from the first timestamps.
    public static func replay(_ input: [UInt8], kind: ChannelKind, config: DetectorConfig? = nil, channel: String = "") -> Result {
        input.withUnsafeBufferPointer { replay(bytes: $0, kind: kind, config: config, channel: channel) }
    }

    public static func replay(
        bytes: UnsafeBufferPointer<UInt8>, kind: ChannelKind, config: DetectorConfig? = nil, channel: String = ""
    ) -> Result {
        let cfg = config ?? DetectorConfig.defaults(for: kind, sampleInterval: estimateInterval(bytes))
        var judge = DetectorJudge(detector: ChannelDetector(channel: channel, config: cfg))
        return replay(bytes: bytes, judge: &judge)
    }

    /// Replays a whole CSV file's bytes through `judge` (the detector alone, or the daemon's whole alert
    /// engine for a site's channel). With `judge.hasRuleColumn` the output has a fifth column, `rules`:
    /// 1 while one of the site's farmer rules is active.
    public static func replay<J: ReplayJudge>(bytes: UnsafeBufferPointer<UInt8>, judge: inout J) -> Result {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 2 + 64)
        out.append(contentsOf: Array(outputHeader.utf8))
        if judge.hasRuleColumn { out.append(contentsOf: Array(",rules".utf8)) }
        out.append(0x0A)
        var problems: [Problem] = []
        var events: [AlertEvent] = []
        var rows = 0
        var alertRows = 0
        var lineNo = 0
        var start = 0
        let n = bytes.count
        var sawHeader = false
        while start < n {
            var end = start
            while end < n && bytes[end] != 0x0A { end += 1 }
            let next = end + 1
            var lineEnd = end
            if lineEnd > start && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            lineNo += 1
            defer { start = next }
            if !sawHeader {
                sawHeader = true
                if !isHeader(bytes, start, lineEnd) {
                    problems.append(Problem(line: lineNo, message: "header is not 'timestamp,value'; treating line 1 as the header"))
                }
                continue
            }
            if isBlank(bytes, start, lineEnd) { continue }
            rows += 1
            var comma = start
            while comma < lineEnd && bytes[comma] != 0x2C { comma += 1 }
            let tsEnd = comma
            let valueStart = min(comma + 1, lineEnd)
            var valueEnd = valueStart
            while valueEnd < lineEnd && bytes[valueEnd] != 0x2C { valueEnd += 1 }
            let row = parseFields(bytes, tsStart: start, tsEnd: tsEnd, valueStart: valueStart, valueEnd: valueEnd, hasComma: comma < lineEnd)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<tsEnd]))
            out.append(0x2C)
            switch row {
            case .ok(let time, let value):
                let o = judge.judge(time: time, value: value)
                events.append(contentsOf: o.events)
                if value != nil {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[valueStart..<valueEnd]))
                } else {
                    problems.append(Problem(line: lineNo, message: "no value (empty or nan)"))
                }
                out.append(0x2C)
                if value != nil {
                    NumberText.append(o.score, decimals: 3, to: &out)
                } else {
                    out.append(0x30)
                }
                // The alert column says whether an alert is open at this row: a missing reading
                // neither ends one nor starts one, so one episode stays one run of alert rows.
                out.append(0x2C)
                out.append(o.alert ? 0x31 : 0x30)
                if o.alert { alertRows += 1 }
                if judge.hasRuleColumn { out.append(contentsOf: [0x2C, o.rules ? 0x31 : 0x30]) }
            case .badValue(let time, let text):
                let o = judge.judge(time: time, value: nil)
                events.append(contentsOf: o.events)
                problems.append(Problem(line: lineNo, message: "unreadable value '\(text)'"))
                out.append(contentsOf: [0x2C, 0x30, 0x2C, o.alert ? 0x31 : 0x30])
                if o.alert { alertRows += 1 }
                if judge.hasRuleColumn { out.append(contentsOf: [0x2C, o.rules ? 0x31 : 0x30]) }
            case .badTimestamp(let text):
                problems.append(Problem(line: lineNo, message: "unreadable timestamp '\(text)' (expected YYYY-MM-DD HH:MM:SS)"))
                out.append(contentsOf: [0x2C, 0x30, 0x2C, 0x30])
                if judge.hasRuleColumn { out.append(contentsOf: [0x2C, 0x30]) }
            }
            out.append(0x0A)
        }
        if !sawHeader {
            problems.append(Problem(line: 1, message: "empty file"))
        }
        return Result(output: out, rows: rows, alertRows: alertRows, problems: problems, events: events)
    }

    // MARK: - One line

    /// Parses one data line (`timestamp,value`, no line break). Extra fields are ignored.
    public static func parseLine(_ line: String) -> Row {
        var copy = line
        return copy.withUTF8 { b in
            var end = b.count
            if end > 0 && b[end - 1] == 0x0D { end -= 1 }
            var comma = 0
            while comma < end && b[comma] != 0x2C { comma += 1 }
            let vs = min(comma + 1, end)
            var ve = vs
            while ve < end && b[ve] != 0x2C { ve += 1 }
            return parseFields(b, tsStart: 0, tsEnd: comma, valueStart: vs, valueEnd: ve, hasComma: comma < end)
        }
    }

    static func parseFields(
        _ b: UnsafeBufferPointer<UInt8>, tsStart: Int, tsEnd: Int, valueStart: Int, valueEnd: Int, hasComma: Bool
    ) -> Row {
        guard let time = parseTimestamp(b, tsStart, tsEnd) else {
            return .badTimestamp(String(decoding: UnsafeBufferPointer(rebasing: b[tsStart..<tsEnd]), as: UTF8.self))
        }
        var s = valueStart
        var e = valueEnd
        while s < e && (b[s] == 0x20 || b[s] == 0x09) { s += 1 }
        while e > s && (b[e - 1] == 0x20 || b[e - 1] == 0x09) { e -= 1 }
        if !hasComma || s == e { return .ok(time: time, value: nil) }
        guard let v = parseNumber(b, s, e) else {
            return .badValue(time: time, text: String(decoding: UnsafeBufferPointer(rebasing: b[s..<e]), as: UTF8.self))
        }
        return .ok(time: time, value: v.isNaN ? nil : v)
    }

    // MARK: - Fields

    /// Parses `YYYY-MM-DD HH:MM:SS` (or with `T`, optional trailing `Z`) as UTC seconds since the epoch.
    public static func parseTimestamp(_ text: String) -> Double? {
        var copy = text
        return copy.withUTF8 { parseTimestamp($0, 0, $0.count) }
    }

    static func parseTimestamp(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
        var s = start
        var e = end
        while s < e && b[s] == 0x20 { s += 1 }
        while e > s && b[e - 1] == 0x20 { e -= 1 }
        if e - s == 20 && b[e - 1] == 0x5A { e -= 1 }
        guard e - s == 19 else { return nil }
        @inline(__always) func d(_ i: Int) -> Int? {
            let c = b[s + i]
            return c >= 0x30 && c <= 0x39 ? Int(c - 0x30) : nil
        }
        guard b[s + 4] == 0x2D, b[s + 7] == 0x2D, b[s + 10] == 0x20 || b[s + 10] == 0x54,
              b[s + 13] == 0x3A, b[s + 16] == 0x3A,
              let y0 = d(0), let y1 = d(1), let y2 = d(2), let y3 = d(3),
              let m0 = d(5), let m1 = d(6), let d0 = d(8), let d1 = d(9),
              let h0 = d(11), let h1 = d(12), let i0 = d(14), let i1 = d(15), let s0 = d(17), let s1 = d(18)
        else { return nil }
        let year = y0 * 1000 + y1 * 100 + y2 * 10 + y3
        let month = m0 * 10 + m1
        let day = d0 * 10 + d1
        let hour = h0 * 10 + h1
        let minute = i0 * 10 + i1
        let second = s0 * 10 + s1
        guard month >= 1, month <= 12, day >= 1, day <= daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 60 else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Double(days * 86_400 + hour * 3600 + minute * 60 + second)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static let pow10: [Double] = [
        1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
        1e19, 1e20, 1e21, 1e22,
    ]

    /// Parses a decimal number. The common form (`-12.345`, at most 15 significant digits) is exact
    /// and allocation-free: an integer mantissa divided by an exact power of ten is correctly rounded.
    /// Anything else (exponents, `nan`, `inf`, long mantissas) goes through the standard library.
    public static func parseNumber(_ text: String) -> Double? {
        var copy = text
        return copy.withUTF8 { parseNumber($0, 0, $0.count) }
    }

    static func parseNumber(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
        guard start < end else { return nil }
        var i = start
        var negative = false
        if b[i] == 0x2D { negative = true; i += 1 } else if b[i] == 0x2B { i += 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var fraction = 0
        var seenDot = false
        var fast = i < end
        while i < end {
            let c = b[i]
            if c >= 0x30 && c <= 0x39 {
                if digits < 15 {
                    mantissa = mantissa &* 10 &+ UInt64(c - 0x30)
                    if mantissa != 0 { digits += 1 }
                    if seenDot { fraction += 1 }
                } else {
                    fast = false
                    break
                }
            } else if c == 0x2E && !seenDot {
                seenDot = true
            } else {
                fast = false
                break
            }
            i += 1
        }
        if fast && (i - start) > (negative ? 1 : 0) + (seenDot ? 1 : 0) && fraction < pow10.count {
            let v = Double(mantissa) / pow10[fraction]
            return negative ? -v : v
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self)
        return Double(text)
    }

    // MARK: - Helpers

    private static func isHeader(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var s = start
        if end - s >= 3 && b[s] == 0xEF && b[s + 1] == 0xBB && b[s + 2] == 0xBF { s += 3 }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[s..<end]), as: UTF8.self)
        let fields = text.lowercased().split(separator: ",").map { $0.trimmingSpaces }
        return fields.count >= 2 && fields[0] == "timestamp" && fields[1] == "value"
    }

    private static func isBlank(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var i = start
        while i < end {
            if b[i] != 0x20 && b[i] != 0x09 { return false }
            i += 1
        }
        return true
    }

    /// Median of the first positive timestamp differences (up to 32 rows), or nil.
    public static func estimateInterval(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        var times: [Double] = []
        var start = 0
        var line = 0
        while start < b.count && times.count < 33 {
            var end = start
            while end < b.count && b[end] != 0x0A { end += 1 }
            line += 1
            if line > 1 {
                var comma = start
                while comma < end && b[comma] != 0x2C { comma += 1 }
                if let t = parseTimestamp(b, start, comma) { times.append(t) }
            }
            start = end + 1
        }
        var diffs: [Double] = []
        for k in times.indices.dropFirst() where times[k] > times[k - 1] { diffs.append(times[k] - times[k - 1]) }
        guard !diffs.isEmpty else { return nil }
        diffs.sort()
        return diffs[diffs.count / 2]
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\u{FEFF}" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}

import Detection
import Testing

@Suite("Replay CSV")
struct ReplayTests {
    @Test("timestamps parse as UTC, by hand")
    func timestamps() {
        #expect(ReplayCSV.parseTimestamp("2026-03-01 00:00:00") == 1_772_323_200)
        #expect(ReplayCSV.parseTimestamp("1970-01-01 00:00:01") == 1)
        #expect(ReplayCSV.parseTimestamp("2024-02-29 23:59:59") == 1_709_251_199)
        #expect(ReplayCSV.parseTimestamp("2026-03-01T00:00:30Z") == 1_772_323_230)
        #expect(ReplayCSV.parseTimestamp("2023-02-29 00:00:00") == nil)
        #expect(ReplayCSV.parseTimestamp("2026-13-01 00:00:00") == nil)
        #expect(ReplayCSV.parseTimestamp("yesterday") == nil)
    }

    @Test("numbers parse exactly in the fast path and through the fallback")
    func numbers() {
        #expect(ReplayCSV.parseNumber("4.156") == 4.156)
        #expect(ReplayCSV.parseNumber("-17.829") == -17.829)
        #expect(ReplayCSV.parseNumber("1447.976") == 1447.976)
        #expect(ReplayCSV.parseNumber("85") == 85)
        #expect(ReplayCSV.parseNumber("1e3") == 1000)
        #expect(ReplayCSV.parseNumber("0.1") == 0.1)
        #expect(ReplayCSV.parseNumber("abc") == nil)
        #expect(ReplayCSV.parseNumber("-") == nil)
        #expect(ReplayCSV.parseNumber(".") == nil)
        if case .ok(_, let v) = ReplayCSV.parseLine("2026-03-01 00:00:00,nan") { #expect(v == nil) } else { Issue.record("nan row") }
        #expect(ReplayCSV.parseLine("2026-03-01 00:00:00,x1") == .badValue(time: 1_772_323_200, text: "x1"))
        #expect(ReplayCSV.parseLine("bad,1") == .badTimestamp("bad"))
    }

    @Test("bad rows are reported with their line numbers and still get one output row each")
    func badRows() {
        let input = """
            timestamp,value
            2026-03-01 00:00:00,4.1
            2026-03-01 00:01:00,oops
            not-a-time,4.2

            2026-03-01 00:03:00,
            2026-03-01 00:04:00,4.3\r
            2026-03-01 00:05:00,4.4
            """
        let r = ReplayCSV.replay(Array(input.utf8), kind: .coldRoom)
        let lines = String(decoding: r.output, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "timestamp,value,score,alert")
        #expect(r.rows == 6)
        #expect(lines.count == 1 + 6 + 1 && lines.last == "")
        #expect(lines[1] == "2026-03-01 00:00:00,4.1,0.000,0")
        #expect(lines[2] == "2026-03-01 00:01:00,,0,0")
        #expect(lines[3] == "not-a-time,,0,0")
        #expect(lines[4] == "2026-03-01 00:03:00,,0,0")
        #expect(lines[5] == "2026-03-01 00:04:00,4.3,0.000,0")
        #expect(r.problems.map(\.line) == [3, 4, 6])
        #expect(r.problems[0].message.contains("oops"))
        #expect(r.problems[1].message.contains("not-a-time"))
    }

    @Test("a missing reading inside an open alert keeps the alert column at 1: one episode stays one run")
    func gapInsideAnAlert() {
        var input = "timestamp,value\n"
        // A stuck-at-sentinel sensor raises at once; a missing reading in the middle must not split it.
        for m in 0..<30 { input += "2026-03-01 00:\(m < 10 ? "0" : "")\(m):00,4.0\n" }
        for m in 30..<40 { input += "2026-03-01 00:\(m):00,\(m == 35 ? "" : "85.0")\n" }
        let r = ReplayCSV.replay(Array(input.utf8), kind: .coldRoom)
        let rows = Array(String(decoding: r.output, as: UTF8.self).split(separator: "\n").dropFirst())
        let alert = rows.map { $0.hasSuffix(",1") }
        #expect(alert[31...39].allSatisfy { $0 }, "\(rows[29...39])")
        #expect(rows[35].hasPrefix("2026-03-01 00:35:00,,0,1"), "\(rows[35])")
        // Runs of alert rows = episodes, as score_traces.py counts them.
        let runs = zip([false] + alert, alert).filter { !$0 && $1 }.count
        #expect(runs == 1)
    }

    @Test("a whole trace with a sentinel gives one row per input row and alerts on the sentinel rows")
    func sentinelTrace() {
        var text = "timestamp,value\n"
        for i in 0..<600 {
            let v = (300..<320).contains(i) ? "85.000" : (i % 2 == 0 ? "3.500" : "3.620")
            let m = i % 60
            let h = i / 60
            text += "2026-03-01 \(h < 10 ? "0" : "")\(h):\(m < 10 ? "0" : "")\(m):00,\(v)\n"
        }
        let r = ReplayCSV.replay(Array(text.utf8), kind: .coldRoom)
        #expect(r.rows == 600)
        #expect(r.problems.isEmpty)
        let rows = Array(String(decoding: r.output, as: UTF8.self).split(separator: "\n").dropFirst())
        #expect(rows.count == 600)
        let alerts = rows.map { $0.hasSuffix(",1") }
        #expect(alerts[300] && alerts[319])
        #expect(!alerts[299])
        #expect(r.events.filter { $0.phase == .raise }.count == 1)
    }

    @Test("a directory is mirrored, CSV files only, kind inferred from file or folder names")
    func plan() {
        let paths = [
            "cold_room/a.csv", "scale/b.CSV", "soil_moisture/deep/c.csv", "misc/d.csv", "misc/notes.txt",
            ".hidden/e.csv", "field/scale_3.csv",
        ]
        let items = ReplayPlan.items(relativePaths: paths, kind: nil)
        #expect(items.map(\.input) == ["cold_room/a.csv", "field/scale_3.csv", "misc/d.csv", "scale/b.CSV", "soil_moisture/deep/c.csv"])
        #expect(items.allSatisfy { $0.input == $0.output })
        #expect(items.map(\.kind) == [.coldRoom, .weight, .generic, .weight, .soilMoisture])
        #expect(ReplayPlan.items(relativePaths: paths, kind: .generic).allSatisfy { $0.kind == .generic })
        #expect(ReplayPlan.inferKind(path: "x.csv", rootName: "cold_room") == .coldRoom)
    }
}

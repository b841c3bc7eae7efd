import Detection
import Foundation
import TraceLab

/// `coop-edge-bench sweep [--rooms N] [--seed S[,S…]] [--days D] [--kind K] [--write DIR]`: the trace
/// sweep of issue 8 (`TraceLab.Sweep`), printed as a table per kind, per physics band and per fault.
/// `--write DIR` also writes the traces as `coop-edge replay` input (CSV, labels.json, kinds.json) and
/// prints the Swift scorer's summary in `tools/score_traces.py`'s layout, to check the two agree.
enum SweepCommand {
    static func run(_ args: [String]) {
        func value(_ name: String) -> String? {
            guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
            return args[i + 1]
        }
        let rooms = value("--rooms").flatMap(Int.init) ?? 100
        let seeds = (value("--seed") ?? "1").split(separator: ",").compactMap { UInt64($0) }
        let days = value("--days").flatMap(Double.init) ?? 7
        let kinds = value("--kind").map { k in ChannelKind.allCases.filter { $0.rawValue == k || (k == "scale" && $0 == .weight) } }
            ?? ChannelKind.allCases
        if args.contains("--explain") {
            for kind in kinds { SweepExplain.run(kind: kind, rooms: rooms, seeds: seeds, days: days) }
            return
        }
        if let dir = value("--write") {
            write(dir: dir, kinds: kinds, rooms: rooms, seed: seeds.first ?? 1, days: days)
            return
        }
        let clock = ContinuousClock()
        let start = clock.now
        let sweep = Sweep(kinds: kinds, rooms: rooms, seeds: seeds, days: days)
        let elapsed = clock.now - start
        print(sweep.table)
        print("\(sweep.traces) traces in \(elapsed) (generation, detection, scoring)")
    }

    private static func write(dir: String, kinds: [ChannelKind], rooms: Int, seed: UInt64, days: Double) {
        var labels: [String] = []
        var kindsJSON: [String] = []
        var perKind: [String: TraceScore] = [:]
        var byFault = TraceScore()
        for kind in kinds {
            for index in 0..<rooms {
                let t = TraceGenerator.trace(kind: kind, seed: seed, index: index, days: days)
                let key = TraceFiles.key(t)
                let path = dir + "/" + key
                try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                _ = FileManager.default.createFile(atPath: path, contents: Data(TraceFiles.csv(t).utf8))
                let e = TraceFiles.jsonEntries(t)
                labels.append(e.labels)
                kindsJSON.append(e.kinds)
                let alert = t.alertRows()
                let score = TraceScore(trace: t, alert: alert)
                // The result CSV as `coop-edge replay` writes it (score column not used by the scorer).
                var result = "timestamp,value,score,alert\n"
                for i in 0..<t.count {
                    result += TraceFiles.timestamp(t.time(at: i)) + "," + (t.values[i].map { String(format: "%.3f", $0) } ?? "") + ",0," + (alert[i] ? "1" : "0") + "\n"
                }
                let resultPath = dir + "-results/" + key
                try? FileManager.default.createDirectory(atPath: (resultPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                _ = FileManager.default.createFile(atPath: resultPath, contents: Data(result.utf8))
                perKind[String(key.split(separator: "/")[0]), default: TraceScore()].add(score)
                byFault.add(score)
            }
        }
        _ = FileManager.default.createFile(atPath: dir + "/labels.json", contents: Data(("{\n" + labels.joined(separator: ",\n") + "\n}\n").utf8))
        _ = FileManager.default.createFile(atPath: dir + "/kinds.json", contents: Data(("{\n" + kindsJSON.joined(separator: ",\n") + "\n}\n").utf8))
        print("wrote \(labels.count) traces to \(dir) and the detector's alert rows to \(dir)-results; the Swift scorer says:")
        for (k, t) in perKind.sorted(by: { $0.key < $1.key }) + [("all", byFault)] {
            let share = t.outsideRows > 0 ? Double(t.outsideAlertRows) / Double(t.outsideRows) : 0
            print(k.padding(toLength: 15, withPad: " ", startingAt: 0), "\(t.detected)/\(t.windows)",
                  String(format: "%7.2f %14.2f %20.4f %17.1f", t.recall, t.falsePerWeek, share, t.medianDelay))
        }
        for (f, v) in byFault.byFault.sorted(by: { $0.key < $1.key }) {
            print(f.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0), "\(v.detected)/\(v.windows)",
                  String(format: "%17.1f", TraceScore.median(v.delays)))
        }
        print("compressor failures alerted before 8 °C: \(byFault.before8.caught)/\(byFault.before8.of)")
    }
}

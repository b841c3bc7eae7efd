import Foundation
import Testing

/// `coop-edge replay` as a user runs it: files in, files out.
struct ReplayCommandTests {
    @Test("a directory is mirrored, every input row gets an output row, and bad rows are reported with file and line")
    func directoryMirrorAndBadRows() async throws {
        let dir = try TempDir()
        try FileManager.default.createDirectory(atPath: dir.path + "/in/cold_room", withIntermediateDirectories: true)
        var csv = "timestamp,value\n"
        for i in 0..<300 {
            let m = i % 60, h = i / 60
            csv += "2026-03-01 0\(h):\(m < 10 ? "0" : "")\(m):00,\(i == 7 ? "oops" : String(3.5 + Double(i % 20) / 20))\n"
        }
        _ = try dir.write("in/cold_room/room1.csv", csv)
        let (rc, out) = try await coopEdge(["replay", "--input", dir.path + "/in", "--output", dir.path + "/out"])
        #expect(rc == 0, "\(out)")
        #expect(out.contains("cold_room/room1.csv:9"), "the bad row is on line 9 of the file: \(out)")
        let result = try String(contentsOfFile: dir.path + "/out/cold_room/room1.csv", encoding: .utf8)
        let lines = result.split(separator: "\n")
        #expect(lines.first == "timestamp,value,score,alert")
        #expect(lines.count == 301)
        #expect(lines.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 4 })
    }

    @Test("--config and --channel replay with the daemon's own settings for that channel")
    func usesSiteSettings() async throws {
        let dir = try TempDir()
        let site = try writeSite(dir, modbusPort: 1502, brokerPort: 1883, poll: "1m")
        var csv = "timestamp,value\n"
        for i in 0..<120 { csv += "2026-03-01 \(i / 60 < 10 ? "0" : "")\(i / 60):\(i % 60 < 10 ? "0" : "")\(i % 60):00,\(i == 100 ? "3276.7" : String(3.5 + Double(i % 7) / 10))\n" }
        let input = try dir.write("t.csv", csv)
        let (rc, out) = try await coopEdge(["replay", "--input", input, "--output", dir.path + "/o.csv", "--config", site,
                                            "--channel", "cold-room-1.temperature", "--kind", "cold_room", "--events"])
        #expect(rc == 0, "\(out)")
        // 3276.7 °C is the profile's 0x7FFF sentinel scaled by 0.1: the site's settings know it.
        #expect(out.contains("sentinel"), "\(out)")
        let (bad, message) = try await coopEdge(["replay", "--input", input, "--output", dir.path + "/o.csv", "--config", site, "--channel", "cold-room-9.temperature"])
        #expect(bad != 0)
        #expect(message.contains("no channel 'cold-room-9.temperature'"), "\(message)")
    }

    @Test("replay is the daemon: --config makes the decisions --kind makes, runs the farmer's rules too, and prints times as timestamps")
    func configMatchesKind() async throws {
        let dir = try TempDir()
        let site = try writeSite(dir, modbusPort: 1502, brokerPort: 1883, poll: "2s", extra: """
            alerts:
              - { channel: cold-room-1.temperature, above: 8.0, for: 15m, severity: critical }
            """)
        // The daemon watches cold-room-1's temperature as a cold room.
        let text = try String(contentsOfFile: site, encoding: .utf8)
        try text.replacingOccurrences(of: "slave: 3, profile: th-transmitter, poll: 2s }",
                                      with: "slave: 3, profile: th-transmitter, poll: 2s, detect: { temperature: cold_room } }")
            .write(toFile: site, atomically: true, encoding: .utf8)
        // Three days of a chiller at 3.5 °C sampled every minute, with a 25-minute defrost every 6 h;
        // its compressor fails on the third morning and the room warms 0.25 °C a minute.
        var csv = "timestamp,value\n"
        let fail = 2 * 86_400 + 6 * 3600
        for i in 0..<(3 * 1440) {
            let t = i * 60
            var v = 3.5 + 0.5 * sin(2 * Double.pi * Double(t) / 1200) + Double((i * 7919) % 11 - 5) / 100
            let into = (t - 1800 + 21_600) % 21_600
            if into < 1500 { v += 3 * min(1, Double(into) / 600) } else if into < 2400 { v += 3 * exp(-Double(into - 1500) / 300) }
            if t >= fail { v = max(v, 3.5 + 0.25 * Double(t - fail) / 60) }
            let day = 1 + t / 86_400, h = t / 3600 % 24, m = t / 60 % 60
            csv += "2026-03-0\(day) \(h < 10 ? "0" : "")\(h):\(m < 10 ? "0" : "")\(m):00,\(String(format: "%.2f", v))\n"
        }
        let input = try dir.write("room.csv", csv)
        let (rcKind, byKind) = try await coopEdge(["replay", "--input", input, "--output", dir.path + "/kind.csv", "--kind", "cold_room", "--events"])
        let (rcSite, bySite) = try await coopEdge(["replay", "--input", input, "--output", dir.path + "/site.csv", "--config", site,
                                                   "--channel", "cold-room-1.temperature", "--events"])
        #expect(rcKind == 0 && rcSite == 0, "\(byKind)\n\(bySite)")
        let kindRows = try String(contentsOfFile: dir.path + "/kind.csv", encoding: .utf8).split(separator: "\n")
        let siteRows = try String(contentsOfFile: dir.path + "/site.csv", encoding: .utf8).split(separator: "\n")
        #expect(siteRows.first == "timestamp,value,score,alert,rules")
        #expect(kindRows.count == siteRows.count)
        // Row by row, the detector's score and alert are the same.
        let differing = zip(kindRows, siteRows).dropFirst().filter { k, s in
            k.split(separator: ",").prefix(4) != s.split(separator: ",").prefix(4)
        }
        #expect(differing.isEmpty, "\(differing.count) rows differ, first: \(differing.first.map { "\($0.0) vs \($0.1)" } ?? "")")
        #expect(kindRows.dropFirst().contains { $0.hasSuffix(",1") }, "the failure is an alert episode")
        // The site polls every 2 s but the recording is per minute: said, and judged per minute.
        #expect(bySite.contains("recorded every 60 s, the site polls every 2 s"), "\(bySite)")
        // The compressor failure is caught, in words, at a timestamp, before the room reaches 8 °C
        // (2026-03-03 06:18 at 0.25 °C/min from 3.5 °C); the farmer's rule follows later.
        let raise = try #require(bySite.split(separator: "\n").first { $0.contains("raise rate critical") })
        #expect(raise.hasPrefix("  2026-03-03 06:"), "\(raise)")
        #expect(raise.contains("cold-room-1.temperature is warming"), "\(raise)")
        let minute = Int(raise.dropFirst(16).prefix(2)) ?? 99
        #expect(minute < 18, "\(raise)")
        #expect(bySite.contains("raise threshold critical: cold-room-1.temperature has been above 8.0°C for 15 min"), "\(bySite)")
        #expect(siteRows.dropFirst().contains { $0.hasSuffix(",1") }, "the rules column shows the farmer's rule active")
        // The defrosts (to about 7 °C) raise nothing in either replay before the failure.
        #expect(!byKind.contains("2026-03-01") && !byKind.contains("2026-03-02"), "\(byKind)")
    }
}

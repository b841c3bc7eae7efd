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
}

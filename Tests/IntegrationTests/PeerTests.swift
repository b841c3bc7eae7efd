import Foundation
import Testing

/// Our Modbus client against an independent implementation (pymodbus from Debian), so that our
/// client and our simulator cannot share a mistake unnoticed.
@Suite(.serialized)
struct PeerTests {
    static let profile = """
        model: known values served by pymodbus (Tests/IntegrationTests/Peers/pymodbus_server.py)
        channels:
          i16:    { function: holding, address: 0, type: i16, scale: 0.1 }
          u16:    { function: holding, address: 1, type: u16 }
          i32:    { function: holding, address: 2, type: i32, order: CDAB, scale: 0.01 }
          f32:    { function: holding, address: 4, type: f32 }
          f32le:  { function: holding, address: 6, type: f32, order: DCBA }
          u32:    { function: holding, address: 8, type: u32, order: BADC }
          f64:    { function: holding, address: 10, type: f64 }
          i64:    { function: holding, address: 14, type: i64 }
          nodata: { function: holding, address: 18, type: i16, sentinels: [0x7FFF] }
          temp:   { function: input, address: 0, type: i16, scale: 0.1, unit: "°C" }
          rh:     { function: input, address: 1, type: u16, scale: 0.1, valid: [0, 50] }
          coil:   { function: coil, address: 3 }
          di:     { function: discrete, address: 5 }
          beyond: { function: holding, address: 100, type: u16 }
        """

    @Test("a pymodbus server's known registers decode to the values it packed, for every type and word order")
    func pymodbusValuesDecode() async throws {
        let dir = try TempDir()
        try FileManager.default.createDirectory(atPath: dir.path + "/profiles", withIntermediateDirectories: true)
        _ = try dir.write("profiles/peer.yaml", Self.profile)
        let port = try freePort()
        let script = Binaries.repoRoot + "/Tests/IntegrationTests/Peers/pymodbus_server.py"
        let server = try TestProcess("/usr/bin/python3", [script, "\(port)"], name: "pymodbus")
        try await server.waitForLine(timeout: .seconds(20), "pymodbus ready") { $0 == "ready" }
        let site = try dir.write("site.yaml", """
            coop: c
            site: s
            profiles_dir: profiles
            broker: { url: "mqtt://127.0.0.1:1" }
            storage: { path: \(dir.path)/o.sqlite }
            buses: [ { name: b, tcp: { host: 127.0.0.1, port: \(port) } } ]
            devices: [ { name: peer, bus: b, slave: 7, profile: peer, poll: 1s } ]
            """)
        let (rc, out) = try await coopEdge(["read", "--config", site, "peer", "--json"])
        #expect(rc == 0, "\(out)")
        let line = try #require(out.split(separator: "\n").first { $0.hasPrefix("{") })
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let readings = try #require(json["readings"] as? [String: [String: Any]])
        let expected: [String: Double] = [
            "i16": -12.3, "u16": 65000, "i32": -20000, "f32": 21.5, "f32le": -3.25, "u32": 4_000_000_000,
            "f64": 1234.5678, "i64": -9_000_000_000, "temp": 21.5, "coil": 1, "di": 1,
        ]
        for (channel, value) in expected {
            #expect(readings[channel]?["value"] as? Double == value, "\(channel): got \(readings[channel]?["value"] ?? "nil"), want \(value)")
            #expect(readings[channel]?["quality"] as? String == "good", "\(channel)")
        }
        // 55.0 %RH is outside the profile's valid [0, 50]: published, but flagged.
        #expect(readings["rh"]?["value"] as? Double == 55)
        #expect(readings["rh"]?["quality"] as? String == "out_of_range")
        // The firmware's "no reading" marker is a missing value, not 32767.
        #expect(readings["nodata"]?["value"] is NSNull)
        #expect(readings["nodata"]?["quality"] as? String == "sentinel")
        // An address the device does not have: a Modbus exception, reported as such.
        #expect(readings["beyond"]?["value"] is NSNull)
        #expect(readings["beyond"]?["quality"] as? String == "comm_fault")
        #expect((readings["beyond"]?["fault"] as? String)?.contains("exception 2") == true, "\(readings["beyond"] ?? [:])")
        server.stop(signal: SIGKILL)
    }

    @Test("over RTU: a pymodbus serial slave on a socat pty pair reads the same values; an absent slave times out")
    func pymodbusOverRTU() async throws {
        let dir = try TempDir()
        try FileManager.default.createDirectory(atPath: dir.path + "/profiles", withIntermediateDirectories: true)
        _ = try dir.write("profiles/peer.yaml", Self.profile)
        let (master, slave) = (dir.path + "/ttyMaster", dir.path + "/ttySlave")
        let line = try TestProcess("/usr/bin/socat", ["pty,raw,echo=0,link=\(master)", "pty,raw,echo=0,link=\(slave)"], name: "socat")
        try await waitUntil(timeout: .seconds(10), "the pty pair") {
            FileManager.default.fileExists(atPath: master) && FileManager.default.fileExists(atPath: slave) ? true : nil
        }
        let script = Binaries.repoRoot + "/Tests/IntegrationTests/Peers/pymodbus_server.py"
        let server = try TestProcess("/usr/bin/python3", [script, "--rtu", slave], name: "pymodbus-rtu")
        try await server.waitForLine(timeout: .seconds(20), "pymodbus ready") { $0 == "ready" }
        let site = try dir.write("site.yaml", """
            coop: c
            site: s
            profiles_dir: profiles
            broker: { url: "mqtt://127.0.0.1:1" }
            storage: { path: \(dir.path)/o.sqlite }
            buses: [ { name: shed, rtu: { device: \(master), baud: 9600, parity: N, stop_bits: 1 }, response_timeout_ms: 400, inter_frame_delay_ms: 5 } ]
            devices:
              - { name: peer, bus: shed, slave: 7, profile: peer, poll: 1s }
              - { name: ghost, bus: shed, slave: 9, profile: peer, poll: 1s }
            """)
        let (rc, out) = try await coopEdge(["read", "--config", site, "peer", "--json"])
        #expect(rc == 0, "\(out)")
        let json = try #require(out.split(separator: "\n").first { $0.hasPrefix("{") }.flatMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        })
        let readings = try #require(json["readings"] as? [String: [String: Any]])
        for (channel, value) in ["i16": -12.3, "i32": -20000, "f32le": -3.25, "u32": 4_000_000_000, "f64": 1234.5678, "temp": 21.5] as [String: Double] {
            #expect(readings[channel]?["value"] as? Double == value, "\(channel): \(readings[channel] ?? [:])")
        }
        let (ghostRC, ghost) = try await coopEdge(["read", "--config", site, "ghost"])
        #expect(ghostRC == 2, "no channel of an absent slave can be read")
        #expect(ghost.contains("comm_fault: timeout"), "\(ghost)")
        server.stop(signal: SIGKILL)
        line.stop(signal: SIGKILL)
    }
}

/// `coop-edge scan` finds exactly the slaves the simulated gateway serves.
struct ScanTests {
    @Test("scan lists the slave ids behind a gateway and nothing else")
    func scanFindsServedSlaves() async throws {
        let dir = try TempDir()
        let port = try freePort()
        let site = try writeSite(dir, modbusPort: port, brokerPort: 1)
        let sim = try await Simulator(site: site, port: port)
        let (rc, out) = try await coopEdge(["scan", "--config", site, "--bus", "gw", "--from", "1", "--to", "8", "--timeout-ms", "100"])
        #expect(rc == 0, "\(out)")
        let answering = out.split(separator: "\n").filter { $0.hasPrefix("slave ") }.compactMap { Int($0.split(separator: " ")[1].dropLast()) }
        #expect(answering == [1, 3, 4, 5], "\(out)")
        _ = sim
    }
}

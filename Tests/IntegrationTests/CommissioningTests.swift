import Foundation
import Testing

/// Issue 11, "commissioning on RS-485": the simulator speaks RTU on a pty, at a baud rate that is not
/// the default; `coop-edge scan --port` finds the setting and the devices and names their profiles;
/// `read` works by port, slave and profile; an independent master (pymodbus) reads the same line;
/// and the agent polls it end to end.
@Suite(.serialized)
struct CommissioningTests {
    static func site(_ dir: TempDir, link: String, brokerPort: Int = 1, baud: Int = 19200) throws -> String {
        try dir.write("site.yaml", """
            coop: test-coop
            site: farm-1
            profiles_dir: \(Binaries.profiles)
            broker: { url: "mqtt://127.0.0.1:\(brokerPort)", client_id: rtu-\(brokerPort) }
            storage: { path: \(dir.path)/outbox.sqlite }
            buses:
              - { name: shed, rtu: { device: \(link), baud: \(baud), parity: N, stop_bits: 1 }, response_timeout_ms: 200 }
            devices:
              - { name: room-1, bus: shed, slave: 3, profile: th-transmitter, poll: 500ms }
              - { name: field-soil, bus: shed, slave: 5, profile: soil-probe, poll: 500ms }
            """)
    }

    static func simulator(_ site: String, link: String) async throws -> (TestProcess, [String: [String: Double]]) {
        let sim = try TestProcess(try Binaries.path("coop-edge-sim"), ["--site", site, "--rtu", link, "--hold", "--seed", "7"], name: "sim-rtu")
        try await sim.waitForLine(timeout: .seconds(10), "listening") { $0.hasPrefix("listening") }
        let line = try #require(sim.output.first { $0.hasPrefix("values ") })
        let values = try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst(7).utf8)) as? [String: [String: Double]])
        return (sim, values)
    }

    @Test("scan over a simulated RTU line at 19200 baud: the setting, both slaves and their profiles")
    func scanFindsSettingDevicesAndProfiles() async throws {
        let dir = try TempDir()
        let link = dir.path + "/ttyBus"
        let site = try Self.site(dir, link: link)
        let (sim, served) = try await Self.simulator(site, link: link)
        let (rc, out) = try await coopEdge(["scan", "--port", link, "--to", "6", "--bauds", "9600,19200", "--framings", "8N1",
                                            "--profiles", Binaries.profiles])
        #expect(rc == 0, "\(out)")
        #expect(out.contains("at 19200 8N1:"), "\(out)")
        #expect(!out.contains("at 9600 8N1:"), "nothing answers at the wrong speed: \(out)")
        let lines = out.split(separator: "\n").map(String.init)
        let room = try #require(lines.firstIndex { $0.contains("slave 3: answers") }, "\(out)")
        #expect(lines[room + 1].contains("reads cleanly as th-transmitter") && lines[room + 1].contains("temperature \(served["room-1"]?["temperature"] ?? .nan) °C"), "\(out)")
        let soil = try #require(lines.firstIndex { $0.contains("slave 5: answers") }, "\(out)")
        #expect(lines[(soil + 1)...].prefix { !$0.contains("slave") }.contains { $0.contains("reads cleanly as soil-probe") }, "\(out)")
        #expect(!lines.contains { $0.contains("slave 4") || $0.contains("slave 1:") }, "only the simulated slaves answer: \(out)")

        // read, ad hoc by port: at the right speed the values, at the profile's default (9600) a timeout.
        let (ok, values) = try await coopEdge(["read", "--port", link, "--slave", "5", "--profile", "soil-probe", "--baud", "19200", "--profiles", Binaries.profiles])
        #expect(ok == 0 && values.contains("moisture         \(served["field-soil"]?["moisture"] ?? .nan) %VWC  [good]"), "\(values)")
        let (wrong, silent) = try await coopEdge(["read", "--port", link, "--slave", "5", "--profile", "soil-probe", "--profiles", Binaries.profiles])
        #expect(wrong == 2 && silent.contains("comm_fault: timeout"), "\(silent)")
        _ = sim
    }

    @Test("an independent master (pymodbus) reads the simulated RTU line: the words encode the values the simulator serves")
    func pymodbusReadsTheRTULine() async throws {
        let dir = try TempDir()
        let link = dir.path + "/ttyBus"
        let site = try Self.site(dir, link: link)
        let (sim, served) = try await Self.simulator(site, link: link)
        let script = Binaries.repoRoot + "/Tests/IntegrationTests/Peers/rtu_read.py"
        let reader = try TestProcess("/usr/bin/python3", [script, link, "19200", "3", "input", "1", "2"], name: "pymodbus-rtu")
        try await waitUntil(timeout: .seconds(30), "pymodbus's answer") { reader.finished ? true : nil }
        // The answer line (pymodbus may log to the same output before or after it).
        let words = reader.output.reversed().map { $0.split(separator: " ").compactMap { Int($0) } }.first { $0.count == 2 } ?? []
        #expect(words.count == 2, "\(reader.output)")
        // th-transmitter: input 1 = temperature i16 ×0.1, input 2 = humidity u16 ×0.1 (decoded here, not by our codec).
        if words.count == 2 {
            let temperature = Double(Int16(bitPattern: UInt16(words[0]))) / 10, humidity = Double(words[1]) / 10
            #expect(abs(temperature - (served["room-1"]?["temperature"] ?? .nan)) < 1e-9 && abs(humidity - (served["room-1"]?["humidity"] ?? .nan)) < 1e-9,
                    "pymodbus read \(words), the simulator serves \(served["room-1"] ?? [:])")
        }
        _ = sim
    }

    @Test("the agent polls the simulated RTU line and publishes what the simulator serves")
    func agentPollsRTU() async throws {
        let dir = try TempDir()
        let link = dir.path + "/ttyBus"
        let broker = try await Broker(dir: dir)
        let site = try Self.site(dir, link: link, brokerPort: broker.port)
        let (sim, served) = try await Self.simulator(site, link: link)
        let sub = try await Subscriber(port: broker.port)
        let agent = try agent(site)
        for device in ["room-1", "field-soil"] {
            let state = try await waitUntil(timeout: .seconds(20), "a state from \(device)") { sub.states(device: device).first }
            let readings = try #require(state["readings"] as? [String: [String: Any]])
            for (channel, value) in served[device] ?? [:] {
                #expect(readings[channel]?["quality"] as? String == "good" && readings[channel]?["value"] as? Double == value, "\(device).\(channel): \(readings[channel] ?? [:])")
            }
        }
        #expect(agent.stop() == 0)
        _ = sim
    }
}

import Foundation
import Testing

/// Issue 10, point 2, end to end: a real mosquitto, the simulator and the agent. One channel kept on
/// the farm (`none`), one shared as 10 s aggregates, a device shared not at all and with its alerts
/// kept on the farm, the rest in full.
@Suite(.serialized)
struct SharingEndToEndTests {
    func writeSharingSite(_ dir: TempDir, modbusPort: Int, brokerPort: Int) throws -> String {
        try dir.write("site.yaml", """
            coop: test-coop
            site: farm-1
            profiles_dir: \(Binaries.profiles)
            broker: { url: "mqtt://127.0.0.1:\(brokerPort)", client_id: farm-1-edge-\(brokerPort), keepalive: 5s }
            storage: { path: \(dir.path)/outbox.sqlite, durability: normal, commit_delay: 500ms }
            aggregate_window: 10s
            buses:
              - { name: gw, tcp: { host: 127.0.0.1, port: \(modbusPort) }, response_timeout_ms: 300 }
            devices:
              - { name: cold-room-1, bus: gw, slave: 3, profile: th-transmitter, poll: 200ms, share: { humidity: aggregate } }
              - { name: cold-room-2, bus: gw, slave: 4, profile: th-transmitter, poll: 200ms, share: none, share_alerts: false }
              - { name: field-a-soil, bus: gw, slave: 5, profile: soil-probe, poll: 200ms, share: { conductivity: none } }
            alerts:
              - { channel: cold-room-1.temperature, above: -30, severity: info, message: "shared alert" }
              - { channel: cold-room-2.temperature, above: -30, severity: info, message: "private alert" }
            """)
    }

    static func json(_ s: String) -> [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(s.utf8))) as? [String: Any] }

    @Test("none never reaches the broker; aggregate only as window summaries that match the served values; alerts per device")
    func sharingOnTheBroker() async throws {
        let dir = try TempDir()
        let broker = try await Broker(dir: dir)
        let modbusPort = try freePort()
        let site = try writeSharingSite(dir, modbusPort: modbusPort, brokerPort: broker.port)

        // check-config prints what each channel shares.
        let (rc, table) = try await coopEdge(["check-config", site])
        #expect(rc == 0, "\(table)")
        let rows = table.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        for row in ["device channel shares alerts", "cold-room-1 temperature full yes", "cold-room-1 humidity aggregate 10s yes",
                    "cold-room-2 temperature none no", "cold-room-2 humidity none no", "field-a-soil conductivity none yes",
                    "field-a-soil moisture full yes"] {
            #expect(rows.contains(row), "check-config: no row '\(row)' in\n\(table)")
        }

        let sim = try await Simulator(site: site, port: modbusPort)
        try await sim.command("set cold-room-1.humidity 70")
        let served = try sim.servedValues()
        #expect(served["field-a-soil"]?["conductivity"] != nil, "the simulator serves the channel kept on the farm")
        let sub = try await Subscriber.connected(to: broker)
        let agent = try agent(site)
        let prefix = "coop/test-coop/farm-1"

        // Full channels as today, without the channels not shared in full.
        let soil = try await waitUntil(timeout: .seconds(20), "a state message from field-a-soil") { sub.states(device: "field-a-soil").first }
        let soilReadings = try #require(soil["readings"] as? [String: Any])
        #expect(Set(soilReadings.keys) == ["moisture", "temperature"], "\(soilReadings.keys)")
        let room = try await waitUntil(timeout: .seconds(20), "a state message from cold-room-1") { sub.states(device: "cold-room-1").first }
        #expect(Set((room["readings"] as? [String: Any] ?? [:]).keys) == ["temperature"])

        // The retained sharing message; the status stays a bare `online`.
        let policy = try await waitUntil(timeout: .seconds(10), "the sharing message") {
            sub.messages.first { $0.topic == "\(prefix)/sharing" }.flatMap { Self.json($0.payload) }
        }
        let devices = try #require(policy["devices"] as? [String: [String: Any]])
        #expect(devices["cold-room-1"]?["channels"] as? [String: String] == ["temperature": "full", "humidity": "aggregate"])
        #expect(devices["cold-room-2"]?["alerts"] as? Bool == false)
        #expect(devices["field-a-soil"]?["channels"] as? [String: String] == ["moisture": "full", "temperature": "full", "conductivity": "none"])
        #expect(devices["cold-room-1"]?["aggregate_window_s"] as? Int == 10)
        #expect(sub.messages.contains { $0.topic == "\(prefix)/status" && $0.payload == "online" })
        let late = try await Subscriber(port: broker.port, topic: "\(prefix)/sharing")
        try await waitUntil(timeout: .seconds(10), "the sharing message, retained") { late.messages.isEmpty ? nil : true }

        // Aggregates: a whole window at 70, then the value changes to 75.
        func aggregates() -> [[String: Any]] {
            sub.messages.filter { $0.topic == "\(prefix)/cold-room-1/aggregate" }.compactMap { Self.json($0.payload) }
        }
        func humidity(_ a: [String: Any]) -> [String: Double] {
            ((a["channels"] as? [String: Any])?["humidity"] as? [String: Any] ?? [:]).compactMapValues { ($0 as? NSNumber)?.doubleValue }
        }
        try await waitUntil(timeout: .seconds(40), "two aggregate windows of cold-room-1") { aggregates().count >= 2 ? true : nil }
        try await sim.command("set cold-room-1.humidity 75")
        let changeSeen = aggregates().count
        try await waitUntil(timeout: .seconds(40), "a whole window at 75") {
            aggregates().dropFirst(changeSeen).contains { humidity($0)["min"] == 75 } ? true : nil
        }
        let all = aggregates()
        for (i, a) in all.enumerated() {
            let h = humidity(a)
            let (count, mn, mean, mx, last) = (h["count"] ?? 0, h["min"] ?? .nan, h["mean"] ?? .nan, h["max"] ?? .nan, h["last"] ?? .nan)
            // Only the aggregate channel, and only what the simulator served.
            #expect(Set((a["channels"] as? [String: Any] ?? [:]).keys) == ["humidity"])
            #expect(count >= 1 && [70.0, 75].contains(mn) && [70.0, 75].contains(mx) && [70.0, 75].contains(last), "\(a)")
            if i > 0 { #expect(count >= 20, "a whole 10 s window at 5 polls a second: \(a)") }
            if mn == mx {
                #expect(abs(mean - mn) < 1e-9, "\(a)")
            } else {
                // Straddles the change: count·mean must be 70·a + 75·b for whole a, b ≥ 1, and the last is 75.
                let b = (mean * count - 70 * count) / 5
                #expect(abs(b - b.rounded()) < 1e-6 && b.rounded() >= 1 && b.rounded() <= count - 1 && last == 75, "\(a)")
            }
            // Windows aligned to the clock, 10 s long, dedup key per window.
            let start = try #require(a["start"] as? String), end = try #require(a["end"] as? String)
            #expect(start.hasSuffix("0.000Z") && end.hasSuffix("0.000Z"), "\(start) – \(end)")
            #expect(a["window_s"] as? Int == 10)
            let seq = try #require(a["seq"] as? Int)
            #expect(a["key"] as? String == "farm-1/cold-room-1/aggregate/\(seq * 10)")
        }
        #expect(Set(all.compactMap { $0["seq"] as? Int }).count == all.count, "one message per window")

        // Alerts: cold-room-1's go out, cold-room-2's (share_alerts: false) stay on the farm.
        let shared = try await waitUntil(timeout: .seconds(10), "cold-room-1's alert") {
            sub.messages.first { $0.topic == "\(prefix)/alerts" && $0.payload.contains("shared alert") }
        }
        #expect(shared.payload.contains("cold-room-1"))
        try await agent.waitForLine(timeout: .seconds(10), "the private alert in the log") { $0.contains("private alert") }

        // The health message names the devices that share something, not cold-room-2 (checked below).
        let health = try await waitUntil(timeout: .seconds(15), "the health message") { sub.messages.first { $0.topic == "\(prefix)/health" } }
        #expect(health.payload.contains("cold-room-1") && health.payload.contains("field-a-soil"), "\(health.payload)")
        // Nothing of a none channel or of cold-room-2 in any message (the sharing policy only names them).
        for m in sub.messages where m.topic != "\(prefix)/sharing" {
            #expect(!m.payload.contains("conductivity"), "\(m.topic): \(m.payload)")
            #expect(!m.payload.contains("cold-room-2") && !m.topic.contains("cold-room-2"), "\(m.topic): \(m.payload)")
            #expect(!m.payload.contains("private alert"), "\(m.topic): \(m.payload)")
            if m.topic.hasSuffix("/state") { #expect(!m.payload.contains("humidity"), "\(m.topic): \(m.payload)") }
        }
        #expect(sub.states(device: "cold-room-2").isEmpty)

        // cold-room-2's polls were kept on the farm: recorded, then removed without a message.
        #expect(agent.stop(signal: SIGTERM) == 0)
        let (_, status) = try await coopEdge(["status", "--config", site])
        #expect(status.contains("pending readings:  0"), "\(status)")
        let kept = status.split(separator: "\n").first { $0.hasPrefix("kept on the farm:") }
            .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).first ?? "") } ?? 0
        #expect(kept >= 50, "\(status)")
        _ = sim
    }

    @Test("a reload that makes a device private stops its state messages before any poll of the new site, and announces the new policy")
    func reloadFollowsSharing() async throws {
        let dir = try TempDir()
        let broker = try await Broker(dir: dir)
        let modbusPort = try freePort()
        func write(_ share: String) throws -> String {
            try dir.write("site.yaml", """
                coop: test-coop
                site: farm-1
                profiles_dir: \(Binaries.profiles)
                broker: { url: "mqtt://127.0.0.1:\(broker.port)", client_id: farm-1-edge-\(broker.port), keepalive: 5s }
                storage: { path: \(dir.path)/outbox.sqlite, durability: normal, commit_delay: 500ms }
                buses:
                  - { name: gw, tcp: { host: 127.0.0.1, port: \(modbusPort) }, response_timeout_ms: 300 }
                devices:
                  - { name: cold-room-1, bus: gw, slave: 3, profile: th-transmitter, poll: 200ms }
                  - { name: cold-room-2, bus: gw, slave: 4, profile: th-transmitter, poll: 200ms\(share) }
                """)
        }
        let site = try write("")
        let sim = try await Simulator(site: site, port: modbusPort)
        let sub = try await Subscriber.connected(to: broker)
        let agent = try TestProcess(try Binaries.path("coop-edge"), ["run", "--config", site, "--log-level", "debug"],
                                    name: "agent", unblockSignals: true)
        let prefix = "coop/test-coop/farm-1"
        try await waitUntil(timeout: .seconds(20), "polls of cold-room-2 in full") { sub.states(device: "cold-room-2").count >= 3 ? true : nil }

        _ = try write(", share: none")
        kill(agent.pid, SIGHUP)
        try await agent.waitForLine(timeout: .seconds(10), "the reload logged") { $0.contains("reloaded: 2 devices") }
        let reloadedAt = Date().timeIntervalSince1970
        let policy = try await waitUntil(timeout: .seconds(10), "the new policy on …/sharing") { () -> [String: Any]? in
            sub.messages.filter { $0.topic == "\(prefix)/sharing" }.compactMap { Self.json($0.payload) }.first {
                (($0["devices"] as? [String: Any])?["cold-room-2"] as? [String: Any])?["channels"] as? [String: String]
                    == ["temperature": "none", "humidity": "none"]
            }
        }
        #expect(policy["site"] as? String == "farm-1")
        // cold-room-1 goes on; cold-room-2 is polled and kept, and no poll taken after the reload is published.
        let before = sub.states(device: "cold-room-1").count
        try await waitUntil(timeout: .seconds(10), "cold-room-1 goes on") { sub.states(device: "cold-room-1").count >= before + 10 ? true : nil }
        let late = sub.states(device: "cold-room-2").filter { ($0["time"] as? Double ?? 0) > reloadedAt }
        #expect(late.isEmpty, "\(late)")
        #expect(agent.stop(signal: SIGTERM) == 0)
        _ = sim
    }
}

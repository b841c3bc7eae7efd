import Foundation
import Testing

/// Issue 3 end to end: the simulator drives a cold room into failure; the farmer's rule raises an
/// alert that reaches the broker, ahead of the reading backlog, and clears when the room recovers.
@Suite(.serialized)
struct AlertTests {
    static let rules = """
        alerts:
          - { channel: cold-room-1.temperature, above: 8.0, for: 1s, severity: critical }
        spoilage:
          - { channel: cold-room-1.temperature, commodity: onions, room: "room 1", safe: 4.0, budget_degree_hours: 0.05, alert_at: [60%] }
        """

    @Test("a failing compressor raises a critical alert on …/alerts, the retained active set shows it, and repair clears it")
    func compressorFailureRaisesThenClears() async throws {
        let dir = try TempDir()
        let broker = try await Broker(dir: dir)
        let modbusPort = try freePort()
        let site = try writeSite(dir, modbusPort: modbusPort, brokerPort: broker.port, poll: "200ms", extra: Self.rules)
        // 600× time: without its compressor the room warms 0.25 °C per simulated minute, 2.5 °C a second here.
        let sim = try await Simulator(site: site, port: modbusPort, hold: false, speed: 600)
        try await sim.command("set cold-room-1.temperature 3.5")
        let sub = try await Subscriber(port: broker.port)
        let agent = try agent(site)
        try await waitUntil(timeout: .seconds(20), "normal readings") { sub.states(device: "cold-room-1").count >= 3 ? true : nil }
        #expect(alerts(sub).isEmpty, "no alert while the room is at 3.5 °C: \(alerts(sub))")

        try await sim.command("release cold-room-1.temperature")
        try await sim.command("fail cold-room-1")
        let raise = try await waitUntil(timeout: .seconds(20), "a threshold alert") {
            alerts(sub).first { $0["kind"] as? String == "threshold" && $0["phase"] as? String == "raise" }
        }
        #expect(raise["device"] as? String == "cold-room-1")
        #expect(raise["channel"] as? String == "temperature")
        #expect(raise["severity"] as? String == "critical")
        #expect((raise["value"] as? Double ?? 0) > 8.0)
        #expect((raise["message"] as? String ?? "").isEmpty == false)
        // The heat budget of the onions is being spent too.
        let budget = try await waitUntil(timeout: .seconds(20), "a spoilage budget alert") {
            alerts(sub).first { $0["kind"] as? String == "spoilage_budget" }
        }
        #expect((budget["message"] as? String ?? "").lowercased().contains("onions"), "\(budget)")

        // A dashboard that connects late sees the active alert (retained).
        let late = try await Subscriber(port: broker.port, topic: "coop/test-coop/farm-1/alerts/active")
        let active = try await waitUntil(timeout: .seconds(10), "the retained active set") { () -> [[String: Any]]? in
            guard let m = late.messages.last,
                  let obj = try? JSONSerialization.jsonObject(with: Data(m.payload.utf8)) as? [String: Any] else { return nil }
            return obj["active"] as? [[String: Any]]
        }
        #expect(active.contains { $0["kind"] as? String == "threshold" && $0["channel"] as? String == "temperature" })

        // The agent dies mid-episode (a crash, or the watchdog) and comes back while the room is
        // still warm: the episode goes on, it is not raised a second time.
        agent.stop(signal: SIGKILL)
        let second = try IntegrationTests.agent(site)
        try await second.waitForLine("restarted") { $0.contains("detector baselines restored") }

        try await sim.command("repair cold-room-1")
        try await sim.command("set cold-room-1.temperature 4.0")
        let clear = try await waitUntil(timeout: .seconds(20), "the alert's clear") {
            alerts(sub).first { $0["kind"] as? String == "threshold" && $0["phase"] as? String == "clear" }
        }
        #expect(clear["device"] as? String == "cold-room-1")
        // One episode, one raise, across the restart: no flapping, no repeat.
        #expect(alerts(sub).filter { $0["kind"] as? String == "threshold" && $0["phase"] as? String == "raise" }.count == 1)
        #expect(alerts(sub).filter { $0["kind"] as? String == "spoilage_budget" }.count == 1)
        // The heat budget stays spent and announced: the active set published with the clear keeps it.
        let after = try await waitUntil(timeout: .seconds(10), "the active set after the clear") { () -> [[String: Any]]? in
            let sets = sub.messages.filter { $0.topic.hasSuffix("/alerts/active") }.compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.payload.utf8)) as? [String: Any])?["active"] as? [[String: Any]]
            }
            guard let last = sets.last, !last.contains(where: { $0["kind"] as? String == "threshold" }) else { return nil }
            return last
        }
        #expect(after.contains { $0["kind"] as? String == "spoilage_budget" }, "\(after)")
        #expect(second.stop() == 0)
    }

    @Test("a sensor that reports its 'no reading' marker raises a sentinel alert from the detector")
    func sentinelRaisesDetectorAlert() async throws {
        let dir = try TempDir()
        let broker = try await Broker(dir: dir)
        let modbusPort = try freePort()
        let site = try dir.write("site.yaml", try String(contentsOfFile: try writeSite(dir, name: "base.yaml", modbusPort: modbusPort, brokerPort: broker.port), encoding: .utf8)
            .replacingOccurrences(of: "profile: th-transmitter, poll: 200ms }", with: "profile: th-transmitter, poll: 200ms, detect: { temperature: cold_room } }"))
        let sim = try await Simulator(site: site, port: modbusPort)
        let sub = try await Subscriber(port: broker.port)
        let agent = try agent(site)
        try await waitUntil(timeout: .seconds(20), "normal readings") { sub.states(device: "cold-room-2").count >= 3 ? true : nil }
        try await sim.command("sentinel cold-room-2.temperature")
        let raise = try await waitUntil(timeout: .seconds(20), "a sentinel alert") {
            alerts(sub).first { $0["kind"] as? String == "sentinel" && $0["device"] as? String == "cold-room-2" }
        }
        #expect(raise["phase"] as? String == "raise")
        let others = alerts(sub).filter { $0["device"] as? String == "cold-room-1" }
        #expect(others.isEmpty, "only the faulty room alerts; cold-room-1 raised: \(others)")
        #expect(agent.stop() == 0)
        // Baselines were saved for the next start.
        let restarted = try IntegrationTests.agent(site)
        try await restarted.waitForLine(timeout: .seconds(10), "baselines restored") { $0.contains("detector baselines restored") && $0.contains("channels=5") }
        #expect(restarted.stop() == 0)
        _ = sim
    }
}

/// Alert events received on `…/alerts`, decoded.
func alerts(_ sub: Subscriber) -> [[String: Any]] {
    sub.messages.filter { $0.topic.hasSuffix("/alerts") }.compactMap {
        (try? JSONSerialization.jsonObject(with: Data($0.payload.utf8))) as? [String: Any]
    }
}

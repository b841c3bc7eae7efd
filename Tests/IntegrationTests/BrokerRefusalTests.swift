import Foundation
import Testing

/// MQTT 5 at the co-op's broker: a message the broker refuses (PUBACK reason ≥ 0x80) is kept, not
/// counted delivered; and MQTT 3.1.1 stays selectable for brokers that cannot speak 5.
@Suite(.serialized)
struct BrokerRefusalTests {
    static let prefix = "coop/test-coop/farm-1"
    static let devices = ["cold-room-1", "cold-room-2", "field-a-soil", "maize-scale"]

    /// Lines of `coop-edge status` that start with `label`.
    private func statusLine(_ site: String, _ label: String) async throws -> String? {
        let (_, out) = try await coopEdge(["status", "--config", site])
        return out.split(separator: "\n").first { $0.hasPrefix(label) }.map(String.init)
    }

    @Test("an ACL that denies the farm's state topics: no reading is lost, the refusal is logged once and counted, delivery resumes after the ACL is fixed (SIGHUP)")
    func aclDenialLosesNothing() async throws {
        let dir = try TempDir()
        // The co-op's typo: this farm may write its status and alerts, not its readings.
        let acl = try dir.write("acl", """
            topic read coop/#
            topic write \(Self.prefix)/status
            topic write \(Self.prefix)/alerts
            topic write \(Self.prefix)/alerts/#
            """)
        chmod(acl, 0o644)
        chmod(dir.path, 0o755)
        let broker = try await Broker(dir: dir, listenerOptions: "acl_file \(acl)")
        let modbusPort = try freePort()
        let site = try writeSite(dir, modbusPort: modbusPort, brokerPort: broker.port, poll: "200ms")
        let sim = try await Simulator(site: site, port: modbusPort)
        let sub = try await Subscriber.connected(to: broker)
        let started = Date().timeIntervalSince1970
        let agent = try agent(site)
        defer { agent.stop(signal: SIGKILL) }

        try await waitUntil(timeout: .seconds(20), "the birth message (allowed by the ACL)") {
            sub.messages.contains { $0.topic == "\(Self.prefix)/status" && $0.payload == "online" } ? true : nil
        }
        let refusal = try await agent.waitForLine(timeout: .seconds(20), "the refusal logged") { $0.contains("the broker refuses") }
        #expect(refusal.contains("not authorized (0x87)"), "\(refusal)")
        #expect(refusal.contains("check the co-op's ACL"), "\(refusal)")
        #expect(refusal.contains("\(Self.prefix)/") && refusal.contains("/state"), "\(refusal)")

        // Several rounds of refusals (backoff 1, 2, 4 s): the rows stay, the log says it once.
        try await waitUntil(timeout: .seconds(30), "refusals counted in status and readings kept") { () -> Bool? in
            guard let refused = try await statusLine(site, "refused by broker:"),
                  let n = Int(refused.split(separator: " ")[3]), n >= 100 else { return nil }
            return try await pendingReadings(site) >= 120 ? true : nil
        }
        #expect(sub.states(device: "cold-room-1").isEmpty, "a denied reading reached a subscriber")
        #expect(agent.output.filter { $0.contains("the broker refuses") }.count == 1,
                "\(agent.output.filter { $0.contains("the broker refuses") })")
        let keptBeforeFix = try await pendingReadings(site)
        #expect(keptBeforeFix >= 120)

        // The co-op fixes its ACL and reloads mosquitto.
        chmod(try dir.write("acl", "topic readwrite coop/#\n"), 0o644)
        let fixed = Date().timeIntervalSince1970
        kill(broker.process.pid, SIGHUP)
        try await waitUntil(timeout: .seconds(60), "readings taken after the fix delivered for every device") { () -> Bool? in
            Self.devices.allSatisfy { d in sub.polls(device: d).contains { $0.time > fixed + 1 } } ? true : nil
        }
        try await agent.waitForLine(timeout: .seconds(10), "the episode's end logged") { $0.contains("accepts the readings lane again") }
        #expect(agent.stop(signal: SIGTERM) == 0)
        #expect(agent.output.filter { $0.contains("the broker refuses") }.count == 1)

        // Nothing was lost: every device's numbers form one run from its first poll, and all that was
        // kept during the denial arrived.
        var delivered = 0
        for device in Self.devices {
            let polls = sub.polls(device: device).filter { $0.time >= started }
            let seqs = Set(polls.map(\.seq)).sorted()
            #expect(!seqs.isEmpty, "\(device): nothing delivered")
            let gaps = zip(seqs, seqs.dropFirst()).filter { $1 != $0 + 1 }
            #expect(gaps.isEmpty, "\(device): numbers missing: \(gaps.prefix(5))")
            #expect(sub.numberingProblems(device: device).isEmpty, "\(sub.numberingProblems(device: device).prefix(5))")
            // Its first poll (taken while the ACL denied everything) arrived.
            let first = try #require(polls.map(\.time).min())
            #expect(first - started < 5, "\(device): the first poll delivered was taken \(first - started) s after the start")
            delivered += Set(polls.filter { $0.time < fixed }.map(\.seq)).count
        }
        #expect(delivered >= keptBeforeFix, "kept \(keptBeforeFix) during the denial, delivered \(delivered)")
        let (_, status) = try await coopEdge(["status", "--config", site])
        #expect(status.contains("pending readings:  0"), "\(status)")
        #expect(status.contains("not authorized (0x87):"), "\(status)")
        _ = sim
    }

    @Test("a site with broker protocol 3.1.1 connects with MQTT 3.1.1, warns about the risk, and delivers")
    func mqtt311Selectable() async throws {
        let dir = try TempDir()
        let broker = try await Broker(dir: dir)
        let modbusPort = try freePort()
        let plain = try writeSite(dir, modbusPort: modbusPort, brokerPort: broker.port, poll: "200ms")
        let text = try String(contentsOfFile: plain, encoding: .utf8)
            .replacingOccurrences(of: "keepalive: 5s }", with: "keepalive: 5s, protocol: \"3.1.1\" }")
        let site = try dir.write("site-311.yaml", text)
        let sim = try await Simulator(site: site, port: modbusPort)
        let sub = try await Subscriber.connected(to: broker)
        let agent = try agent(site)
        defer { agent.stop(signal: SIGKILL) }
        try await waitUntil(timeout: .seconds(20), "five polls of cold-room-1") { sub.states(device: "cold-room-1").count >= 5 ? true : nil }
        // mosquitto logs the protocol level: p2 is 3.1.1, p5 is 5.
        let connectLine = broker.process.output.first { $0.contains("as farm-1-edge") }
        #expect(connectLine?.contains("(p2,") == true, "\(connectLine ?? "no connect line")")
        #expect(agent.output.contains { $0.contains("MQTT 3.1.1 selected") })
        let (_, status) = try await coopEdge(["status", "--config", site])
        #expect(status.contains("broker protocol:   MQTT 3.1.1"), "\(status)")
        #expect(agent.stop(signal: SIGTERM) == 0)
        _ = sim
    }

    @Test("by default the agent speaks MQTT 5")
    func mqtt5ByDefault() async throws {
        let dir = try TempDir()
        let broker = try await Broker(dir: dir)
        let modbusPort = try freePort()
        let site = try writeSite(dir, modbusPort: modbusPort, brokerPort: broker.port, poll: "200ms")
        let sim = try await Simulator(site: site, port: modbusPort)
        let sub = try await Subscriber.connected(to: broker)
        let agent = try agent(site)
        defer { agent.stop(signal: SIGKILL) }
        try await waitUntil(timeout: .seconds(20), "a poll of cold-room-1") { sub.states(device: "cold-room-1").first }
        let connectLine = broker.process.output.first { $0.contains("as farm-1-edge") }
        #expect(connectLine?.contains("(p5,") == true, "\(connectLine ?? "no connect line")")
        #expect(agent.stop(signal: SIGTERM) == 0)
        _ = sim
    }
}

import Foundation
import Testing

/// The walking skeleton with real parts: mosquitto, coop-edge-sim, the coop-edge binary and a
/// mosquitto_sub subscriber, all on loopback.
@Suite(.serialized)
struct EndToEndTests {
    @Test("each device's values arrive at the broker equal to what the simulator served; SIGTERM shuts down cleanly")
    func valuesArriveAndShutdownIsClean() async throws {
        let dir = try TempDir()
        let broker = try await Broker(dir: dir)
        let modbusPort = try freePort()
        let site = try writeSite(dir, modbusPort: modbusPort, brokerPort: broker.port)
        let sim = try await Simulator(site: site, port: modbusPort)
        let served = try sim.servedValues()
        let sub = try await Subscriber.connected(to: broker)
        let agent = try agent(site)

        for device in ["cold-room-1", "cold-room-2", "field-a-soil", "maize-scale"] {
            let state = try await waitUntil(timeout: .seconds(20), "a state message from \(device)") {
                sub.states(device: device).first
            }
            let readings = try #require(state["readings"] as? [String: [String: Any]])
            let expected = try #require(served[device])
            #expect(!expected.isEmpty)
            for (channel, value) in expected {
                let r = try #require(readings[channel], "\(device) has no \(channel)")
                #expect(r["quality"] as? String == "good", "\(device).\(channel)")
                #expect((r["value"] as? Double) == value, "\(device).\(channel): published \(r["value"] ?? "nil"), served \(value)")
            }
            #expect(state["device"] as? String == device)
            #expect((state["seq"] as? Int ?? 0) >= 1)
            #expect(state["key"] as? String == "farm-1/\(device)/\(state["seq"] as? Int ?? 0)")
        }
        // Birth message, retained.
        #expect(sub.messages.contains { $0.topic == "coop/test-coop/farm-1/status" && $0.payload == "online" })
        // Units come from the profile.
        let scale = try #require(sub.states(device: "maize-scale").first?["readings"] as? [String: [String: Any]])
        #expect(scale["net_weight"]?["unit"] as? String == "kg")

        // Sequence numbers per device are consecutive.
        try await waitUntil(timeout: .seconds(10), "five polls of cold-room-1") { sub.states(device: "cold-room-1").count >= 5 ? true : nil }
        let seqs = sub.states(device: "cold-room-1").compactMap { $0["seq"] as? Int }
        #expect(seqs == Array(seqs.first!..<(seqs.first! + seqs.count)))

        // Graceful shutdown: exit 0, "offline" published, nothing left undelivered.
        let status = agent.stop(signal: SIGTERM)
        #expect(status == 0, "agent exit status \(String(describing: status))\n\(agent.output.suffix(20).joined(separator: "\n"))")
        try await waitUntil(timeout: .seconds(5), "offline status") {
            sub.messages.contains { $0.topic == "coop/test-coop/farm-1/status" && $0.payload == "offline" } ? true : nil
        }
        #expect(agent.output.contains { $0.contains("stopped cleanly") })
        let (rc, out) = try await coopEdge(["status", "--config", site])
        #expect(rc == 0)
        #expect(out.contains("pending readings:  0"), "\(out)")
        _ = sim
    }

    @Test("a device that stops answering yields missing readings with a reason, never 0 or a stale value; others are unaffected")
    func silentDeviceYieldsMissingReadings() async throws {
        let dir = try TempDir()
        let broker = try await Broker(dir: dir)
        let modbusPort = try freePort()
        let site = try writeSite(dir, modbusPort: modbusPort, brokerPort: broker.port, poll: "200ms", responseTimeoutMS: 150)
        let sim = try await Simulator(site: site, port: modbusPort)
        let served = try sim.servedValues()
        let sub = try await Subscriber(port: broker.port)
        let agent = try agent(site)
        try await waitUntil(timeout: .seconds(20), "first reading") { sub.states(device: "cold-room-1").first }

        try await sim.command("silence cold-room-1")
        let fault = try await waitUntil(timeout: .seconds(10), "a comm_fault reading") { () -> [String: Any]? in
            sub.states(device: "cold-room-1").compactMap { $0["readings"] as? [String: [String: Any]] }
                .compactMap { $0["temperature"] }.first { $0["quality"] as? String == "comm_fault" }
        }
        #expect(fault["value"] is NSNull, "a failed read must publish null, got \(fault["value"] ?? "nil")")
        #expect(fault["fault"] as? String == "timeout")
        // Meanwhile the neighbour on the same bus keeps reporting good values, unchanged.
        let neighbourCount = sub.states(device: "cold-room-2").count
        try await waitUntil(timeout: .seconds(10), "cold-room-2 keeps polling") { sub.states(device: "cold-room-2").count > neighbourCount + 2 ? true : nil }
        for s in sub.states(device: "cold-room-2") {
            let t = (s["readings"] as? [String: [String: Any]])?["temperature"]
            #expect(t?["quality"] as? String == "good")
            #expect(t?["value"] as? Double == served["cold-room-2"]?["temperature"])
        }

        try await sim.command("resume cold-room-1")
        let before = sub.states(device: "cold-room-1").count
        try await waitUntil(timeout: .seconds(10), "good readings again") { () -> Bool? in
            let recent = sub.states(device: "cold-room-1").dropFirst(before)
            let good = recent.contains {
                (($0["readings"] as? [String: [String: Any]])?["temperature"]?["quality"] as? String) == "good"
            }
            return good ? true : nil
        }
        #expect(agent.stop() == 0)
    }

    @Test("a slave that answers after the timeout never has its late reply read as another device's values")
    func slowSlaveNeverMisattributed() async throws {
        let dir = try TempDir()
        let broker = try await Broker(dir: dir)
        let modbusPort = try freePort()
        let site = try writeSite(dir, modbusPort: modbusPort, brokerPort: broker.port, poll: "150ms", responseTimeoutMS: 100)
        let sim = try await Simulator(site: site, port: modbusPort)
        // Distinct, recognisable values on each cold room.
        try await sim.command("set cold-room-1.temperature 1.1")
        try await sim.command("set cold-room-2.temperature 2.2")
        try await sim.command("slow cold-room-1 180")
        let sub = try await Subscriber(port: broker.port)
        let agent = try agent(site)
        try await waitUntil(timeout: .seconds(20), "a timeout on cold-room-1 and ten polls of cold-room-2") { () -> Bool? in
            let faults = sub.states(device: "cold-room-1").filter {
                (($0["readings"] as? [String: [String: Any]])?["temperature"]?["quality"] as? String) == "comm_fault"
            }
            return faults.count >= 3 && sub.states(device: "cold-room-2").count >= 10 ? true : nil
        }
        for s in sub.states(device: "cold-room-2") {
            let t = (s["readings"] as? [String: [String: Any]])?["temperature"]
            #expect(t?["value"] as? Double == 2.2, "cold-room-2 published \(t?["value"] ?? "nil")")
        }
        for s in sub.states(device: "cold-room-1") {
            let t = (s["readings"] as? [String: [String: Any]])?["temperature"]
            if let v = t?["value"] as? Double { #expect(v == 1.1, "cold-room-1 published \(v)") }
        }
        for s in sub.states(device: "maize-scale") {
            let r = s["readings"] as? [String: [String: Any]]
            #expect(r?["net_weight"]?["quality"] as? String != "out_of_range")
        }
        #expect(agent.stop() == 0)
    }
}

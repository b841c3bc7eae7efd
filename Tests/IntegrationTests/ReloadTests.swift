import Foundation
import Testing

/// `systemctl reload coop-edge` (SIGHUP) with real parts: the simulator serves four devices, the
/// agent's site file names three of them, and the file changes while the agent runs.
@Suite(.serialized)
struct ReloadTests {
    /// The agent's site file, with `devices` out of the four the simulator serves; `poll` of
    /// `maize-scale` replaced by `scalePoll` (an invalid value makes the file invalid).
    static func writeAgentSite(_ dir: TempDir, modbusPort: Int, brokerPort: Int, devices: [String], scalePoll: String = "200ms") throws -> String {
        let all = [
            "cold-room-1": "{ name: cold-room-1, bus: gw, slave: 3, profile: th-transmitter, poll: 200ms }",
            "cold-room-2": "{ name: cold-room-2, bus: gw, slave: 4, profile: th-transmitter, poll: 200ms }",
            "field-a-soil": "{ name: field-a-soil, bus: gw, slave: 5, profile: soil-probe, poll: 200ms }",
            "maize-scale": "{ name: maize-scale, bus: gw, slave: 1, profile: weighing-transmitter, poll: \(scalePoll) }",
        ]
        return try dir.write("site.yaml", """
            coop: test-coop
            site: farm-1
            profiles_dir: \(Binaries.profiles)
            broker: { url: "mqtt://127.0.0.1:\(brokerPort)", client_id: farm-1-edge-\(brokerPort), keepalive: 5s }
            storage: { path: \(dir.path)/outbox.sqlite, durability: normal }
            buses:
              - { name: gw, tcp: { host: 127.0.0.1, port: \(modbusPort) }, response_timeout_ms: 300 }
            devices:\(devices.isEmpty ? " []" : "")
            \(devices.map { "  - " + all[$0]! }.joined(separator: "\n"))
            """)
    }

    @Test("SIGHUP applies an added and a removed device without a gap for the others; an invalid file is refused with file:line:column and polling goes on")
    func reloadAddsRemovesAndRefusesBadFile() async throws {
        let dir = try TempDir()
        let broker = try await Broker(dir: dir)
        let modbusPort = try freePort()
        let simSite = try writeSite(dir, name: "sim.yaml", modbusPort: modbusPort, brokerPort: broker.port)
        let sim = try await Simulator(site: simSite, port: modbusPort)
        let sub = try await Subscriber.connected(to: broker)
        let site = try Self.writeAgentSite(dir, modbusPort: modbusPort, brokerPort: broker.port,
                                           devices: ["cold-room-1", "cold-room-2", "field-a-soil"])
        // Unblocked: the test process has SIGHUP blocked, and a child inherits its mask.
        let agent = try TestProcess(try Binaries.path("coop-edge"), ["run", "--config", site, "--log-level", "debug"],
                                    name: "agent", unblockSignals: true)
        try await waitUntil(timeout: .seconds(20), "three polls of each device") { () -> Bool? in
            ["cold-room-1", "cold-room-2", "field-a-soil"].allSatisfy { sub.states(device: $0).count >= 3 } ? true : nil
        }
        #expect(sub.states(device: "maize-scale").isEmpty)

        // Add maize-scale, remove field-a-soil.
        _ = try Self.writeAgentSite(dir, modbusPort: modbusPort, brokerPort: broker.port,
                                    devices: ["cold-room-1", "cold-room-2", "maize-scale"])
        kill(agent.pid, SIGHUP)
        try await agent.waitForLine(timeout: .seconds(10), "the reload logged") {
            $0.contains("reloaded: 3 devices (added maize-scale, removed field-a-soil, changed none)")
        }
        try await waitUntil(timeout: .seconds(20), "three polls of the added maize-scale") {
            sub.states(device: "maize-scale").count >= 3 ? true : nil
        }
        // The removed device's last polls (taken before the reload) are delivered after a commit
        // delay (2 s); after that, nothing more of it.
        let base = sub.states(device: "cold-room-1").count
        try await waitUntil(timeout: .seconds(20), "four seconds of cold-room-1 polls") { sub.states(device: "cold-room-1").count >= base + 20 ? true : nil }
        let soilAfterReload = sub.states(device: "field-a-soil").count
        let base2 = sub.states(device: "cold-room-1").count
        try await waitUntil(timeout: .seconds(20), "two more seconds of cold-room-1 polls") { sub.states(device: "cold-room-1").count >= base2 + 10 ? true : nil }
        #expect(sub.states(device: "field-a-soil").count == soilAfterReload, "the removed device is still polled")

        // An invalid file: refused with its location, and the running configuration stays.
        _ = try Self.writeAgentSite(dir, modbusPort: modbusPort, brokerPort: broker.port,
                                    devices: ["cold-room-1", "maize-scale"], scalePoll: "often")
        kill(agent.pid, SIGHUP)
        let refused = try await agent.waitForLine(timeout: .seconds(10), "the reload refused") { $0.contains("reload refused:") }
        #expect(refused.range(of: #"site\.yaml:[0-9]+:[0-9]+: "#, options: .regularExpression) != nil, "\(refused)")
        #expect(refused.contains("keeping the running configuration"))
        let (crBefore, scaleBefore) = (sub.states(device: "cold-room-2").count, sub.states(device: "maize-scale").count)
        try await waitUntil(timeout: .seconds(20), "cold-room-2 and maize-scale still polled") { () -> Bool? in
            sub.states(device: "cold-room-2").count >= crBefore + 10 && sub.states(device: "maize-scale").count >= scaleBefore + 10 ? true : nil
        }
        #expect(sub.states(device: "field-a-soil").count == soilAfterReload)

        // Unchanged devices: numbering goes on without a gap across both reloads.
        for device in ["cold-room-1", "cold-room-2"] {
            let seqs = Set(sub.states(device: device).compactMap { $0["seq"] as? Int }).sorted()
            #expect(!seqs.isEmpty)
            #expect(seqs == Array(seqs.first!...seqs.last!), "\(device): a gap in \(seqs)")
        }
        #expect(agent.stop(signal: SIGTERM) == 0, "\(agent.output.suffix(20).joined(separator: "\n"))")
        #expect(agent.output.contains { $0.contains("stopped cleanly") })
        _ = sim
    }

    @Test("a site that polled nothing starts polling on SIGHUP once a device is added")
    func idleSiteStartsPollingOnReload() async throws {
        let dir = try TempDir()
        let broker = try await Broker(dir: dir)
        let modbusPort = try freePort()
        let simSite = try writeSite(dir, name: "sim.yaml", modbusPort: modbusPort, brokerPort: broker.port)
        let sim = try await Simulator(site: simSite, port: modbusPort)
        let sub = try await Subscriber.connected(to: broker)
        let site = try Self.writeAgentSite(dir, modbusPort: modbusPort, brokerPort: broker.port, devices: [])
        let agent = try TestProcess(try Binaries.path("coop-edge"), ["run", "--config", site, "--log-level", "debug"],
                                    name: "agent", unblockSignals: true)
        try await agent.waitForLine("nothing to poll") { $0.contains("nothing to poll") }
        _ = try Self.writeAgentSite(dir, modbusPort: modbusPort, brokerPort: broker.port, devices: ["cold-room-1"])
        kill(agent.pid, SIGHUP)
        try await agent.waitForLine(timeout: .seconds(10), "the reload logged") {
            $0.contains("reloaded: 1 devices (added cold-room-1, removed none, changed none)")
        }
        try await waitUntil(timeout: .seconds(20), "three polls of cold-room-1") { sub.states(device: "cold-room-1").count >= 3 ? true : nil }
        #expect(agent.stop(signal: SIGTERM) == 0, "\(agent.output.suffix(20).joined(separator: "\n"))")
        _ = sim
    }
}

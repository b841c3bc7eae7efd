import Foundation
import Testing

/// Issue 9, point 4: after an outage the backlog leaves several polls of one device per message,
/// oldest first per device, every poll exactly once.
@Suite("Backlog drain", .serialized)
struct BacklogDrainTests {
    @Test("a backlog older than a minute goes out in batches: every poll once, in order per device, marked historical")
    func backlogInBatches() async throws {
        let dir = try TempDir()
        let broker = try await Broker(dir: dir)
        let sub = try await Subscriber.connected(to: broker)
        // The agent reaches the broker only through a link that is down until the backlog is old enough.
        let linkPort = try freePort()
        let modbusPort = try freePort()
        let site = try writeSite(dir, modbusPort: modbusPort, brokerPort: linkPort, poll: "100ms")
        let sim = try await Simulator(site: site, port: modbusPort)
        let agent = try agent(site)
        let started = Date()
        // Readings count as a backlog once older than Publisher.historicalAfter (60 s).
        try await waitUntil(timeout: .seconds(120), "a backlog older than a minute") { () -> Bool? in
            Date().timeIntervalSince(started) > 65 ? true : nil
        }
        let buffered = try await pendingReadings(site)
        #expect(buffered > 1000, "buffered \(buffered)")
        let link = try TestProcess("/usr/bin/socat", ["TCP-LISTEN:\(linkPort),bind=127.0.0.1,fork,reuseaddr", "TCP:127.0.0.1:\(broker.port)"], name: "link")
        try await waitUntil(timeout: .seconds(10), "link up") { portOpen(linkPort) ? true : nil }
        try await agent.waitForLine(timeout: .seconds(30), "the backlog is recognised") { $0.contains("sending the backlog") }
        try await agent.waitForLine(timeout: .seconds(60), "the backlog is sent") { $0.contains("backlog sent") }

        let devices = ["cold-room-1", "cold-room-2", "field-a-soil", "maize-scale"]
        // Live polls keep arriving after the backlog.
        try await waitUntil(timeout: .seconds(20), "live polls after the backlog") { () -> Bool? in
            devices.allSatisfy { d in sub.states(device: d).last.map { ($0["historical"] as? Bool) != true } ?? false } ? true : nil
        }
        #expect(agent.stop() == 0)
        var delivered = 0
        for device in devices {
            #expect(sub.batchMessages(device: device) > 0, "\(device): no message carried several polls")
            let states = sub.states(device: device)
            let seqs = states.compactMap { $0["seq"] as? Int }
            // Exactly once: no reconnect happened, so not even QoS 1 copies.
            #expect(Set(seqs).count == seqs.count, "\(device): \(seqs.count - Set(seqs).count) polls arrived twice")
            // No number missing from first to last.
            if let first = seqs.min(), let last = seqs.max() {
                #expect(last - first + 1 == seqs.count, "\(device): \(last - first + 1 - seqs.count) polls missing")
            }
            // The backlog arrives oldest first, and so do the live polls (which go ahead of it).
            let historical = states.filter { ($0["historical"] as? Bool) == true }.compactMap { $0["seq"] as? Int }
            let live = states.filter { ($0["historical"] as? Bool) != true }.compactMap { $0["seq"] as? Int }
            #expect(historical.count > 100, "\(device): \(historical.count) historical polls")
            #expect(historical == historical.sorted(), "\(device): the backlog arrived out of order")
            #expect(live == live.sorted(), "\(device): live polls arrived out of order")
            delivered += seqs.count
        }
        #expect(delivered >= buffered, "delivered \(delivered), buffered \(buffered)")
        link.stop(signal: SIGKILL)
        _ = sim
    }
}

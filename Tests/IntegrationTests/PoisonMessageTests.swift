import EdgeCore
import Foundation
import Outbox
import Testing

/// A message no broker will take must not block everything queued behind it.
@Suite(.serialized)
struct PoisonMessageTests {
    @Test("a stored message with an unpublishable topic is removed and counted; the rest of its lane is delivered")
    func poisonMessageDoesNotBlockTheLane() async throws {
        let dir = try TempDir()
        let broker = try await Broker(dir: dir)
        let modbusPort = try freePort()
        let site = try writeSite(dir, modbusPort: modbusPort, brokerPort: broker.port)
        // Before the agent starts: a message whose topic libmosquitto refuses (a control character),
        // followed by a good one, both in the alert lane.
        let outbox = try await Outbox.open(StorageConfig(path: dir.path + "/outbox.sqlite"))
        try await outbox.append([
            NewMessage(lane: .alerts, topic: "coop/test-coop/farm-1/alerts/\u{1}bad", payload: Array("{}".utf8), created: 1.8e9),
            NewMessage(lane: .alerts, topic: "coop/test-coop/farm-1/alerts", payload: Array("{\"after\":\"poison\"}".utf8), created: 1.8e9),
        ])
        await outbox.close()
        let sim = try await Simulator(site: site, port: modbusPort)
        let sub = try await Subscriber.connected(to: broker)
        let agent = try agent(site)
        try await waitUntil(timeout: .seconds(20), "the message behind the poison") {
            sub.messages.contains { $0.payload == "{\"after\":\"poison\"}" } ? true : nil
        }
        try await waitUntil(timeout: .seconds(20), "readings flowing") { sub.states(device: "cold-room-1").count >= 2 ? true : nil }
        #expect(agent.output.contains { $0.contains("refused for good") })
        #expect(agent.stop() == 0)
        let (_, status) = try await coopEdge(["status", "--config", site])
        #expect(status.contains("rejected:          1"), "\(status)")
        #expect(status.contains("pending alerts:    0"), "\(status)")
        _ = sim
    }
}

import Foundation
import MQTT
import Testing

/// Reconnection: one backoff with full jitter, capped at 30 s, for every way a connection ends.
@Suite
struct BackoffTests {
    /// SplitMix64: a seeded generator, so a failure can be replayed.
    struct SeededRandom: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    private func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    @Test("the ceilings double from 1 s and stop at 30 s, however many attempts")
    func ceilings() {
        let b = Backoff()
        #expect((0..<8).map { seconds(b.ceiling(attempt: $0)) } == [1, 2, 4, 8, 16, 30, 30, 30])
        #expect(seconds(b.ceiling(attempt: 10_000)) == 30)
        var plain = Backoff(jitter: false)
        var random = SeededRandom(state: 1)
        #expect((0..<7).map { _ in seconds(plain.next(using: &random)) } == [1, 2, 4, 8, 16, 30, 30])
        plain.reset()
        #expect(seconds(plain.next(using: &random)) == 1)
    }

    @Test("full jitter: every wait lies in [0, min(30 s, 2ⁿ s)], and the waits spread over the whole range")
    func jitterBoundsAndSpread() {
        var random = SeededRandom(state: 42)
        for attempt in 0..<10 {
            let ceiling = min(30.0, Double(1 << attempt))
            var waits: [Double] = []
            for _ in 0..<2000 {
                var b = Backoff()
                for _ in 0..<attempt { _ = b.next(using: &random) }
                waits.append(seconds(b.next(using: &random)))
            }
            #expect(waits.allSatisfy { $0 >= 0 && $0 <= ceiling }, "attempt \(attempt)")
            #expect(waits.allSatisfy { $0 <= 30 })
            // Spread: 40 boards that lost the same broker must not come back together.
            let sorted = waits.sorted()
            #expect(sorted[sorted.count / 20] < 0.1 * ceiling, "attempt \(attempt): 5th percentile \(sorted[sorted.count / 20])")
            #expect(sorted[sorted.count * 19 / 20] > 0.9 * ceiling, "attempt \(attempt): 95th percentile \(sorted[sorted.count * 19 / 20])")
            let mean = waits.reduce(0, +) / Double(waits.count)
            #expect(abs(mean - ceiling / 2) < 0.05 * ceiling, "attempt \(attempt): mean \(mean)")
            // 40 boards in their first second: not all in one 100 ms slot.
            let herd = Set(waits.prefix(40).map { Int($0 / ceiling * 10) })
            #expect(herd.count >= 6, "attempt \(attempt): 40 waits fell in \(herd.count) tenths of the window")
        }
    }
}

@Suite(.serialized)
struct ReconnectTests {
    @Test("after the broker restarts the agent reconnects within the backoff cap, with jittered waits, and delivers what it buffered")
    func reconnectsAfterBrokerRestart() async throws {
        let dir = try TempDir()
        var broker: Broker? = try await Broker(dir: dir)
        let port = broker!.port
        let modbusPort = try freePort()
        let site = try writeSite(dir, modbusPort: modbusPort, brokerPort: port, poll: "200ms")
        let sim = try await Simulator(site: site, port: modbusPort)
        let agent = try agent(site)
        defer { agent.stop(signal: SIGKILL) }
        try await agent.waitForLine(timeout: .seconds(20), "connected") { $0.contains("connected to broker") }

        broker?.process.stop(signal: SIGTERM)
        broker = nil
        try await agent.waitForLine(timeout: .seconds(20), "the loss noticed") { $0.contains("lost the broker") }
        // Down long enough for a few attempts (waits drawn up to 1, 2, 4, 8 s).
        try await waitUntil(timeout: .seconds(30), "four connection attempts while the broker is down") {
            agent.output.filter { $0.contains("next connection attempt") }.count >= 4 ? true : nil
        }
        // Each reason is logged once per outage, not once per attempt.
        #expect(agent.output.filter { $0.contains("broker unreachable") }.count == 1, "\(agent.output.filter { $0.contains("broker unreachable") })")
        let restarted = Date().timeIntervalSince1970
        let back = try await Broker(dir: dir, port: port)
        let sub = try await Subscriber.connected(to: back)
        // The cap is 30 s: whatever the jitter drew, the agent is back within it (and a margin).
        try await waitUntil(timeout: .seconds(45), "reconnected") {
            agent.output.filter { $0.contains("connected to broker") }.count >= 2 ? true : nil
        }
        try await waitUntil(timeout: .seconds(30), "buffered polls and new ones delivered") {
            sub.polls(device: "cold-room-1").contains { $0.time < restarted } && sub.polls(device: "cold-room-1").contains { $0.time > restarted } ? true : nil
        }
        // Every wait was within the cap, and the waits were not a fixed ladder.
        let waits = agent.output.filter { $0.contains("next connection attempt") }.compactMap { line -> Int? in
            guard let r = line.range(of: "in_ms=") else { return nil }
            return Int(line[r.upperBound...].prefix { $0.isNumber })
        }
        #expect(waits.count >= 3, "\(agent.output.suffix(10))")
        #expect(waits.allSatisfy { $0 >= 0 && $0 <= 30_000 }, "\(waits)")
        #expect(Set(waits).count > 1, "\(waits)")
        #expect(agent.stop(signal: SIGTERM) == 0)
        _ = sim
    }
}

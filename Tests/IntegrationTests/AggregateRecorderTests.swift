@testable import Agent
import EdgeCore
import Foundation
import Logging
import Outbox
import Testing

/// The recorder's side of `share: aggregate` against a real outbox file: a closed window is
/// committed with the poll that closed it, on the readings lane, and the window under way is saved
/// with the polls, so a restart continues it instead of publishing a second, smaller copy.
@Suite("Aggregates in the recorder")
struct AggregateRecorderTests {
    static func site(_ dir: TempDir) -> Site {
        let profile = Profile(name: "th", model: "th", channels: [
            ChannelSpec(name: "temperature", function: .input, address: 1, type: .i16, unit: "°C"),
            ChannelSpec(name: "humidity", function: .input, address: 2, type: .u16, unit: "%RH"),
        ])
        return Site(coop: "c", site: "farm-1", broker: BrokerConfig(clientID: "x"),
                    storage: StorageConfig(path: dir.path + "/outbox.sqlite", commitDelay: 0), buses: [],
                    devices: [DeviceConfig(name: "room-1", bus: "gw", slave: 1, profile: profile, pollMS: 1000,
                                           sharing: SharingPolicy(channels: ["humidity": .aggregate], aggregateWindow: 10))])
    }

    static func sample(_ t: Double, _ humidity: Double) -> DeviceSample {
        DeviceSample(device: "room-1", time: t, monotonic: t, readings: [
            Reading(channel: "temperature", value: 4, quality: .good, unit: "°C"),
            Reading(channel: "humidity", value: humidity, quality: .good, unit: "%RH"),
        ])
    }

    /// Runs a recorder over `samples` until all of them are committed, then stops it.
    static func record(_ site: Site, _ outbox: Outbox, _ samples: [DeviceSample]) async throws {
        let queue = SampleQueue()
        let log = CapturedLog()
        let recorder = Recorder(site: site, outbox: outbox, queue: queue, logger: log.logger(label: "aggregate-test"), onCommit: {})
        let task = Task { try await recorder.run() }
        for s in samples { queue.push(s) }
        queue.finish()
        // The recorder commits everything once the stream ends, then waits for a shutdown: cancel it.
        try await waitUntil(timeout: .seconds(10), "the polls committed") { () -> Bool? in
            let pending = try await outbox.pendingReadings(after: 0, limit: 1000)
            return pending.polls.count >= samples.count ? true : nil
        }
        // Then it saves its state and says so, its last act before it waits for a shutdown: cancel
        // only then (a cancel during the end-of-stream saves timed out under CI load).
        try await waitUntil(timeout: .seconds(10), "the recorder drained") { log.contains("recorder drained") ? true : nil }
        task.cancel()
        try? await task.value
    }

    static func aggregates(_ outbox: Outbox) async throws -> [[String: Any]] {
        try await outbox.pendingReadings(after: 0, limit: 1000).messages
            .filter { $0.topic == "coop/c/farm-1/room-1/aggregate" }
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any] }
    }

    @Test("a window is committed when the next one starts, and survives a restart half-way through the next")
    func windowsAcrossRestart() async throws {
        let dir = try TempDir()
        let site = Self.site(dir)
        let base = (Date().timeIntervalSince1970 / 10).rounded(.down) * 10 - 600
        var outbox = try await Outbox.open(site.storage)
        // Window [base, base+10): 80, 82, 84; then the first poll of the next window (90) closes it.
        try await Self.record(site, outbox, [Self.sample(base + 1, 80), Self.sample(base + 4, 82), Self.sample(base + 7, 84),
                                             Self.sample(base + 10.5, 90)])
        var found = try await Self.aggregates(outbox)
        #expect(found.count == 1)
        let first = try #require(found.first)
        let h = try #require((first["channels"] as? [String: Any])?["humidity"] as? [String: Any])
        #expect(h["count"] as? Int == 3 && h["min"] as? Double == 80 && h["max"] as? Double == 84 && h["mean"] as? Double == 82 && h["last"] as? Double == 84)
        #expect(first["key"] as? String == "farm-1/room-1/aggregate/\(Int(base))")
        #expect((first["channels"] as? [String: Any])?["temperature"] == nil, "a full channel is not aggregated")
        await outbox.close()

        // Restart mid-window: the next window holds 90 (before the restart) and 70 (after it).
        outbox = try await Outbox.open(site.storage)
        try await Self.record(site, outbox, [Self.sample(base + 15, 70), Self.sample(base + 20, 60)])
        found = try await Self.aggregates(outbox)
        #expect(found.count == 2)
        let second = try #require(found.last)
        let h2 = try #require((second["channels"] as? [String: Any])?["humidity"] as? [String: Any])
        #expect(h2["count"] as? Int == 2 && h2["min"] as? Double == 70 && h2["max"] as? Double == 90 && h2["mean"] as? Double == 80 && h2["last"] as? Double == 70,
                "\(second)")
        #expect(second["key"] as? String == "farm-1/room-1/aggregate/\(Int(base) + 10)")
        // Every poll is stored complete: the farm keeps the aggregate channel's readings too.
        let polls = try await outbox.pendingReadings(after: 0, limit: 1000).polls
        #expect(polls.count == 6 && polls.allSatisfy { $0.sample.readings.map(\.channel) == ["temperature", "humidity"] })
        await outbox.close()
    }
}

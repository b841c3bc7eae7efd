@testable import Agent
import EdgeCore
import Foundation
import Logging
import Outbox
import Testing

/// Issue 11, "honest time without an RTC": polls taken before NTP set the clock are corrected by
/// the step the clock took, once it is set.
@Suite("Re-stamping polls taken before the clock was set")
struct ClockRestampTests {
    static func sample(_ device: String, wall: Double, boot: Double, synced: Bool) -> DeviceSample {
        DeviceSample(device: device, time: wall, monotonic: boot, clockSynced: synced,
                     readings: [Reading(channel: "temperature", value: 4, quality: .good, unit: "°C")])
    }

    @Test("spans of one offset per device; the first synchronised poll gives each span its shift; nothing after that")
    func restamperArithmetic() {
        var r = ClockRestamper()
        // Booted at "2024-01-01" (a saved time); boot clock 10 s.
        let saved = 1_704_067_200.0
        #expect(r.observe(Self.sample("a", wall: saved + 10, boot: 10, synced: false), seq: 1) == nil)
        #expect(r.observe(Self.sample("b", wall: saved + 10.2, boot: 10.2, synced: false), seq: 7) == nil)
        #expect(r.observe(Self.sample("a", wall: saved + 11, boot: 11, synced: false), seq: 2) == nil)
        // A second step while still unsynchronised (+100 s): a new span for a.
        #expect(r.observe(Self.sample("a", wall: saved + 112, boot: 12, synced: false), seq: 3) == nil)
        // NTP: the real time is 2026-12-02 at boot 13 s.
        let real = 1_796_169_600.0
        let due = r.observe(Self.sample("b", wall: real + 13, boot: 13, synced: true), seq: 8)
        #expect(due == [
            .init(device: "a", seqs: 1...2, shift: real - saved),
            .init(device: "b", seqs: 7...7, shift: real - saved),
            .init(device: "a", seqs: 3...3, shift: real - saved - 100),
        ])
        #expect(r.synchronised)
        #expect(r.observe(Self.sample("a", wall: real + 14, boot: 14, synced: false), seq: 4) == nil, "after the first sync, nothing is kept")
    }

    @Test("the recorder corrects stored and waiting polls once the clock is set, flags them re-stamped, and says so in the log")
    func recorderRestamps() async throws {
        let dir = try TempDir()
        let profile = Profile(name: "th", model: "th", channels: [ChannelSpec(name: "temperature", function: .input, address: 1, type: .i16, unit: "°C")])
        let site = Site(coop: "c", site: "farm-1", broker: BrokerConfig(clientID: "x"),
                        storage: StorageConfig(path: dir.path + "/outbox.sqlite", commitDelay: 0), buses: [],
                        devices: [DeviceConfig(name: "room-1", bus: "gw", slave: 1, profile: profile, pollMS: 1000)])
        let outbox = try await Outbox.open(site.storage)
        let queue = SampleQueue()
        let log = CapturedLog()
        let recorder = Recorder(site: site, outbox: outbox, queue: queue, logger: log.logger(label: "restamp-test"), onCommit: {})
        let task = Task { try await recorder.run() }
        let saved = 1_704_067_200.0, real = 1_796_169_600.0
        // Three polls on the saved clock, committed one by one (commit delay 0).
        for i in 0..<3 {
            queue.push(Self.sample("room-1", wall: saved + Double(i), boot: 5 + Double(i), synced: false))
            try await waitUntil(timeout: .seconds(10), "poll \(i) stored") { () -> Bool? in
                try await outbox.pendingReadings(after: 0, limit: 100).polls.count > i ? true : nil
            }
        }
        // NTP steps the clock: the next poll is 2026-12-02, one second of boot time later.
        queue.push(Self.sample("room-1", wall: real + 8, boot: 8, synced: true))
        try await waitUntil(timeout: .seconds(10), "the log line") { log.contains("clock synchronised") ? true : nil }
        try await waitUntil(timeout: .seconds(10), "four polls stored") { () -> Bool? in
            try await outbox.pendingReadings(after: 0, limit: 100).polls.count == 4 ? true : nil
        }
        let stored = try await outbox.pendingReadings(after: 0, limit: 100).polls.map(\.sample).sorted { $0.time < $1.time }
        #expect(stored.map(\.time) == [real + 5, real + 6, real + 7, real + 8], "\(stored.map(\.time))")
        #expect(stored.prefix(3).allSatisfy { $0.clockSynced && $0.restamped })
        #expect(stored[3].clockSynced && !stored[3].restamped)
        let payload = String(decoding: StatePayload.encode(stored[0], seq: 1, site: "farm-1"), as: UTF8.self)
        #expect(payload.contains("\"clock_synced\":true") && payload.contains("\"restamped\":true"), "\(payload)")
        queue.finish()
        try await waitUntil(timeout: .seconds(10), "the recorder drained") { log.contains("recorder drained") ? true : nil }
        task.cancel()
        try? await task.value
        await outbox.close()
    }
}

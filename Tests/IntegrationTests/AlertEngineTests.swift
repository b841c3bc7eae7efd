import Agent
import Detection
import EdgeCore
import Foundation
import Testing

/// The agent's alert stage on its own: site rules and detectors over constructed polls.
struct AlertEngineTests {
    func site(_ rules: String = "") throws -> (Site, TempDir) {
        let dir = try TempDir()
        let path = try writeSite(dir, modbusPort: 1502, brokerPort: 1883, poll: "1m", extra: rules)
        return (try ConfigLoaderShim.load(path), dir)
    }

    func sample(_ device: String, wall: Double, mono: Double, temperature: Double?, quality: Quality = .good) -> DeviceSample {
        DeviceSample(device: device, time: wall, monotonic: mono, readings: [
            Reading(channel: "temperature", value: temperature, quality: quality, unit: "°C"),
            Reading(channel: "humidity", value: 88, quality: .good, unit: "%RH"),
        ])
    }

    @Test("'above 8 °C for 15 minutes' counts real minutes: an NTP step of three hours mid-breach raises nothing")
    func clockJumpDoesNotShortenDurations() throws {
        let (site, _dir) = try site("alerts:\n  - { channel: cold-room-1.temperature, above: 8.0, for: 15m }")
        var engine = AlertEngine(site: site)
        let t0 = 1.8e9
        #expect(engine.process(sample("cold-room-1", wall: t0, mono: 100, temperature: 9)).isEmpty)
        // The wall clock jumps three hours ahead one minute later (NTP sync after boot).
        #expect(engine.process(sample("cold-room-1", wall: t0 + 3 * 3600 + 60, mono: 160, temperature: 9)).isEmpty)
        // Fifteen real minutes after the breach began, it raises, stamped with the board's clock.
        let events = engine.process(sample("cold-room-1", wall: t0 + 3 * 3600 + 900, mono: 1000, temperature: 9.2))
        #expect(events.count == 1)
        #expect(events.first?.kind.rawValue == "threshold")
        #expect(events.first?.time == t0 + 3 * 3600 + 900)
        #expect(engine.active.count == 1)
        _ = _dir
    }

    @Test("the active set and the event payloads say which device and channel, in the farmer's words")
    func payloadsNameDeviceAndChannel() throws {
        let (site, _dir) = try site("alerts:\n  - { channel: cold-room-2.temperature, below: 0.5, for: 0s, severity: critical, message: \"Room 2 is freezing the onions\" }")
        var engine = AlertEngine(site: site)
        let e = try #require(engine.process(sample("cold-room-2", wall: 1.8e9, mono: 1, temperature: -1)).first)
        let event = try #require(try JSONSerialization.jsonObject(with: Data(engine.eventPayload(e, device: "cold-room-2", seq: 7))) as? [String: Any])
        #expect(event["device"] as? String == "cold-room-2")
        #expect(event["channel"] as? String == "temperature")
        #expect(event["severity"] as? String == "critical")
        #expect(event["message"] as? String == "Room 2 is freezing the onions")
        #expect(event["key"] as? String == "farm-1/cold-room-2.temperature/threshold/raise/7")
        let active = try #require(try JSONSerialization.jsonObject(with: Data(engine.activePayload(time: 1.8e9))) as? [String: Any])
        #expect((active["active"] as? [[String: Any]])?.count == 1)
        // Recovery clears it, and the active set empties.
        let clear = engine.process(sample("cold-room-2", wall: 1.8e9 + 60, mono: 61, temperature: 2))
        #expect(clear.first?.phase.rawValue == "clear")
        #expect(engine.active.isEmpty)
        _ = _dir
    }

    @Test("a restart neither restarts 'for 15 minutes', nor forgets an open threshold episode, nor raises it twice")
    func thresholdStateSurvivesRestarts() throws {
        let rule = "alerts:\n  - { channel: cold-room-1.temperature, above: 8.0, for: 15m }"
        let (site, _dir) = try site(rule)
        let t0 = 1.8e9
        var engine = AlertEngine(site: site)
        // Ten minutes above 8 °C, then the agent restarts (same boot: the monotonic clock runs on).
        for i in 0...10 { #expect(engine.process(sample("cold-room-1", wall: t0 + Double(i) * 60, mono: 100 + Double(i) * 60, temperature: 9)).isEmpty) }
        var second = AlertEngine(site: site)
        second.restore(engine.snapshot())
        var raised: [AlertEvent] = []
        for i in 11...16 {
            raised += second.process(sample("cold-room-1", wall: t0 + Double(i) * 60, mono: 100 + Double(i) * 60, temperature: 9))
        }
        // Fifteen minutes after the breach began, not fifteen after the restart.
        #expect(raised.count == 1)
        #expect(raised.first?.time == t0 + 15 * 60)

        // Restarted again while the episode is open: still in the active set, not raised again.
        var third = AlertEngine(site: site)
        third.restore(second.snapshot())
        #expect(third.active.count == 1)
        #expect(third.active.values.first?.event.message == raised.first?.message)
        for i in 17...40 { #expect(third.process(sample("cold-room-1", wall: t0 + Double(i) * 60, mono: 100 + Double(i) * 60, temperature: 9.5)).isEmpty) }
        let clear = third.process(sample("cold-room-1", wall: t0 + 41 * 60, mono: 100 + 41 * 60, temperature: 6))
        #expect(clear.map(\.phase.rawValue) == ["clear"])
        #expect(third.active.isEmpty)

        // A rule that changed in the site file starts afresh: no state, no active episode.
        let (changed, _dir2) = try self.site("alerts:\n  - { channel: cold-room-1.temperature, above: 10.0, for: 15m }")
        var other = AlertEngine(site: changed)
        other.restore(second.snapshot())
        #expect(other.active.isEmpty)
        _ = (_dir, _dir2)
    }

    @Test("an announced heat budget stays in the active set across a restart and is not announced again")
    func spoilageEpisodeSurvivesRestarts() throws {
        let (site, _dir) = try site("spoilage:\n  - { channel: cold-room-1.temperature, commodity: onions, safe: 4.0, budget_degree_hours: 1 }")
        var engine = AlertEngine(site: site)
        var events: [AlertEvent] = []
        // +2 °C over a one degree-hour budget: 60 % after 18 minutes, all of it after 30.
        for i in 0..<25 { events += engine.process(sample("cold-room-1", wall: 1.8e9 + Double(i) * 60, mono: Double(i) * 60, temperature: 6)) }
        #expect(events.count == 1, "\(events.map(\.message))")
        var restarted = AlertEngine(site: site)
        restarted.restore(engine.snapshot())
        #expect(restarted.active.count == 1)
        #expect(restarted.active.values.first?.event.kind == .spoilageBudget)
        var again: [AlertEvent] = []
        for i in 25..<28 { again += restarted.process(sample("cold-room-1", wall: 1.8e9 + Double(i) * 60, mono: Double(i) * 60, temperature: 6)) }
        #expect(again.isEmpty)
        _ = _dir
    }

    @Test("baselines and spent heat budgets survive a restart")
    func snapshotRestores() throws {
        let (site, _dir) = try site("spoilage:\n  - { channel: cold-room-1.temperature, commodity: onions, safe: 4.0, budget_degree_hours: 10 }")
        var engine = AlertEngine(site: site)
        for i in 0..<30 { _ = engine.process(sample("cold-room-1", wall: 1.8e9 + Double(i) * 60, mono: Double(i) * 60, temperature: 6)) }
        var restarted = AlertEngine(site: site)
        restarted.restore(engine.snapshot())
        // 30 minutes at 2 °C above safe = 1 degree-hour used; 4 more hours at 6 °C pass 60 % (6 °C·h).
        var shares: [String] = []
        for i in 0..<240 {
            for e in restarted.process(sample("cold-room-1", wall: 1.9e9 + Double(i) * 60, mono: 5e5 + Double(i) * 60, temperature: 6)) {
                shares.append(e.message)
            }
        }
        #expect(shares.count == 1, "\(shares)")
        #expect(shares.first?.lowercased().contains("onions") == true)
        _ = _dir
    }

    @Test("a reload keeps the state of unchanged channels, starts changed ones afresh, and drops a removed device's alerts")
    func reloadTakesOverUnchangedChannels() throws {
        let (site, _dir) = try site("""
            alerts:
              - { channel: cold-room-1.temperature, above: 8.0, for: 0s }
              - { channel: cold-room-2.temperature, above: 8.0, for: 0s }
            """)
        var old = AlertEngine(site: site)
        #expect(old.process(sample("cold-room-1", wall: 1.8e9, mono: 1, temperature: 9)).count == 1)
        #expect(old.process(sample("cold-room-2", wall: 1.8e9, mono: 1, temperature: 9)).count == 1)
        for i in 0..<30 {
            _ = old.process(DeviceSample(device: "field-a-soil", time: 1.8e9 + Double(i) * 60, monotonic: 1 + Double(i) * 60, readings: [
                Reading(channel: "moisture", value: 30 + Double(i % 3), quality: .good, unit: "%VWC"),
            ]))
        }
        #expect(old.active.count == 2)

        // The same site: every detector (soil moisture, the scale's two weights) keeps its state.
        var same = AlertEngine(site: site)
        #expect(same.takeOver(from: old) == 3)
        #expect(same.active.keys.sorted() == old.active.keys.sorted())

        // cold-room-2 removed, the scale polled at another interval (its detectors' settings change).
        var reloaded = site
        reloaded.devices.removeAll { $0.name == "cold-room-2" }
        let scale = try #require(reloaded.devices.firstIndex { $0.name == "maize-scale" })
        reloaded.devices[scale].pollMS = 120_000
        var engine = AlertEngine(site: reloaded)
        #expect(engine.takeOver(from: old) == 1)
        #expect(engine.state(device: "field-a-soil", channel: "moisture")?.score == old.state(device: "field-a-soil", channel: "moisture")?.score)
        #expect(Array(engine.active.keys) == ["cold-room-1.temperature/threshold"])
        // The open episode goes on: still above raises nothing again; below clears it.
        #expect(engine.process(sample("cold-room-1", wall: 1.8e9 + 1800, mono: 1801, temperature: 9)).isEmpty)
        #expect(engine.process(sample("cold-room-1", wall: 1.8e9 + 1860, mono: 1861, temperature: 5)).first?.phase.rawValue == "clear")
        _ = _dir
    }
}

import Config
enum ConfigLoaderShim {
    static func load(_ path: String) throws -> Site { try ConfigLoader.loadSite(path: path) }
}

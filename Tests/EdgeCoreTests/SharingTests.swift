import EdgeCore
import Foundation
import Testing

/// Issue 10, point 2: what a state payload keeps, and the aggregate arithmetic and windows.
@Suite("Sharing: policy, aggregate windows, payloads")
struct SharingTests {
    func sample(_ time: Double, _ values: [(String, Double?, Quality)], device: String = "room-1") -> DeviceSample {
        DeviceSample(device: device, time: time, monotonic: time,
                     readings: values.map { Reading(channel: $0.0, value: $0.1, quality: $0.2, unit: $0.0 == "humidity" ? "%RH" : "°C") })
    }

    @Test("a state payload keeps only the full channels; nothing full left: no message")
    func policyFilters() throws {
        let p = SharingPolicy(defaultMode: .full, channels: ["humidity": .aggregate, "door": .none])
        let s = sample(100, [("temperature", 4, .good), ("humidity", 80, .good), ("door", 1, .good)])
        #expect(p.shared(s)?.readings.map(\.channel) == ["temperature"])
        let json = String(decoding: StatePayload.encode(try #require(p.shared(s)), seq: 1, site: "farm"), as: UTF8.self)
        #expect(!json.contains("humidity") && !json.contains("door") && json.contains("temperature"))
        #expect(SharingPolicy(defaultMode: .aggregate).shared(s) == nil)
        #expect(SharingPolicy(defaultMode: .none, channels: ["door": .aggregate]).shared(s) == nil)
        #expect(SharingPolicy().shared(s) == s, "full: unchanged")
    }

    @Test("windows are aligned to the clock")
    func alignment() {
        #expect(AggregateWindow.windowStart(1_769_706_899.9, length: 900) == 1_769_706_000)
        #expect(AggregateWindow.windowStart(1_769_706_900, length: 900) == 1_769_706_900)
        #expect(AggregateWindow.windowStart(25, length: 10) == 20)
        #expect(AggregateWindow.windowStart(3599.999, length: 3600) == 0)
        // :00, :15, :30, :45 whatever the first poll's time.
        for t in stride(from: 1_769_700_000.0, to: 1_769_710_000, by: 337) {
            let start = AggregateWindow.windowStart(t, length: 900)
            #expect(start.truncatingRemainder(dividingBy: 900) == 0 && start <= t && t < start + 900)
        }
    }

    @Test("min / mean / max / count / last of good values; a window closes at the first poll of the next")
    func arithmetic() throws {
        var w = AggregateWindow(device: "room-1", length: 10, channels: ["humidity"])
        #expect(w.add(sample(100.5, [("temperature", 4, .good), ("humidity", 80, .good)])) == nil)
        #expect(w.add(sample(103, [("humidity", 86, .good)])) == nil)
        #expect(w.add(sample(104, [("humidity", nil, .commFault)])) == nil)
        #expect(w.add(sample(105, [("humidity", 150, .outOfRange)])) == nil)
        #expect(w.add(sample(109.99, [("humidity", 83, .good)])) == nil)
        let c1 = w.add(sample(110, [("humidity", 70, .good)]))
        let closed = try #require(c1)
        #expect(closed.start == 100 && closed.end == 110 && closed.seq == 10)
        let h = try #require(closed.channels.first)
        #expect(h.channel == "humidity" && h.unit == "%RH")
        #expect(h.count == 3 && h.min == 80 && h.max == 86 && h.mean == 83 && h.last == 83)
        // The next window began with the poll that closed this one.
        #expect(w.summary()?.channels.first?.count == 1 && w.summary()?.start == 110)
        // A window with no good value: count 0, no statistics.
        let e1 = w.add(sample(131, [("humidity", nil, .sentinel)]))
        let empty = try #require(e1)
        #expect(empty.start == 110)
        _ = w.add(sample(145, [("humidity", 1, .good)]))
        var silent = try #require(w.summary())
        silent.channels[0] = ChannelAggregate(channel: "humidity", unit: "%RH")
        let json = try JSONSerialization.jsonObject(with: Data(SharingPayload.aggregate(silent, site: "farm-17"))) as? [String: Any]
        let ch = (json?["channels"] as? [String: Any])?["humidity"] as? [String: Any]
        #expect(ch?["count"] as? Int == 0 && ch?["mean"] == nil)
    }

    @Test("the aggregate message: documented members, a key per device and window")
    func payload() throws {
        var w = AggregateWindow(device: "room-1", length: 900, channels: ["humidity", "temperature"])
        _ = w.add(sample(1_769_706_001, [("temperature", 4.25, .good), ("humidity", 81.5, .good)]))
        _ = w.add(sample(1_769_706_500, [("temperature", 4.75, .good), ("humidity", 82.5, .good)]))
        let c2 = w.add(sample(1_769_706_900, [("temperature", 5, .good)]))
        let closed = try #require(c2)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(SharingPayload.aggregate(closed, site: "farm-17"))) as? [String: Any])
        #expect(obj["device"] as? String == "room-1")
        #expect(obj["key"] as? String == "farm-17/room-1/aggregate/1769706000")
        #expect(obj["seq"] as? Int == 1_966_340)
        #expect(obj["start"] as? String == "2026-01-29T17:00:00.000Z" && obj["end"] as? String == "2026-01-29T17:15:00.000Z")
        #expect(obj["window_s"] as? Int == 900)
        let t = try #require((obj["channels"] as? [String: Any])?["temperature"] as? [String: Any])
        #expect(t["unit"] as? String == "°C" && t["count"] as? Int == 2)
        #expect(t["min"] as? Double == 4.25 && t["mean"] as? Double == 4.5 && t["max"] as? Double == 4.75 && t["last"] as? Double == 4.75)
    }

    @Test("the window under way survives a restart through its saved state; a changed window length drops it")
    func state() throws {
        var w = AggregateWindow(device: "room-1", length: 10, channels: ["humidity"])
        _ = w.add(sample(100, [("humidity", 80.1, .good)]))
        _ = w.add(sample(101, [("humidity", 79.7, .good)]))
        var restored = AggregateWindow(device: "room-1", length: 10, channels: ["humidity"])
        restored.restore(w.encodeState())
        #expect(restored == w)
        var other = AggregateWindow(device: "room-1", length: 20, channels: ["humidity"])
        other.restore(w.encodeState())
        #expect(other.summary() == nil)
        var garbage = AggregateWindow(device: "room-1", length: 10, channels: ["humidity"])
        garbage.restore(Array("10\tnot a number".utf8))
        #expect(garbage.summary() == nil)
    }

    @Test("the retained sharing message states every device's channels and alerts")
    func policyMessage() throws {
        let profile = Profile(name: "th", model: "th", channels: [
            ChannelSpec(name: "temperature", function: .input, address: 1, type: .i16, unit: "°C"),
            ChannelSpec(name: "humidity", function: .input, address: 2, type: .u16, unit: "%RH"),
        ])
        let site = Site(coop: "c", site: "farm-17", broker: BrokerConfig(clientID: "x"), storage: StorageConfig(path: "/tmp/x"), buses: [],
                        devices: [DeviceConfig(name: "room-1", bus: "gw", slave: 1, profile: profile, pollMS: 1000,
                                               sharing: SharingPolicy(channels: ["humidity": .none], aggregateWindow: 600, alerts: false))])
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(SharingPayload.policy(site))) as? [String: Any])
        let d = try #require((obj["devices"] as? [String: Any])?["room-1"] as? [String: Any])
        #expect(obj["site"] as? String == "farm-17")
        #expect(d["alerts"] as? Bool == false && d["aggregate_window_s"] as? Int == 600)
        #expect(d["channels"] as? [String: String] == ["temperature": "full", "humidity": "none"])
        #expect(site.sharingTopic == "coop/c/farm-17/sharing" && site.aggregateTopic(device: "room-1") == "coop/c/farm-17/room-1/aggregate")
    }
}

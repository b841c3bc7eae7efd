import EdgeCore
import Foundation
import Testing
@testable import Config

/// Issue 10, point 2: what each device and channel shares (`share:`, `aggregate_window:`,
/// `share_alerts:`), and the errors an installer sees for a wrong value.
@Suite("Sharing per device or channel in the site file")
struct SharingConfigTests {
    func site(_ devices: String, top: String = "") -> String {
        """
        coop: example-coop
        site: farm-17
        broker: { url: mqtt://127.0.0.1:1883 }
        \(top)
        buses:
          - { name: warehouse, tcp: { host: 127.0.0.1, port: 1502 } }
        devices:
        \(devices)
        """
    }

    @Test("defaults share everything, 15 min windows, alerts on")
    func defaults() throws {
        let s = try Scratch()
        let loaded = try ConfigLoader.loadSite(path: try s.site(site("  - { name: room-1, bus: warehouse, slave: 3, profile: th-transmitter, poll: 1m }")))
        let p = loaded.devices[0].sharing
        #expect(p == SharingPolicy())
        #expect(p.sharesEverything && p.alerts && p.aggregateWindow == 900)
        #expect(loaded.devices[0].aggregateChannels.isEmpty)
    }

    @Test("a device-wide mode, per-channel overrides, window per device or site-wide, alerts off")
    func parses() throws {
        let s = try Scratch()
        let path = try s.site(site("""
              - { name: room-1, bus: warehouse, slave: 3, profile: th-transmitter, poll: 1m, share: none, share_alerts: false }
              - name: room-2
                bus: warehouse
                slave: 4
                profile: th-transmitter
                poll: 10s
                share: { default: aggregate, temperature: full }
              - name: field-a
                bus: warehouse
                slave: 5
                profile: soil-probe
                poll: 10s
                share: { moisture: aggregate, conductivity: none }
                aggregate_window: 1h
            """, top: "aggregate_window: 5m"))
        let loaded = try ConfigLoader.loadSite(path: path)
        let (a, b, c) = (loaded.devices[0].sharing, loaded.devices[1].sharing, loaded.devices[2].sharing)
        #expect(a.mode(for: "temperature") == .none && a.mode(for: "humidity") == .none && !a.alerts)
        #expect(b.mode(for: "temperature") == .full && b.mode(for: "humidity") == .aggregate && b.alerts)
        #expect(b.aggregateWindow == 300, "the site-wide window")
        #expect(c.aggregateWindow == 3600, "the device's own window")
        #expect(c.mode(for: "moisture") == .aggregate && c.mode(for: "temperature") == .full && c.mode(for: "conductivity") == .none)
        #expect(loaded.devices[2].aggregateChannels == ["moisture"])
        #expect(b.describe("humidity") == "aggregate 5m" && c.describe("moisture") == "aggregate 1h" && c.describe("conductivity") == "none")
    }

    @Test("wrong values: file:line:column errors with did-you-mean")
    func errors() throws {
        let s = try Scratch()
        let path = try s.site(site("""
              - { name: room-1, bus: warehouse, slave: 3, profile: th-transmitter, poll: 1m, share: agregate }
              - { name: room-2, bus: warehouse, slave: 4, profile: th-transmitter, poll: 1m, share: { humidty: none, temperature: ful } }
              - { name: room-3, bus: warehouse, slave: 5, profile: th-transmitter, poll: 1m, share: aggregate, aggregate_window: 1s, share_alerts: maybe }
              - { name: room-4, bus: warehouse, slave: 6, profile: th-transmitter, poll: 1m, shares: full }
              - { name: room-5, bus: warehouse, slave: 7, profile: th-transmitter, poll: 1m, share: aggregate, aggregate_window: 30s }
            """))
        let problems = ConfigLoader.check(sitePath: path)
        let text = problems.map { "\($0.line):\($0.column):\($0.path): \($0.message)" }
        #expect(text.contains { $0.hasPrefix("8:") && $0.contains("devices[0].share: 'agregate' is not a sharing mode; use full, aggregate or none — did you mean 'aggregate'?") }, "\(text)")
        #expect(text.contains { $0.hasPrefix("9:") && $0.contains("devices[1].share.humidty: unknown key 'humidty' — did you mean 'humidity'?") }, "\(text)")
        #expect(text.contains { $0.hasPrefix("9:") && $0.contains("devices[1].share.temperature: 'ful' is not a sharing mode; use full, aggregate or none — did you mean 'full'?") }, "\(text)")
        #expect(text.contains { $0.hasPrefix("10:") && $0.contains("devices[2].aggregate_window: 'aggregate_window' must be between 5s and 24h") }, "\(text)")
        #expect(text.contains { $0.hasPrefix("10:") && $0.contains("devices[2].share_alerts: 'share_alerts' must be true or false, not 'maybe'") }, "\(text)")
        #expect(text.contains { $0.hasPrefix("11:") && $0.contains("unknown key 'shares' — did you mean 'share'?") }, "\(text)")
        #expect(text.contains { $0.hasPrefix("12:") && $0.contains("shorter than the poll interval") }, "\(text)")
        // Columns point at the value itself.
        let agregate = try #require(problems.first { $0.message.contains("'agregate'") })
        let line = String(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)[agregate.line - 1])
        #expect(line.dropFirst(agregate.column - 1).hasPrefix("agregate"))
        #expect(problems.count == 7, "\(text)")
    }
}

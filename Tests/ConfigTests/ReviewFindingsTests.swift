import Foundation
import Testing
@testable import Config

/// Inputs a review found were accepted although they could never work.
struct ReviewFindingsTests {
    func check(_ site: String, profile: String? = nil) throws -> [ConfigDiagnostic] {
        let dir = NSTemporaryDirectory() + "coop-edge-review-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir + "/profiles", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try (profile ?? """
            model: m
            channels:
              temperature: { function: input, address: 1, type: i16, scale: 0.1 }
            """).write(toFile: dir + "/profiles/p.yaml", atomically: true, encoding: .utf8)
        try site.write(toFile: dir + "/site.yaml", atomically: true, encoding: .utf8)
        return ConfigLoader.check(sitePath: dir + "/site.yaml", profilesDirectory: dir + "/profiles")
    }

    func site(prefix: String = "", bus: String = "{ name: b, tcp: { host: 127.0.0.1, port: 502 } }", slave: Int = 1, extra: String = "") -> String {
        """
        coop: c
        site: s
        \(prefix)
        broker: { url: "mqtt://127.0.0.1:1883" }
        buses: [ \(bus) ]
        devices: [ { name: d, bus: b, slave: \(slave), profile: p, poll: 1s } ]
        \(extra)
        """
    }

    @Test("a topic_prefix with a wildcard is refused at its line and column")
    func topicPrefixWildcard() throws {
        let d = try check(site(prefix: "topic_prefix: coop/+/x"))
        #expect(d.count == 1)
        #expect(d.first?.line == 3 && d.first?.column == 15, "\(d)")
        #expect(d.first?.message.contains("topic_prefix") == true)
    }

    @Test("slave 0 on a serial line is refused; on TCP it is a legal unit id")
    func broadcastSlave() throws {
        let rtu = try check(site(bus: "{ name: b, rtu: { device: /dev/ttyUSB0 } }", slave: 0))
        #expect(rtu.contains { $0.message.contains("broadcast") })
        #expect(try check(site(slave: 0)).isEmpty)
    }

    @Test("a sentinel the register type cannot hold is refused")
    func sentinelOutsideRawRange() throws {
        let d = try check(site(), profile: """
            model: m
            channels:
              temperature: { function: input, address: 1, type: i16, sentinels: [0x8000] }
            """)
        #expect(d.contains { $0.message.contains("can never appear in a i16") }, "\(d)")
    }

    @Test("spoilage shares that are not numbers, and non-positive Q10 settings, are refused")
    func spoilageNonsense() throws {
        let d = try check(site(extra: """
            spoilage:
              - { channel: d.temperature, commodity: onions, reference: 4, shelf_life_hours: 0, q10: -2, alert_at: [.nan] }
            """))
        #expect(d.contains { $0.message.contains("'q10' must be above 0") }, "\(d)")
        #expect(d.contains { $0.message.contains("'shelf_life_hours' must be above 0") }, "\(d)")
        #expect(d.contains { $0.path.contains("alert_at[0]") }, "\(d)")
    }

    @Test("a device name with a control character is refused: no broker accepts it in a topic")
    func controlCharacterInName() throws {
        let d = try check(site().replacingOccurrences(of: "name: d,", with: "name: \"cold\\troom\","))
        #expect(d.contains { $0.message.contains("device name may not contain") }, "\(d)")
    }
}

import EdgeCore
import Foundation
import Testing
@testable import Config

/// A cold room's defrost cycle in the site file (`defrost:`) and a controller's status channels in a
/// profile (`role:`): what parses, and the errors an installer sees for what does not.
@Suite("Defrost and status roles in the configuration")
struct DefrostConfigTests {
    static let controller = """
        model: test cold-room controller
        channels:
          temperature: { function: input, address: 0, type: i16, scale: 0.1, unit: "°C", kind: temperature }
          defrost:     { function: discrete, address: 0, role: defrost }
          door:        { function: discrete, address: 1, role: door }
          compressor:  { function: coil, address: 0, role: compressor }
        """

    func site(_ device: String) -> String {
        """
        coop: example-coop
        site: farm-17
        broker: { url: mqtt://127.0.0.1:1883 }
        buses:
          - { name: warehouse, tcp: { host: 127.0.0.1, port: 1502 } }
        devices:
        \(device)
        """
    }

    @Test("declared schedules: every + duration, clock times in the farm's own time zone, learn off")
    func declared() throws {
        let s = try Scratch()
        let path = try s.site(site("""
              - { name: room-1, bus: warehouse, slave: 3, profile: th-transmitter, poll: 1m, detect: { temperature: cold_room }, defrost: { every: 6h, duration: 40m } }
              - { name: room-2, bus: warehouse, slave: 4, profile: th-transmitter, poll: 1m, detect: { temperature: cold_room }, defrost: { at: ["02:00", "14:00"], duration: 30m, utc_offset: "+05:30" } }
              - { name: room-3, bus: warehouse, slave: 5, profile: th-transmitter, poll: 1m, detect: { temperature: cold_room }, defrost: { learn: false } }
            """))
        let loaded = try ConfigLoader.loadSite(path: path)
        #expect(loaded.devices[0].defrost == DefrostDeclaration(every: 21_600, duration: 2_400))
        // 02:00 and 14:00 at +05:30 are 20:30 and 08:30 UTC.
        #expect(loaded.devices[1].defrost?.clockTimes == [8.5 * 3600, 20.5 * 3600])
        #expect(loaded.devices[1].defrost?.duration == 1_800)
        #expect(loaded.devices[2].defrost == DefrostDeclaration(learn: false))
    }

    @Test("mistakes in a defrost declaration name the line, the field and the fix")
    func mistakes() throws {
        let s = try Scratch()
        let device = "  - { name: room-1, bus: warehouse, slave: 3, profile: th-transmitter, poll: 1m, detect: { temperature: cold_room }, defrost: %@ }"
        func problems(_ defrost: String) throws -> [String] {
            let path = try s.site(site(device.replacingOccurrences(of: "%@", with: defrost)))
            return ConfigLoader.check(sitePath: path).map { "\($0.line):\($0.path): \($0.message)" }
        }
        #expect(try problems("{ every: 6h }") == ["7:devices[0].defrost: missing field 'duration' — how long one defrost's heater runs, e.g. 40m"])
        #expect(try problems("{ every: 20m, duration: 10m }") == ["7:devices[0].defrost.every: 'every' is the time from one defrost start to the next: between 1h and 48h, not 1200 s"])
        #expect(try problems("{ at: [\"2am\"], duration: 30m }") == ["7:devices[0].defrost.at[0]: a defrost start is a clock time HH:MM, e.g. \"02:00\""])
        #expect(try problems("{ at: [\"02:00\"], duration: 30m, utc_offset: IST }") == ["7:devices[0].defrost.utc_offset: 'utc_offset' must look like +05:30 or -03:00, not 'IST'"])
        #expect(try problems("{ every: 6h, duration: 30m, at: [\"02:00\"] }") == ["7:devices[0].defrost.at: give either 'every' or 'at', not both"])
        #expect(try problems("{ evry: 6h }").first?.contains("unknown key 'evry' — did you mean 'every'?") == true)
        // A device without a cold-room detector has nothing to tell.
        let plain = try s.site(site("  - { name: room-1, bus: warehouse, slave: 3, profile: th-transmitter, poll: 1m, defrost: { every: 6h, duration: 30m } }"))
        #expect(ConfigLoader.check(sitePath: plain).map(\.message) == [
            "'defrost' tells a cold-room detector about the room's defrost cycle, but no channel of this device has one: add e.g. detect: { temperature: cold_room }",
        ])
    }

    @Test("status roles parse; 'from' must name a defrost status on another device")
    func roles() throws {
        let s = try Scratch()
        try s.profile("controller", Self.controller)
        let path = try s.site(site("""
              - { name: controller-1, bus: warehouse, slave: 9, profile: controller, poll: 30s }
              - { name: room-1, bus: warehouse, slave: 3, profile: th-transmitter, poll: 1m, detect: { temperature: cold_room }, defrost: { from: controller-1.defrost } }
            """))
        let loaded = try ConfigLoader.loadSite(path: path)
        #expect(loaded.devices[0].channels.map(\.role) == [nil, .defrost, .door, .compressor])
        #expect(loaded.devices[1].defrost?.from == "controller-1.defrost")

        let wrong = try s.site(site("""
              - { name: controller-1, bus: warehouse, slave: 9, profile: controller, poll: 30s }
              - { name: room-1, bus: warehouse, slave: 3, profile: th-transmitter, poll: 1m, detect: { temperature: cold_room }, defrost: { from: controller-1.door } }
              - { name: room-2, bus: warehouse, slave: 4, profile: th-transmitter, poll: 1m, detect: { temperature: cold_room }, defrost: { from: controler-1.defrost } }
            """), name: "wrong")
        #expect(ConfigLoader.check(sitePath: wrong).map { "\($0.line):\($0.path): \($0.message)" } == [
            "8:devices[1].defrost.from: 'controller-1.door' is not a defrost status: its profile channel needs 'role: defrost' (a coil or register that is non-zero while the heater is on)",
            "9:devices[2].defrost.from: 'from' must name a device's defrost status as device.channel, e.g. controller-1.defrost; there is no device 'controler-1' — did you mean 'controller-1'?",
        ])

        try s.profile("bad-role", """
            model: x
            channels:
              defrost: { function: holding, address: 0, type: f32, role: defrost }
              door: { function: discrete, address: 0, role: dor }
            """)
        let problems = ConfigLoader.check(sitePath: try s.site(site("  - { name: c, bus: warehouse, slave: 9, profile: bad-role, poll: 30s }"), name: "bad"))
        #expect(problems.map(\.message).sorted() == [
            "'role' is 'dor'; it must be one of defrost, door, compressor — did you mean 'door'?",
            "a status channel (role) is a bit or an integer register (non-zero = on), not f32",
        ])
    }
}

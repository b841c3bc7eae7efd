import Foundation
import Testing
@testable import Config

/// A profile whose channels share registers passes nothing: each would read the other's bits
/// (humidity at temperature's address read as "89.3 °C", an i32 over another as -19557993 kg).
@Suite("Profile register overlaps")
struct ProfileOverlapTests {
    func problems(_ scratch: Scratch, _ channels: String) throws -> [String] {
        try scratch.profile("sensor", "model: test sensor\nchannels:\n" + channels)
        let site = try scratch.site("""
            coop: c
            site: s
            broker: { url: mqtt://127.0.0.1:1883 }
            buses: [ { name: b, tcp: { host: 127.0.0.1, port: 1502 } } ]
            devices: [ { name: d, bus: b, slave: 1, profile: sensor, poll: 1s } ]
            """)
        return ConfigLoader.check(sitePath: site).map { "\($0.line):\($0.column): \($0.message) (at \($0.path))" }
    }

    @Test("two channels on one register, and a 32-bit value over the next channel, name both lines")
    func overlaps() throws {
        let s = try Scratch()
        #expect(try problems(s, """
              temperature: { function: input, address: 1, type: i16, scale: 0.1 }
              humidity:    { function: input, address: 1, type: u16, scale: 0.1 }
            """) == ["4:44: 'humidity' (input registers 1…1) overlaps 'temperature' (input 1, line 3): each register belongs to one channel — check the datasheet's register map (at channels.humidity.address)"])
        #expect(try problems(s, """
              weight: { function: holding, address: 0, type: i32, order: CDAB }
              status: { function: holding, address: 1, type: u16 }
            """) == ["4:41: 'status' (holding registers 1…1) overlaps 'weight' (holding 0…1, line 3): each register belongs to one channel — check the datasheet's register map (at channels.status.address)"])
    }

    @Test("the same address in another table, adjacent registers and the real profiles are fine")
    func noOverlap() throws {
        let s = try Scratch()
        #expect(try problems(s, """
              weight:  { function: holding, address: 0, type: i32 }
              tare:    { function: holding, address: 2, type: i32 }
              temp:    { function: input, address: 0, type: i16 }
              relay:   { function: coil, address: 0 }
              door:    { function: discrete, address: 0 }
            """) == [])
        for name in try FileManager.default.contentsOfDirectory(atPath: realProfilesDirectory) where name.hasSuffix(".yaml") {
            var diagnostics: [ConfigDiagnostic] = []
            _ = ConfigLoader.parseProfile(path: "\(realProfilesDirectory)/\(name)", diagnostics: &diagnostics)
            #expect(diagnostics.isEmpty, "\(name): \(diagnostics)")
        }
    }
}

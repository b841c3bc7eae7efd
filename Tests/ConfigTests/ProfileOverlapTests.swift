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

/// Serial ports in a site: two buses cannot share one, and one that is not plugged in is a warning
/// that lists the ports that are.
@Suite("Serial ports in a site")
struct SerialPortTests {
    func site(_ buses: String) -> String {
        """
        coop: c
        site: s
        broker: { url: mqtt://127.0.0.1:1883 }
        buses:
        \(buses)
        devices:
          - { name: d, bus: a, slave: 1, profile: th-transmitter, poll: 1s }
        """
    }

    @Test("two buses on one serial port, also through a by-id style link, are refused")
    func twoBusesOnePort() throws {
        let s = try Scratch()
        let port = s.root.appendingPathComponent("ttyUSB7").path
        _ = FileManager.default.createFile(atPath: port, contents: nil)
        let link = s.root.appendingPathComponent("usb-FTDI_RS485-if00-port0").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: port)
        let path = try s.site(site("""
              - { name: a, rtu: { device: \(port), baud: 9600 } }
              - { name: b, rtu: { device: \(link), baud: 19200 } }
            """))
        #expect(ConfigLoader.check(sitePath: path).map { "\($0.line): \($0.message)" } == [
            "6: bus 'b' uses serial port \(link), which bus 'a' (line 5) already uses: one port is one RS-485 line — list all its devices under one bus",
        ])
    }

    @Test("a serial port that does not exist is a warning at its line, listing the ports there are")
    func missingPort() throws {
        let s = try Scratch()
        let path = try s.site(site("  - { name: a, rtu: { device: /dev/ttyUSB-not-here, baud: 9600 } }"))
        #expect(ConfigLoader.check(sitePath: path).isEmpty, "a warning, not an error")
        let loaded = try ConfigLoader.loadSite(path: path)
        let warnings = ConfigLoader.portWarnings(site: loaded, sitePath: path)
        #expect(warnings.count == 1)
        #expect(warnings.first?.line == 5 && warnings.first?.column == 31, "\(warnings)")
        #expect(warnings.first?.message.hasPrefix("serial port /dev/ttyUSB-not-here does not exist (is the adapter plugged in?); ") == true)
        // A port that exists is no warning.
        let present = s.root.appendingPathComponent("ttyUSB0").path
        _ = FileManager.default.createFile(atPath: present, contents: nil)
        let ok = try s.site(site("  - { name: a, rtu: { device: \(present), baud: 9600 } }"), name: "ok")
        #expect(ConfigLoader.portWarnings(site: try ConfigLoader.loadSite(path: ok), sitePath: ok).isEmpty)
    }
}

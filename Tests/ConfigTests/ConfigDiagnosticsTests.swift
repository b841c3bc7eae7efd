import Foundation
import Testing
@testable import Config
import EdgeCore

/// One test per kind of configuration error: the exact message and the exact line:column an
/// installer's editor jumps to.
@Suite("Config diagnostics")
struct ConfigDiagnosticsTests {
    func check(_ scratch: Scratch, _ site: String) throws -> [Located] {
        let path = try scratch.site(site)
        let diagnostics = ConfigLoader.check(sitePath: path)
        for d in diagnostics where d.file != path && !d.file.hasPrefix(scratch.profiles.path) {
            Issue.record("diagnostic names an unexpected file: \(d)")
        }
        return diagnostics.map(Located.init)
    }

    @Test("the base site used by these tests is valid")
    func baseIsValid() throws {
        let s = try Scratch()
        #expect(try check(s, baseSite) == [])
    }

    @Test("unknown key, with a did-you-mean suggestion")
    func unknownKey() throws {
        let s = try Scratch()
        let site = baseSite.replacingOccurrences(of: "    tcp: { host: 127.0.0.1, port: 1502 }\n",
                                                 with: "    tcp: { host: 127.0.0.1, port: 1502 }\n    response_timout_ms: 800\n")
        #expect(try check(s, site) == [
            Located(8, 5, "buses[0].response_timout_ms", "unknown key 'response_timout_ms' — did you mean 'response_timeout_ms'?"),
        ])
        // Nothing close: the allowed keys are listed instead.
        #expect(try check(s, baseSite + "colour: red\n") == [
            Located(14, 1, "colour", "unknown key 'colour' (allowed here: \(ConfigLoader.siteKeys.joined(separator: ", ")))"),
        ])
    }

    @Test("broker protocol: MQTT 5 by default, 3.1.1 when asked, anything else named with its line and column")
    func brokerProtocol() throws {
        let s = try Scratch()
        #expect(try ConfigLoader.loadSite(path: try s.site(baseSite)).broker.protocolVersion == .v5)
        for (text, version) in [("\"3.1.1\"", EdgeCore.BrokerConfig.MQTTVersion.v311), ("3.1.1", .v311), ("5", .v5)] {
            let site = baseSite.replacingOccurrences(of: "  url: mqtt://127.0.0.1:1883\n", with: "  url: mqtt://127.0.0.1:1883\n  protocol: \(text)\n")
            #expect(try check(s, site) == [])
            #expect(try ConfigLoader.loadSite(path: try s.site(site)).broker.protocolVersion == version, "\(text)")
        }
        let wrong = baseSite.replacingOccurrences(of: "  url: mqtt://127.0.0.1:1883\n", with: "  url: mqtt://127.0.0.1:1883\n  protocol: 3.1\n")
        #expect(try check(s, wrong) == [
            Located(5, 13, "broker.protocol", "'protocol' is '3.1'; it must be one of 5, 3.1.1 — did you mean '3.1.1'?"),
        ])
    }

    @Test("missing required field")
    func missingField() throws {
        let s = try Scratch()
        let site = baseSite.replacingOccurrences(of: "    bus: warehouse\n", with: "")
        #expect(try check(s, site) == [Located(9, 5, "devices[0]", "missing field 'bus'")])
        // A missing top-level field is reported at the top of the file, with a hint.
        let noCoop = baseSite.replacingOccurrences(of: "coop: example-coop\n", with: "")
        #expect(try check(s, noCoop) == [
            Located(1, 1, "", "missing field 'coop' — the co-op's id, used in topics: coop/{coop}/{site}/…"),
        ])
    }

    @Test("wrong type")
    func wrongType() throws {
        let s = try Scratch()
        #expect(try check(s, baseSite.replacingOccurrences(of: "slave: 3", with: "slave: three")) == [
            Located(11, 12, "devices[0].slave", "'slave' must be a whole number, not 'three'"),
        ])
        #expect(try check(s, baseSite.replacingOccurrences(of: "slave: 3", with: "slave: [3]")) == [
            Located(11, 12, "devices[0].slave", "'slave' must be a whole number, not a list"),
        ])
        // A quoted number is text, not a number.
        #expect(try check(s, baseSite.replacingOccurrences(of: "slave: 3", with: "slave: \"3\"")) == [
            Located(11, 12, "devices[0].slave", "'slave' must be a whole number, not '3'"),
        ])
    }

    @Test("two devices with one slave id on one bus")
    func duplicateSlave() throws {
        let s = try Scratch()
        let site = baseSite + """
              - name: cold-room-2
                bus: warehouse
                slave: 3
                profile: th-transmitter
                poll: 2s

            """
        #expect(try check(s, site) == [
            Located(16, 12, "devices[1].slave", "slave 3 on bus 'warehouse' is already device 'cold-room-1': two devices cannot share a slave id on one bus — give each its own address"),
        ])
        // The same id on another bus is another device.
        let twoBuses = baseSite.replacingOccurrences(of: "devices:\n", with: "  - name: shed\n    tcp: { host: 127.0.0.1, port: 1503 }\ndevices:\n")
            + "  - { name: cold-room-2, bus: shed, slave: 3, profile: th-transmitter, poll: 2s }\n"
        #expect(try check(s, twoBuses) == [])
    }

    @Test("duplicate device name")
    func duplicateDevice() throws {
        let s = try Scratch()
        let site = baseSite + """
              - name: cold-room-1
                bus: warehouse
                slave: 4
                profile: th-transmitter
                poll: 2s

            """
        #expect(try check(s, site) == [
            Located(14, 11, "devices[1].name", "duplicate device name 'cold-room-1' (first defined at line 9)"),
        ])
    }

    @Test("duplicate channel name in a device's channels list")
    func duplicateChannelInList() throws {
        let s = try Scratch()
        #expect(try check(s, baseSite + "    channels: [temperature, temperature]\n") == [
            Located(14, 29, "devices[0].channels[1]", "duplicate channel 'temperature'"),
        ])
    }

    // Bug (when Yams composed the tree): the diagnostic pointed at the first 'temperature' (3:3, Yams's
    // checkDuplicates mark), not at the repeated key on line 5 that the installer has to remove.
    @Test("duplicate channel key inside a profile's channels mapping")
    func duplicateChannelInProfile() throws {
        let s = try Scratch()
        let profilePath = try s.profile("dup-probe", """
            model: Duplicate probe
            channels:
              temperature: { function: input, address: 1, type: i16 }
              humidity: { function: input, address: 2, type: u16 }
              temperature: { function: input, address: 3, type: i16 }

            """)
        let path = try s.site(baseSite.replacingOccurrences(of: "profile: th-transmitter", with: "profile: dup-probe"))
        let diagnostics = ConfigLoader.check(sitePath: path)
        #expect(diagnostics.map(\.file) == [profilePath])
        #expect(diagnostics.map(Located.init) == [
            Located(5, 3, "", "duplicate key 'temperature': each key may appear once in a mapping (first at line 3)"),
        ])
    }

    @Test("unknown profile, with a did-you-mean suggestion")
    func unknownProfile() throws {
        let s = try Scratch()
        let file = s.profiles.path + "/th-transmiter.yaml"
        #expect(try check(s, baseSite.replacingOccurrences(of: "profile: th-transmitter", with: "profile: th-transmiter")) == [
            Located(12, 14, "devices[0].profile", "unknown profile 'th-transmiter': no file \(file) — did you mean 'th-transmitter'?"),
        ])
        // A path is never a profile name.
        let escape = s.profiles.path + "/../sites/site.yaml"
        #expect(try check(s, baseSite.replacingOccurrences(of: "profile: th-transmitter", with: "profile: ../sites/site")) == [
            Located(12, 14, "devices[0].profile", "unknown profile '../sites/site': no file \(escape)"),
        ])
    }

    @Test("register address out of range")
    func addressOutOfRange() throws {
        let s = try Scratch()
        let profilePath = try s.profile("wide", """
            model: Wide meter
            channels:
              energy: { function: holding, address: 65535, type: u32 }
              last: { function: holding, address: 65534, type: u32 }
              beyond: { function: holding, address: 65536, type: u16 }

            """)
        let path = try s.site(baseSite.replacingOccurrences(of: "profile: th-transmitter", with: "profile: wide"))
        let diagnostics = ConfigLoader.check(sitePath: path)
        #expect(diagnostics.allSatisfy { $0.file == profilePath })
        #expect(diagnostics.map(Located.init) == [
            Located(3, 41, "channels.energy.address",
                    "register address out of range: a u32 at 65535 runs past the last address 65535"),
            Located(5, 41, "channels.beyond.address", "'address' is 65536; it must be between 0 and 65535"),
        ])
    }

    @Test("poll interval below 100 ms")
    func pollTooFast() throws {
        let s = try Scratch()
        #expect(try check(s, baseSite.replacingOccurrences(of: "poll: 2s", with: "poll: 50ms")) == [
            Located(13, 11, "devices[0].poll", "poll interval 50 ms is below the minimum of 100 ms"),
        ])
        #expect(try check(s, baseSite.replacingOccurrences(of: "poll: 2s", with: "poll: 0.05")) == [
            Located(13, 11, "devices[0].poll", "poll interval 50 ms is below the minimum of 100 ms"),
        ])
        // The minimum itself is allowed.
        #expect(try check(s, baseSite.replacingOccurrences(of: "poll: 2s", with: "poll: 100ms")) == [])
    }

    @Test("unknown bus, with a did-you-mean suggestion or the list of buses")
    func unknownBus() throws {
        let s = try Scratch()
        #expect(try check(s, baseSite.replacingOccurrences(of: "bus: warehouse", with: "bus: warehose")) == [
            Located(10, 10, "devices[0].bus", "unknown bus 'warehose' — did you mean 'warehouse'?"),
        ])
        #expect(try check(s, baseSite.replacingOccurrences(of: "bus: warehouse", with: "bus: attic")) == [
            Located(10, 10, "devices[0].bus", "unknown bus 'attic' (buses: warehouse)"),
        ])
    }

    @Test("several problems are all reported, each at its own place")
    func multipleProblems() throws {
        let s = try Scratch()
        let site = """
            coop: example-coop
            site: farm-17
            brokr:
              url: mqtt://127.0.0.1:1883
            buses:
              - name: warehouse
                tcp: { host: 127.0.0.1, port: 1502 }
            devices:
              - { name: a, bus: warehose, slave: 3, profile: th-transmitter, poll: 10ms }
              - { name: a, bus: warehouse, slave: 300, profile: th-transmitter, poll: 2s }

            """
        let found = try check(s, site)
        #expect(found == [
            Located(3, 1, "brokr", "unknown key 'brokr' — did you mean 'broker'?"),
            Located(1, 1, "", "missing field 'broker'"),
            Located(9, 21, "devices[0].bus", "unknown bus 'warehose' — did you mean 'warehouse'?"),
            Located(9, 72, "devices[0].poll", "poll interval 10 ms is below the minimum of 100 ms"),
            Located(10, 13, "devices[1].name", "duplicate device name 'a' (first defined at line 9)"),
            Located(10, 39, "devices[1].slave", "'slave' is 300; it must be between 0 and 247"),
        ])
        // loadSite refuses the file with the same list.
        let error = #expect(throws: ConfigError.self) {
            _ = try ConfigLoader.loadSite(path: s.sites.appendingPathComponent("site.yaml").path)
        }
        #expect(error?.diagnostics.map(Located.init) == found)
    }

    @Test("the CLI format is file:line:column: message (at path)")
    func cliFormat() throws {
        let s = try Scratch()
        let path = try s.site(baseSite.replacingOccurrences(of: "poll: 2s", with: "poll: 50ms"))
        let d = try #require(ConfigLoader.check(sitePath: path).first)
        #expect(d.description == "\(path):13:11: poll interval 50 ms is below the minimum of 100 ms (at devices[0].poll)")
        let whole = ConfigDiagnostic(file: "site.yaml", line: 1, column: 1, path: "", message: "file is empty")
        #expect(whole.description == "site.yaml:1:1: file is empty")
        let error = ConfigError([d, whole])
        #expect(error.description == "\(d.description)\nsite.yaml:1:1: file is empty")
    }

    @Test("a missing site file is one diagnostic, not a crash")
    func missingFile() throws {
        let s = try Scratch()
        let path = s.sites.appendingPathComponent("nope.yaml").path
        #expect(ConfigLoader.check(sitePath: path) == [
            ConfigDiagnostic(file: path, line: 1, column: 1, path: "", message: "no such file: \(path)"),
        ])
    }

    @Test("profiles_dir and the profilesDirectory argument are honoured")
    func profileDirectories() throws {
        let s = try Scratch(copyProfiles: false)
        let site = try s.site(baseSite)
        // Default: ../profiles beside the site's folder, here empty.
        #expect(ConfigLoader.check(sitePath: site).map(\.message).first?.hasPrefix("unknown profile 'th-transmitter'") == true)
        #expect(ConfigLoader.check(sitePath: site, profilesDirectory: realProfilesDirectory) == [])
        let relative = try s.site("profiles_dir: \(realProfilesDirectory)\n" + baseSite, name: "absolute")
        #expect(ConfigLoader.check(sitePath: relative) == [])
    }
}

@Suite("Spelling and TextGuard")
struct SpellingAndGuardTests {
    @Test("did-you-mean finds near misses, transpositions and case slips, and nothing for strangers")
    func spelling() {
        #expect(Spelling.nearest("pol", in: ["poll", "profile"]) == "poll")
        #expect(Spelling.nearest("plol", in: ["poll", "profile"]) == "poll")
        #expect(Spelling.nearest("PROFILE", in: ["poll", "profile"]) == "profile")
        #expect(Spelling.nearest("response_timout_ms", in: ConfigLoader.busKeys) == "response_timeout_ms")
        #expect(Spelling.nearest("colour", in: ConfigLoader.siteKeys) == nil)
        #expect(Spelling.nearest("x", in: []) == nil)
        #expect(Spelling.distance(Array("ab"), Array("ba")) == 1)
        #expect(Spelling.distance(Array(""), Array("abc")) == 3)
        #expect(Spelling.distance(Array("kitten"), Array("sitting")) == 3)
        let long = String(repeating: "a", count: 10_000)
        #expect(Spelling.nearest(long, in: ["a"]) == nil)
    }

    func guardFailure(_ bytes: [UInt8]) -> Located? {
        if case .failure(let d) = TextGuard.text(from: bytes, file: "f") { return Located(d) }
        return nil
    }

    @Test("TextGuard locates what is wrong with the file as a whole")
    func textGuard() {
        #expect(guardFailure([]) == Located(1, 1, "", "file is empty"))
        #expect(guardFailure(Array(" \n\t\r\n".utf8)) == Located(1, 1, "", "file is empty"))
        #expect(guardFailure(Array("a: b\nc: d\0".utf8)) == Located(2, 5, "", "file contains a NUL byte: this is binary data, not YAML text"))
        #expect(guardFailure(Array("a: \u{07}".utf8)) == Located(1, 4, "", "file contains control byte 0x7: this is binary data, not YAML text"))
        #expect(guardFailure(Array(("a: " + String(repeating: "[", count: 65)).utf8)) == Located(1, 68, "", "nesting deeper than 64 levels: a site file never needs this"))
        #expect(guardFailure(Array(("a: " + String(repeating: "[", count: 64) + String(repeating: "]", count: 64)).utf8)) == nil)
        #expect(guardFailure(Array(String(repeating: "- ", count: 65).utf8)) == Located(1, 129, "", "nesting deeper than 64 levels: a site file never needs this"))
        #expect(guardFailure(Array(("a:\n" + String(repeating: " ", count: 300) + "b: c").utf8))
                == Located(2, 257, "", "indented more than 256 columns: a site file never needs this"))
        #expect(guardFailure(Array("é: [\"[[[[\", '{{{{', # [[[[\n]".utf8)) == nil)
        #expect(guardFailure([UInt8](repeating: 0x61, count: (1 << 20) + 1))?.message
                == "file is 1.0 MiB; a configuration file may be at most 1 MiB — is this the right file?")
    }

    @Test("TextGuard points at the first byte that is not UTF-8")
    func invalidUTF8() {
        let message = "file is not UTF-8 text (invalid byte here): save it as UTF-8"
        #expect(guardFailure(Array("a: b\nc: ".utf8) + [0xFF] + Array("\n".utf8)) == Located(2, 4, "", message))
        #expect(guardFailure(Array("é: ".utf8) + [0xC3]) == Located(1, 4, "", message))  // truncated sequence at the end
        #expect(guardFailure(Array("a: ".utf8) + [0xC0, 0x80]) == Located(1, 4, "", message))  // overlong NUL
        // A UTF-16 surrogate (ED A0 80) and a code point above U+10FFFF (F4 90 80 80) are not UTF-8 either.
        // Bug: firstInvalidUTF8 checks only lead and continuation bytes, so it reports the end of the file.
        #expect(guardFailure(Array("a: ".utf8) + [0xED, 0xA0, 0x80] + Array("\nb: c\n".utf8)) == Located(1, 4, "", message))
        #expect(guardFailure(Array("a: ".utf8) + [0xF4, 0x90, 0x80, 0x80] + Array("\nb: c\n".utf8)) == Located(1, 4, "", message))
    }
}

import Foundation
import Testing
@testable import Config

/// The repository's root, found from this file's path (Tests/ConfigTests/Support.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let firmwareConfigs = repositoryRoot.appendingPathComponent("Firmware-Configs")
let demoSitePath = firmwareConfigs.appendingPathComponent("sites/demo.yaml").path
let realProfilesDirectory = firmwareConfigs.appendingPathComponent("profiles").path

/// A unique temporary folder laid out like Firmware-Configs (`sites/`, `profiles/` with copies of
/// the real profiles), removed when the value goes away, whatever way the test ends.
final class Scratch {
    let root: URL
    var sites: URL { root.appendingPathComponent("sites") }
    var profiles: URL { root.appendingPathComponent("profiles") }

    init(copyProfiles: Bool = true) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("coop-edge-config-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: sites, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: profiles, withIntermediateDirectories: true)
        if copyProfiles {
            for name in try FileManager.default.contentsOfDirectory(atPath: realProfilesDirectory) where name.hasSuffix(".yaml") {
                try FileManager.default.copyItem(atPath: "\(realProfilesDirectory)/\(name)", toPath: profiles.appendingPathComponent(name).path)
            }
        }
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// Writes `sites/<name>.yaml` and returns its path.
    @discardableResult
    func site(_ text: String, name: String = "site") throws -> String {
        try write(Array(text.utf8), to: sites.appendingPathComponent("\(name).yaml"))
    }

    @discardableResult
    func siteBytes(_ bytes: [UInt8], name: String = "site") throws -> String {
        try write(bytes, to: sites.appendingPathComponent("\(name).yaml"))
    }

    /// Writes `profiles/<name>.yaml` and returns its path.
    @discardableResult
    func profile(_ name: String, _ text: String) throws -> String {
        try write(Array(text.utf8), to: profiles.appendingPathComponent("\(name).yaml"))
    }

    private func write(_ bytes: [UInt8], to url: URL) throws -> String {
        try Data(bytes).write(to: url)
        return url.path
    }
}

/// A comparable summary of a diagnostic: where, at what field, and what it says.
struct Located: Equatable, CustomStringConvertible {
    var line: Int
    var column: Int
    var path: String
    var message: String
    var description: String { "\(line):\(column): \(message) (at \(path))" }

    init(_ line: Int, _ column: Int, _ path: String, _ message: String) {
        self.line = line
        self.column = column
        self.path = path
        self.message = message
    }

    init(_ d: ConfigDiagnostic) { self.init(d.line, d.column, d.path, d.message) }
}

/// A valid site in block style, so line and column numbers in the tests are easy to read off.
/// Line numbers: 1 coop, 5 buses, 6 `- name: warehouse`, 8 devices, 9 `- name: cold-room-1`.
let baseSite = """
    coop: example-coop
    site: farm-17
    broker:
      url: mqtt://127.0.0.1:1883
    buses:
      - name: warehouse
        tcp: { host: 127.0.0.1, port: 1502 }
    devices:
      - name: cold-room-1
        bus: warehouse
        slave: 3
        profile: th-transmitter
        poll: 2s

    """

/// A seeded generator (SplitMix64), so every fuzz run sees the same inputs.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

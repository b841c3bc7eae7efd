import Agent
import Config
import Detection
import EdgeCore
import Foundation
import Testing

/// What a site file tells a cold room's detector: the controller's defrost and door status
/// (`role:` in the profile), a declared defrost cycle, the farmer's own limit, and (demos) a faster clock.
struct ColdRoomSiteTests {
    static let controller = """
        model: test cold-room controller (temperature probe, defrost relay, door switch, compressor relay)
        channels:
          temperature: { function: input, address: 0, type: i16, scale: 0.1, unit: "°C", kind: temperature, valid: [-40, 60] }
          defrost:     { function: discrete, address: 0, role: defrost }
          door:        { function: discrete, address: 1, role: door }
          compressor:  { function: coil, address: 0, role: compressor }
        """

    /// A site with one controller-fronted room polled every minute, and `extra` (rules) appended.
    func site(_ extra: String = "", defrost: String = "", timeScale: Double = 1, poll: String = "1m") throws -> (Site, TempDir) {
        let dir = try TempDir()
        try FileManager.default.createDirectory(atPath: dir.path + "/profiles", withIntermediateDirectories: true)
        _ = try dir.write("profiles/controller.yaml", Self.controller)
        _ = try dir.write("profiles/th-transmitter.yaml", try String(contentsOfFile: Binaries.profiles + "/th-transmitter.yaml", encoding: .utf8))
        let path = try dir.write("site.yaml", """
            coop: test-coop
            site: farm-1
            profiles_dir: \(dir.path)/profiles
            broker: { url: "mqtt://127.0.0.1:1883" }
            storage: { path: \(dir.path)/outbox.sqlite }
            buses:
              - { name: gw, tcp: { host: 127.0.0.1, port: 1502 } }
            devices:
              - { name: room-1, bus: gw, slave: 3, profile: controller, poll: \(poll), detect: { temperature: cold_room }\(defrost.isEmpty ? "" : ", defrost: \(defrost)") }
            \(extra)
            """)
        var site = try ConfigLoader.loadSite(path: path)
        site.timeScale = timeScale
        return (site, dir)
    }

    func poll(_ minute: Int, _ temperature: Double, defrost: Bool = false, door: Bool = false, start: Double = 1.8e9) -> DeviceSample {
        DeviceSample(device: "room-1", time: start + Double(minute) * 60, monotonic: Double(minute) * 60, readings: [
            Reading(channel: "temperature", value: temperature, quality: .good, unit: "°C"),
            Reading(channel: "defrost", value: defrost ? 1 : 0, quality: .good, unit: ""),
            Reading(channel: "door", value: door ? 1 : 0, quality: .good, unit: ""),
            Reading(channel: "compressor", value: 1, quality: .good, unit: ""),
        ])
    }

    /// A chiller at 3.5 °C with a small compressor swing, minute by minute.
    func normal(_ minute: Int) -> Double { 3.5 + 0.4 * sin(Double(minute) * 2 * .pi / 20) }

    @Test("the controller's defrost status: a 50-minute defrost to 11 °C raises nothing, the same warming without it is a failure")
    func defrostStatus() throws {
        let (site, _dir) = try site("alerts:\n  - { channel: room-1.temperature, above: 8.0, for: 15m, severity: critical }")
        // Six hours of normal operation, then a long, hot defrost: heaters 50 minutes, +7.5 °C.
        func run(statusSaysDefrost: Bool) -> [AlertEvent] {
            var engine = AlertEngine(site: site)
            var events: [AlertEvent] = []
            for m in 0..<360 { events += engine.process(poll(m, normal(m))) }
            for m in 360..<410 {
                let warm = normal(m) + 7.5 * min(1, Double(m - 360) / 10)
                events += engine.process(poll(m, warm, defrost: statusSaysDefrost))
            }
            for m in 410..<480 { events += engine.process(poll(m, normal(m) + 7.5 * exp(-Double(m - 410) / 4))) }
            return events.filter { $0.phase == .raise }
        }
        let announced = run(statusSaysDefrost: true)
        #expect(announced.isEmpty, "\(announced.map(\.message))")
        // Status says no defrost: the rise is the room failing; the detector says so before the rule's 15 minutes pass.
        let unexplained = run(statusSaysDefrost: false)
        let first = try #require(unexplained.first)
        #expect(first.kind != .threshold, "the detector comes first: \(unexplained.map(\.message))")
        #expect(first.time < 1.8e9 + 380 * 60)
        #expect(unexplained.contains { $0.kind == .threshold }, "the farmer's rule still holds outside a defrost")
        _ = _dir
    }

    @Test("defrost.from: a room measured by its own transmitter hears the defrost status of a separate controller")
    func defrostFromAnotherDevice() throws {
        let (site, _dir) = try site("  - { name: room-2, bus: gw, slave: 4, profile: th-transmitter, poll: 1m, detect: { temperature: cold_room }, defrost: { from: room-1.defrost } }")
        func run(statusSaysDefrost: Bool) -> [AlertEvent] {
            var engine = AlertEngine(site: site)
            var events: [AlertEvent] = []
            for m in 0..<480 {
                let defrosting = m >= 360 && m < 410
                var t = normal(m)
                if defrosting { t += 7.5 * min(1, Double(m - 360) / 10) } else if m >= 410 { t += 7.5 * exp(-Double(m - 410) / 4) }
                _ = engine.process(poll(m, normal(m), defrost: statusSaysDefrost && defrosting))
                events += engine.process(DeviceSample(device: "room-2", time: 1.8e9 + Double(m) * 60, monotonic: Double(m) * 60, readings: [
                    Reading(channel: "temperature", value: t, quality: .good, unit: "°C"),
                    Reading(channel: "humidity", value: 88, quality: .good, unit: "%RH"),
                ]))
            }
            return events.filter { $0.phase == .raise && $0.channel == "room-2.temperature" }
        }
        #expect(run(statusSaysDefrost: true).isEmpty)
        #expect(!run(statusSaysDefrost: false).isEmpty, "without the controller's word the same warming is a failure")
        _ = _dir
    }

    @Test("a door left open for ten minutes is a warning in words; closing it clears it")
    func doorLeftOpen() throws {
        let (site, _dir) = try site()
        var engine = AlertEngine(site: site)
        var events: [AlertEvent] = []
        for m in 0..<30 { events += engine.process(poll(m, normal(m))) }
        for m in 30..<39 { events += engine.process(poll(m, normal(m) + 1, door: true)) }
        #expect(events.isEmpty, "nine minutes open is a delivery, not an alert")
        for m in 39..<45 { events += engine.process(poll(m, normal(m) + 1.5, door: true)) }
        let raise = try #require(events.first)
        #expect(raise.phase == .raise && raise.kind == .threshold && raise.severity == .warning)
        #expect(raise.message == "The door of room-1 has been open for 10 minutes: close it before the room warms.")
        #expect(raise.time == 1.8e9 + 40 * 60)
        events = []
        for m in 45..<47 { events += engine.process(poll(m, normal(m), door: false)) }
        #expect(events.map(\.phase) == [.clear])
        _ = _dir
    }

    @Test("the site's declared defrost and the farmer's limit reach the detector's settings")
    func settingsFromTheSite() throws {
        let (site, _dir) = try site("alerts:\n  - { channel: room-1.temperature, above: 6.0, for: 15m }\n  - { channel: room-1.temperature, above: 9.0, for: 5m }",
                                    defrost: "{ every: 8h, duration: 45m, learn: false }")
        let device = site.devices[0]
        let spec = try #require(device.channels.first { $0.name == "temperature" })
        let config = AlertEngine.detectorConfig(kind: .coldRoom, device: device, spec: spec, site: site)
        #expect(config.sampleInterval == 60)
        #expect(config.defrost?.every == 28_800.0)
        #expect(config.defrost?.duration == 2_700.0)
        #expect(config.defrost?.learn == false)
        // The lowest 'above' on the channel: the failure projection warns before the first rule fires.
        #expect(config.rise?.limit == 6)
        #expect(config.validMax == 60)
        // Replay of a recording sampled otherwise: the same settings, windows for its own interval.
        #expect(AlertEngine.detectorConfig(kind: .coldRoom, device: device, spec: spec, site: site, sampleInterval: 300).sampleInterval == 300)
        _ = _dir
    }

    @Test("a demo clock: at --time-scale 60, 'above 8 °C for 15 minutes' raises after 15 seconds of polls")
    func demoClock() throws {
        let (site, _dir) = try site("alerts:\n  - { channel: room-1.temperature, above: 8.0, for: 15m }", timeScale: 60, poll: "1s")
        let device = site.devices[0]
        let spec = try #require(device.channels.first { $0.name == "temperature" })
        #expect(AlertEngine.detectorConfig(kind: .coldRoom, device: device, spec: spec, site: site).sampleInterval == 60)
        var engine = AlertEngine(site: site)
        var raisedAt: Double?
        for s in 0..<30 {
            let sample = DeviceSample(device: "room-1", time: 1.8e9 + Double(s), monotonic: Double(s), readings: [
                Reading(channel: "temperature", value: 9, quality: .good, unit: "°C"),
            ])
            if let e = engine.process(sample).first(where: { $0.kind == .threshold }) { raisedAt = e.time; break }
        }
        // Published with the board's own clock: fifteen wall-clock seconds after the first poll.
        #expect(raisedAt == 1.8e9 + 15)
        _ = _dir
    }
}

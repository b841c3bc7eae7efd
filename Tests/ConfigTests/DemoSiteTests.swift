import Foundation
import Testing
@testable import Config
@testable import EdgeCore

@Suite("Demo site and real profiles")
struct DemoSiteTests {
    @Test("the demo site checks clean")
    func checksClean() {
        #expect(ConfigLoader.check(sitePath: demoSitePath) == [])
    }

    @Test("the demo site loads with its bus, devices, broker, storage and alerts")
    func loads() throws {
        let site = try ConfigLoader.loadSite(path: demoSitePath)
        #expect(site.coop == "example-coop")
        #expect(site.site == "farm-17")
        #expect(site.topicPrefix == "coop/example-coop/farm-17")
        #expect(site.stateTopic(device: "cold-room-1") == "coop/example-coop/farm-17/cold-room-1/state")
        #expect(site.broker == BrokerConfig(host: "127.0.0.1", port: 1883, tls: false, clientID: "farm-17-edge"))
        #expect(site.storage == StorageConfig(path: "demo-state/outbox.sqlite", maxSizeMB: 64, maxAgeDays: 30, durability: .normal))

        #expect(site.buses == [BusConfig(name: "warehouse", transport: .tcp(host: "127.0.0.1", port: 1502), responseTimeoutMS: 500)])

        #expect(site.devices.map(\.name) == ["cold-room-1", "cold-room-2", "field-a-soil", "maize-scale"])
        #expect(site.devices.map(\.bus) == ["warehouse", "warehouse", "warehouse", "warehouse"])
        #expect(site.devices.map(\.slave) == [3, 4, 5, 1])
        #expect(site.devices.map(\.pollMS) == [1000, 1000, 5000, 2000])
        #expect(site.devices.map(\.defrost) == [DefrostDeclaration(every: 21_600, duration: 1_200), DefrostDeclaration(every: 21_600, duration: 1_200), nil, nil])
        #expect(site.devices.map(\.profile.name) == ["th-transmitter", "th-transmitter", "soil-probe", "weighing-transmitter"])
        #expect(site.devices.map { $0.channels.map(\.name) } == [
            ["temperature", "humidity"], ["temperature", "humidity"],
            ["moisture", "temperature", "conductivity"], ["net_weight", "gross_weight", "stable"],
        ])
        #expect(site.devices(on: "warehouse").count == 4)

        #expect(site.alerts == [
            AlertRuleConfig(device: "cold-room-1", channel: "temperature", above: 8, forSeconds: 900, severity: "critical"),
            AlertRuleConfig(device: "cold-room-2", channel: "temperature", above: 8, forSeconds: 900, severity: "critical"),
        ])
    }

    @Test("the th-transmitter profile carries its datasheet facts")
    func thTransmitter() throws {
        let p = try ConfigLoader.loadProfile(path: realProfilesDirectory + "/th-transmitter.yaml")
        #expect(p.name == "th-transmitter")
        #expect(p.model == "SHT20 RS-485 temperature/humidity transmitter (XY-MD02 class)")
        #expect(p.serial == SerialSettings(baud: 9600, parity: .none, dataBits: 8, stopBits: 1))
        #expect(p.defaultSlave == 1)
        #expect(p.maxRegistersPerRead == 2)
        #expect(p.channels == [
            ChannelSpec(name: "temperature", function: .input, address: 1, type: .i16, scale: 0.1, unit: "°C",
                        kind: "temperature", valid: -40...60, sentinels: [0x7FFF]),
            ChannelSpec(name: "humidity", function: .input, address: 2, type: .u16, scale: 0.1, unit: "%RH",
                        kind: "humidity", valid: 0...100, sentinels: [0xFFFF]),
        ])
        // Both channels fit one read of two input registers.
        #expect(ReadPlan(channels: p.channels, maxPerRead: p.maxRegistersPerRead).blocks.map(\.count) == [2])
    }

    @Test("the weighing transmitter is CDAB i32 with a 0.01 kg division")
    func weighing() throws {
        let p = try ConfigLoader.loadProfile(path: realProfilesDirectory + "/weighing-transmitter.yaml")
        let net = try #require(p.channels.first)
        #expect(net.type == .i32)
        #expect(net.order == .cdab)
        #expect(net.scale == 0.01)
        // -20.00 kg: 0xFFFFF830 with the low word first.
        #expect(RegisterCodec.decode([0xF830, 0xFFFF], channel: net) == -20)
        #expect(ReadPlan(channels: p.channels, maxPerRead: p.maxRegistersPerRead).blocks.map(\.count) == [5])
    }

    @Test("every real profile loads without diagnostics")
    func allProfiles() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: realProfilesDirectory).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(names == ["soil-probe.yaml", "th-transmitter.yaml", "weighing-transmitter.yaml"])
        for name in names {
            let p = try ConfigLoader.loadProfile(path: "\(realProfilesDirectory)/\(name)")
            #expect(!p.channels.isEmpty)
        }
    }

    @Test("loadProfile reports a bad profile with its own file name")
    func badProfile() throws {
        let s = try Scratch(copyProfiles: false)
        let path = try s.profile("bad", "model: x\nchannels:\n  t: { function: holdin, address: 1, type: i16 }\n")
        let error = #expect(throws: ConfigError.self) { _ = try ConfigLoader.loadProfile(path: path) }
        #expect(error?.diagnostics == [
            ConfigDiagnostic(file: path, line: 3, column: 18, path: "channels.t.function",
                             message: "'function' is 'holdin'; it must be one of coil, discrete, holding, input — did you mean 'holding'?"),
        ])
    }
}

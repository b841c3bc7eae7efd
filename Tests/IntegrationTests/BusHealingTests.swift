import EdgeCore
import Foundation
@testable import Modbus
import Synchronization
import Testing

/// Issue 11, "a bus that heals": a device that stops answering goes offline after a few polls, is
/// asked less often (so its timeouts stop eating the bus time of the devices that answer), says so
/// in its state messages, and comes back on its first answer.
@Suite("A bus that heals")
struct BusHealingTests {
    @Test("three unanswered polls make a device offline; each further one doubles its interval up to 30 s; one answer brings it back")
    func healthArithmetic() {
        var h = DeviceHealth()
        let interval = Duration.milliseconds(500)
        #expect(h.record(answered: false) == nil)
        #expect(h.record(answered: false) == nil)
        #expect(h.nextInterval(interval) == interval, "not offline yet: its own interval")
        #expect(h.record(answered: false) == .wentOffline)
        #expect(h.offline)
        #expect(h.nextInterval(interval) == .seconds(1))
        #expect(h.record(answered: false) == nil)
        #expect(h.nextInterval(interval) == .seconds(2))
        for _ in 0..<20 { _ = h.record(answered: false) }
        #expect(h.nextInterval(interval) == .seconds(30), "capped")
        #expect(h.record(answered: true) == .cameBack(unanswered: 24))
        #expect(!h.offline && h.nextInterval(interval) == interval)
        // An answer between misses resets the count: flaky is not offline.
        var flaky = DeviceHealth()
        for _ in 0..<10 {
            #expect(flaky.record(answered: false) == nil)
            #expect(flaky.record(answered: false) == nil)
            #expect(flaky.record(answered: true) == nil)
        }
        #expect(!flaky.offline)
        // A device polled slower than the cap is never polled faster for being offline.
        var slow = DeviceHealth()
        for _ in 0..<3 { _ = slow.record(answered: false) }
        #expect(slow.nextInterval(.seconds(60)) == .seconds(60))
    }

    @Test("a silent device is flagged offline and polled less often while its neighbours keep their schedule; it is back on its first answer")
    func silentDeviceGoesOfflineAndComesBack() async throws {
        let dir = try TempDir()
        let broker = try await Broker(dir: dir)
        let modbusPort = try freePort()
        let site = try writeSite(dir, modbusPort: modbusPort, brokerPort: broker.port, poll: "200ms", responseTimeoutMS: 150)
        let sim = try await Simulator(site: site, port: modbusPort)
        let sub = try await Subscriber(port: broker.port)
        let agent = try agent(site)
        try await waitUntil(timeout: .seconds(20), "first reading") { sub.states(device: "cold-room-1").first }

        try await sim.command("silence cold-room-1")
        let offline = try await waitUntil(timeout: .seconds(10), "a state flagged offline") {
            sub.states(device: "cold-room-1").first { $0["offline"] as? Bool == true }
        }
        let offlineAt = try #require(offline["time"] as? Double)
        let temperature = (offline["readings"] as? [String: [String: Any]])?["temperature"]
        #expect(temperature?["quality"] as? String == "comm_fault" && temperature?["value"] is NSNull)
        try await waitUntil(timeout: .seconds(10), "the log line") {
            agent.output.contains { $0.contains("cold-room-1 (slave 3) is offline: no answer to 3 polls in a row") } ? true : nil
        }
        // Eight seconds offline: at 200 ms it would be polled 40 times; backing off from 400 ms it is
        // polled about five times (0.4 + 0.8 + 1.6 + 3.2 s …).
        try await waitUntil(timeout: .seconds(15), "eight seconds offline") {
            (sub.states(device: "cold-room-2").last?["time"] as? Double ?? 0) > offlineAt + 8 ? true : nil
        }
        let whileOffline = sub.states(device: "cold-room-1").filter { ($0["time"] as? Double ?? 0) > offlineAt && ($0["time"] as? Double ?? 0) <= offlineAt + 8 }
        #expect(whileOffline.count <= 8, "polled \(whileOffline.count) times in 8 s while offline")
        #expect(whileOffline.allSatisfy { $0["offline"] as? Bool == true })
        let intervals = zip(whileOffline.dropFirst(), whileOffline).map { ($0["time"] as! Double) - ($1["time"] as! Double) }
        #expect(intervals == intervals.sorted() || intervals.count < 2, "the interval grows: \(intervals)")
        // The neighbours keep their 200 ms schedule (a timeout no longer costs them every round).
        let neighbour = sub.states(device: "cold-room-2").compactMap { $0["time"] as? Double }.filter { $0 > offlineAt + 1 && $0 <= offlineAt + 8 }
        #expect(neighbour.count >= 30, "cold-room-2 polled \(neighbour.count) times in 7 s")

        try await sim.command("resume cold-room-1")
        let resumedAt = Date().timeIntervalSince1970
        let back = try await waitUntil(timeout: .seconds(20), "a good reading again") { () -> [String: Any]? in
            sub.states(device: "cold-room-1").first {
                ($0["time"] as? Double ?? 0) > resumedAt
                    && ((($0["readings"] as? [String: [String: Any]])?["temperature"]?["quality"] as? String) == "good")
            }
        }
        #expect(back["offline"] == nil, "an answering device is not flagged")
        try await waitUntil(timeout: .seconds(5), "the log line") {
            agent.output.contains { $0.contains("cold-room-1 (slave 3) is back online after") } ? true : nil
        }
        // And at its own rate again.
        try await waitUntil(timeout: .seconds(5), "polls every 200 ms again") { () -> Bool? in
            sub.states(device: "cold-room-1").filter { ($0["time"] as? Double ?? 0) > (back["time"] as! Double) }.count >= 10 ? true : nil
        }
        #expect(agent.stop() == 0)
        _ = sim
    }
}

extension BusHealingTests {
    @Test("a Modbus TCP gateway that goes away and comes back: its devices go offline (published), then answer again; the agent still stops cleanly")
    func gatewayGoesAwayAndReturns() async throws {
        let dir = try TempDir()
        let broker = try await Broker(dir: dir)
        let modbusPort = try freePort()
        let site = try writeSite(dir, modbusPort: modbusPort, brokerPort: broker.port, poll: "200ms", responseTimeoutMS: 150)
        var sim: Simulator? = try await Simulator(site: site, port: modbusPort)
        let sub = try await Subscriber(port: broker.port)
        let agent = try agent(site)
        try await waitUntil(timeout: .seconds(20), "first reading") { sub.states(device: "cold-room-2").first }

        _ = sim?.process.stop(signal: SIGKILL)
        sim = nil
        let goneAt = Date().timeIntervalSince1970
        try await waitUntil(timeout: .seconds(15), "every device published offline") { () -> Bool? in
            ["cold-room-1", "cold-room-2", "field-a-soil", "maize-scale"].allSatisfy { d in
                sub.states(device: d).contains { ($0["time"] as? Double ?? 0) > goneAt && $0["offline"] as? Bool == true }
            } ? true : nil
        }
        sim = try await Simulator(site: site, port: modbusPort)
        let backAt = Date().timeIntervalSince1970
        try await waitUntil(timeout: .seconds(45), "good readings from every device again") { () -> Bool? in
            ["cold-room-1", "cold-room-2", "field-a-soil", "maize-scale"].allSatisfy { d in
                sub.states(device: d).contains {
                    ($0["time"] as? Double ?? 0) > backAt && $0["offline"] == nil
                        && ($0["readings"] as? [String: [String: Any]])?.values.allSatisfy { $0["quality"] as? String == "good" } == true
                }
            } ? true : nil
        }
        #expect(agent.stop() == 0, "\(agent.output.suffix(20).joined(separator: "\n"))")
        _ = sim
    }
}

extension BusHealingTests {
    @Test("…/health (retained) and coop-edge status say which device is offline, with version, uptime and backlog")
    func healthShowsEachDevice() async throws {
        let dir = try TempDir()
        let broker = try await Broker(dir: dir)
        let modbusPort = try freePort()
        let site = try writeSite(dir, modbusPort: modbusPort, brokerPort: broker.port, poll: "200ms", responseTimeoutMS: 150)
        let sim = try await Simulator(site: site, port: modbusPort)
        try await sim.command("silence field-a-soil")
        let sub = try await Subscriber(port: broker.port)
        let agent = try agent(site)
        let message = try await waitUntil(timeout: .seconds(20), "a health message") {
            sub.messages.last { $0.topic == "coop/test-coop/farm-1/health" }
        }
        let health = try #require(try JSONSerialization.jsonObject(with: Data(message.payload.utf8)) as? [String: Any])
        #expect(health["version"] as? String != nil && health["build"] as? String != nil)
        #expect((health["uptime_s"] as? Int ?? -1) >= 0)
        #expect(health["broker_connected"] as? Bool == true)
        #expect((health["backlog"] as? [String: Any])?["readings"] is Int)
        let devices = try #require(health["devices"] as? [String: [String: Any]])
        #expect(devices["field-a-soil"]?["status"] as? String == "offline", "\(devices)")
        #expect(devices["field-a-soil"]?["fault"] as? String == "timeout")
        #expect(devices["field-a-soil"]?["last_good"] is NSNull)
        for d in ["cold-room-1", "cold-room-2", "maize-scale"] {
            #expect(devices[d]?["status"] as? String == "ok", "\(d): \(devices[d] ?? [:])")
            #expect((devices[d]?["polls"] as? Int ?? 0) >= 5)
        }
        // A late subscriber gets it: retained.
        let late = try await Subscriber(port: broker.port)
        try await waitUntil(timeout: .seconds(10), "the retained health") { late.messages.contains { $0.topic == "coop/test-coop/farm-1/health" } ? true : nil }
        #expect(agent.stop() == 0)

        // The same, locally, from the outbox.
        let (rc, out) = try await coopEdge(["status", "--config", site])
        #expect(rc == 0)
        #expect(out.contains("agent:") && out.contains("up "), "\(out)")
        #expect(out.split(separator: "\n").contains { $0.contains("field-a-soil") && $0.contains("offline") && $0.contains("now: timeout") }, "\(out)")
        #expect(out.split(separator: "\n").contains { $0.contains("cold-room-2") && $0.contains(" ok ") }, "\(out)")
        _ = sim
    }
}

/// The USB adapter pulled and plugged back: the serial port disappears (its pty pair is killed) and
/// returns under the same name; the poller reopens it and the slave is read again, with no value
/// invented in between.
@Suite("An RTU port that disappears")
struct PortReturnsTests {
    @Test("a pty that disappears and returns: comm_fault (then offline) while it is gone, good readings again once it is back")
    func portDisappearsAndReturns() async throws {
        let dir = try TempDir()
        let (master, slave) = (dir.path + "/ttyMaster", dir.path + "/ttySlave")
        let script = Binaries.repoRoot + "/Tests/IntegrationTests/Peers/late_rtu_slave.py"
        func plugIn() async throws -> (TestProcess, TestProcess) {
            let line = try TestProcess("/usr/bin/socat", ["pty,raw,echo=0,link=\(master)", "pty,raw,echo=0,link=\(slave)"], name: "socat")
            try await waitUntil(timeout: .seconds(10), "the pty pair") {
                FileManager.default.fileExists(atPath: master) && FileManager.default.fileExists(atPath: slave) ? true : nil
            }
            let peer = try TestProcess("/usr/bin/python3", [script, slave, "--timeout-ms", "100", "--slave", "1:0:0"], name: "rtu-slave")
            try await peer.waitForLine(timeout: .seconds(20), "slave ready") { $0 == "ready" }
            return (line, peer)
        }
        var (line, peer) = try await plugIn()

        let device = LateReplyTests.device("probe", slave: 1)
        let connection = ModbusConnection(config: BusConfig(
            name: "shed", transport: .rtu(device: master, serial: SerialSettings(), rs485: false),
            responseTimeoutMS: 100, byteTimeoutMS: 20))
        let heard = Heard()
        let task = Self.start(BusPoller(connection: connection, devices: [device]), into: heard)
        defer { task.cancel() }
        func goodCount() -> Int { heard.samples.withLock { $0.filter { $0.readings.allSatisfy { $0.quality == .good } }.count } }
        try await waitUntil(timeout: .seconds(20), "three good polls") { goodCount() >= 3 ? true : nil }

        // Pulled: the pty pair and the slave behind it go away.
        peer.stop(signal: SIGKILL)
        line.stop(signal: SIGKILL)
        try await waitUntil(timeout: .seconds(10), "the port gone") { FileManager.default.fileExists(atPath: master) ? nil : true }
        do {
            try await waitUntil(timeout: .seconds(20), "the device offline") { heard.samples.withLock { $0.last?.offline == true } ? true : nil }
        } catch {
            print("after the pull: \(heard.samples.withLock { $0.suffix(5).map { $0.readings.map { "\($0.quality) \($0.fault ?? "")" } } })")
            print("log: \(heard.notes.withLock { $0 })")
            throw error
        }
        let whileGone = heard.samples.withLock { $0.count }

        // Plugged back in under the same name.
        (line, peer) = try await plugIn()
        let before = goodCount()
        try await waitUntil(timeout: .seconds(45), "good polls again") { goodCount() >= before + 3 ? true : nil }
        task.cancel()
        _ = await task.value
        let samples = heard.samples.withLock { $0 }
        // While it was gone, no value: every reading missing with its reason.
        for s in samples[..<whileGone] where !s.readings.allSatisfy({ $0.quality == .good }) {
            #expect(s.readings.allSatisfy { $0.quality == .commFault && $0.value == nil }, "\(s.readings)")
        }
        #expect(samples.last?.offline == false)
        let log = heard.notes.withLock { $0 }
        #expect(log.contains { $0.contains("is offline") } && log.contains { $0.contains("is back online") }, "\(log)")
        #expect(LateReplyTests.Run(samples: samples, notes: log, lateReplies: [:], devices: [device]).misattributed().isEmpty)
        peer.stop(signal: SIGKILL)
        line.stop(signal: SIGKILL)
    }

    /// What the poller emitted and logged.
    final class Heard: Sendable {
        let samples = Mutex<[DeviceSample]>([])
        let notes = Mutex<[String]>([])
    }

    static func start(_ poller: BusPoller, into heard: Heard) -> Task<Void, Never> {
        Task {
            await poller.run(emit: { s in heard.samples.withLock { $0.append(s) } }, onFault: { n in heard.notes.withLock { $0.append(n) } })
        }
    }
}

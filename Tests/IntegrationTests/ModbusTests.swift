import EdgeCore
import Foundation
import Modbus
import Testing

/// The Modbus wrapper in-process, against the simulator on loopback.
@Suite(.serialized)
struct ModbusTests {
    @Test("blocking Modbus calls run on their bus threads: slow slaves on four buses do not stall Swift's thread pool")
    func blockingCallsStayOffTheCooperativePool() async throws {
        let dir = try TempDir()
        let port = try freePort()
        let site = try writeSite(dir, modbusPort: port, brokerPort: 1)
        let sim = try await Simulator(site: site, port: port)
        try await sim.command("slow cold-room-1 800")
        // Four buses to the same gateway, each with a 1 s timeout, all reading the slow device.
        let connections = (0..<4).map { i in
            ModbusConnection(config: BusConfig(name: "b\(i)", transport: .tcp(host: "127.0.0.1", port: port), responseTimeoutMS: 1000))
        }
        let clock = ContinuousClock()
        let readers = Task {
            await withTaskGroup(of: Void.self) { group in
                for c in connections {
                    group.addTask { _ = try? await c.read(slave: 3, function: .input, address: 1, count: 2) }
                }
            }
        }
        // Meanwhile a 10 ms timer on the pool must keep time. Were the reads blocking pool threads
        // (2 on this machine), it would stall for most of a second.
        var worst = Duration.zero
        for _ in 0..<40 {
            let start = clock.now
            try await Task.sleep(for: .milliseconds(10))  // the timer under test, not a wait: its overrun is the measurement
            worst = max(worst, clock.now - start - .milliseconds(10))
        }
        await readers.value
        #expect(worst < .milliseconds(150), "a 10 ms sleep overran by \(worst)")
        _ = sim
    }

    @Test("a write to a channel the profile does not mark writable is refused before anything is sent")
    func writesAreRefusedUnlessWritable() async throws {
        let connection = ModbusConnection(config: BusConfig(name: "b", transport: .tcp(host: "127.0.0.1", port: 9)))
        let channel = ChannelSpec(name: "setpoint", function: .holding, address: 10, type: .i16, scale: 0.1)
        await #expect(throws: ModbusError.self) { try await connection.write(slave: 1, channel: channel, value: 4.0) }
        do {
            try await connection.write(slave: 1, channel: channel, value: 4.0)
        } catch {
            #expect(error.code == .invalidRequest)
            #expect(error.message.contains("not marked writable"))
        }
        #expect(await connection.isConnected == false, "nothing may have been opened for a refused write")
    }

    @Test("a refused TCP connection is a clear error that names the address")
    func connectionRefusedIsExplained() async throws {
        let port = try freePort()
        let connection = ModbusConnection(config: BusConfig(name: "b", transport: .tcp(host: "127.0.0.1", port: port)))
        do {
            _ = try await connection.read(slave: 1, function: .holding, address: 0, count: 1)
            Issue.record("read succeeded with nothing listening")
        } catch {
            #expect(error.code == .connection)
            #expect(error.message.contains("127.0.0.1:\(port)"), "\(error.message)")
        }
    }

    @Test("a serial port the user may not open says to join the dialout group")
    func permissionDeniedNamesDialout() async throws {
        // A real serial line: one end of a socat pty pair, owned by root with mode 0600; the agent
        // runs as nobody (setpriv), as it would without the dialout group.
        let dir = try TempDir()
        let tty = dir.path + "/ttyRS485"
        let socat = try TestProcess("/usr/bin/socat", ["pty,raw,echo=0,link=\(tty),perm=0600", "pty,raw,echo=0"], name: "socat")
        try await waitUntil(timeout: .seconds(10), "the pty") { FileManager.default.fileExists(atPath: tty) ? true : nil }
        chmod(dir.path, 0o755)
        let site = try dir.write("site.yaml", """
            coop: c
            site: s
            profiles_dir: \(Binaries.profiles)
            broker: { url: "mqtt://127.0.0.1:1" }
            storage: { path: \(dir.path)/o.sqlite }
            buses: [ { name: shed, rtu: { device: \(tty), baud: 9600 } } ]
            devices: [ { name: cold-room-1, bus: shed, slave: 3, profile: th-transmitter, poll: 1s } ]
            """)
        chmod(site, 0o644)
        let read = try TestProcess("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", try Binaries.path("coop-edge"),
                                                        "read", "--config", site, "cold-room-1"], name: "read")
        try await waitUntil(timeout: .seconds(20), "coop-edge read") { read.isRunning ? nil : true }
        _ = try? await waitUntil(timeout: .seconds(1), "end of output") { read.finished ? true : nil }
        let out = read.output.joined(separator: "\n")
        #expect(read.stop() == 2, "read exits 2 when no channel could be read\n\(out)")
        #expect(out.contains("permission denied on \(tty)"), "\(out)")
        #expect(out.contains("dialout group"), "\(out)")
        _ = socat
    }
}

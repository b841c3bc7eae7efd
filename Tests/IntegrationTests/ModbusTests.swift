import EdgeCore
import Foundation
import IOThread
import Modbus
import Testing

/// The Modbus wrapper in-process, against the simulator on loopback.
@Suite(.serialized)
struct ModbusTests {
    @Test("blocking Modbus calls run on their bus threads: six slaves that never answer time out together, not in turns")
    func blockingCallsStayOffTheCooperativePool() async throws {
        // A listening socket that never accepts: the kernel completes the TCP handshake, nothing
        // ever answers, so every read blocks for exactly its response timeout.
        let (listener, port) = try blackHole()
        defer { close(listener) }
        let timeout = 600
        let probes = (0..<6).map { i in
            Probe(ModbusConnection(config: BusConfig(name: "b\(i)", transport: .tcp(host: "127.0.0.1", port: port), responseTimeoutMS: timeout)))
        }
        // Each probe times its read on a thread of its own, so the figure does not depend on how
        // busy Swift's pool is with other tests. Were the reads on the pool (2 threads here), six
        // of them would queue for it and most would take two or three timeouts.
        let took = await withTaskGroup(of: Duration.self) { group in
            for p in probes { group.addTask { await p.timedRead() } }
            return await group.reduce(into: [Duration]()) { $0.append($1) }
        }
        // A timeout costs two response timeouts: with MODBUS_ERROR_RECOVERY_LINK, libmodbus waits
        // one more timeout and flushes, so a late reply cannot be read as the next answer.
        let cost = Duration.milliseconds(2 * timeout)
        for t in took {
            #expect(t >= cost - .milliseconds(50), "a read returned before its timeout: \(t)")
            #expect(t < cost + .milliseconds(timeout / 2), "a read waited for another: \(took)")
        }
        let spread = (took.max() ?? .zero) - (took.min() ?? .zero)
        #expect(spread < .milliseconds(timeout / 2), "reads ran in turns, not together: \(took)")
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

/// Times one read on a dedicated thread: awaiting the connection hops between two non-pool threads.
actor Probe {
    private let executor = IOThreadExecutor(name: "probe")
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    let connection: ModbusConnection
    init(_ connection: ModbusConnection) { self.connection = connection }

    func timedRead() async -> Duration {
        let start = ContinuousClock.now
        _ = try? await connection.read(slave: 1, function: .holding, address: 0, count: 1)
        return ContinuousClock.now - start
    }
}

/// A loopback port whose listener never accepts (nor answers): a Modbus slave that is always silent.
func blackHole() throws -> (Int32, Int) {
    let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) == 0 && getsockname(s, $0, &len) == 0 }
    }
    guard ok, listen(s, 16) == 0 else { close(s); throw TimeoutError(description: "cannot listen on loopback") }
    return (s, Int(UInt16(bigEndian: addr.sin_port)))
}

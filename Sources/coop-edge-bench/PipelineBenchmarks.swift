import Foundation

/// The whole pipeline with real processes on loopback: coop-edge-sim (Modbus TCP) → coop-edge
/// (poll, decode, commit, publish) → mosquitto → a mosquitto_sub that counts what arrives.
enum PipelineBenchmarks {
    static let buses = 8
    static let devicesPerBus = 25
    static let pollMS = 100

    static func run() async throws {
        print("== Pipeline (\(buses) buses × \(devicesPerBus) soil probes, 3 readings each, every \(pollMS) ms)")
        let bin = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let dir = NSTemporaryDirectory() + "coop-edge-pipeline-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let brokerPort = try freePort(), modbusPort = try freePort()
        var site = """
            coop: bench
            site: s
            profiles_dir: \(FileManager.default.currentDirectoryPath)/Firmware-Configs/profiles
            broker: { url: "mqtt://127.0.0.1:\(brokerPort)", max_inflight: 500 }
            storage: { path: \(dir)/o.sqlite }
            buses:

            """
        for b in 0..<buses { site += "  - { name: b\(b), tcp: { host: 127.0.0.1, port: \(modbusPort) } }\n" }
        site += "devices:\n"
        for b in 0..<buses {
            for d in 1...devicesPerBus { site += "  - { name: p\(b)-\(d), bus: b\(b), slave: \(d), profile: soil-probe, poll: \(pollMS)ms }\n" }
        }
        let sitePath = dir + "/site.yaml"
        try site.write(toFile: sitePath, atomically: true, encoding: .utf8)
        try "listener \(brokerPort) 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\n"
            .write(toFile: dir + "/m.conf", atomically: true, encoding: .utf8)

        let sim = try Child(bin + "/coop-edge-sim", ["--site", sitePath, "--bus", "b0", "--speed", "60"])
        defer { sim.kill() }
        try await waitFor { portOpen(modbusPort) }

        // Phase 1: the broker is away for 8 s; the agent polls and buffers.
        let agent = try Child(bin + "/coop-edge", ["run", "--config", sitePath, "--log-level", "error"])
        defer { agent.kill() }
        try await Task.sleep(for: .seconds(8))  // the outage being measured
        let backlog = try pending(bin, sitePath)

        // Phase 2: broker and counting subscriber appear; time how long the backlog takes to drain.
        let broker = try Child("/usr/sbin/mosquitto", ["-c", dir + "/m.conf"])
        defer { broker.kill() }
        try await waitFor { portOpen(brokerPort) }
        let counter = try Child("/usr/bin/mosquitto_sub", ["-h", "127.0.0.1", "-p", "\(brokerPort)", "-t", "coop/bench/s/+/state", "-q", "1"], countLines: true)
        defer { counter.kill() }
        let drainStart = ContinuousClock.now
        // Drained once the buffered messages and the live ones polled since have arrived, all but the
        // last commit delay's worth (the outbox itself never gets near empty: polls wait up to the
        // commit delay, and acknowledged rows go with the next commit).
        let pollsPerSecond = Double(buses * devicesPerBus * 1000 / pollMS)
        try await waitFor(timeout: .seconds(120)) {
            let live = pollsPerSecond * max(0, seconds(ContinuousClock.now - drainStart) - 3)
            return Double(counter.lines) >= Double(backlog) + live
        }
        let drain = seconds(ContinuousClock.now - drainStart)
        print("backlog: \(backlog) polls buffered in 8 s without a broker, delivered in \(String(format: "%.1f", drain)) s (\(Int(Double(backlog) / drain)) messages/s while also polling)")

        // Phase 3: steady state for 10 s.
        let c0 = counter.lines, cpu0 = cpuSeconds(agent.pid), t0 = ContinuousClock.now
        try await Task.sleep(for: .seconds(10))  // the measurement window
        let c1 = counter.lines, cpu1 = cpuSeconds(agent.pid), elapsed = seconds(ContinuousClock.now - t0)
        let readings = Double((c1 - c0) * 3)
        print("steady: \(Int(Double(c1 - c0) / elapsed)) polls/s, \(Int(readings / elapsed)) readings/s delivered (schedule asks \(buses * devicesPerBus * 1000 / pollMS) polls/s)")
        print("agent CPU: \(String(format: "%.1f", (cpu1 - cpu0) * 1e6 / max(1, readings))) µs per reading (\(String(format: "%.0f", (cpu1 - cpu0) / elapsed * 100)) % of one core), RSS \(rssKiB(agent.pid) / 1024) MiB")
        agent.terminate()
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    static func pending(_ bin: String, _ site: String) throws -> Int {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin + "/coop-edge")
        p.arguments = ["status", "--config", site]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: "\n").first { $0.hasPrefix("pending readings:") }.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }

    /// utime + stime of a process, in seconds.
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)  // fields 14 and 15 of stat(5)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func rssKiB(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        return status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
    }

    static func waitFor(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while !(try await condition()) {
            if ContinuousClock.now > deadline { throw BenchError("timed out") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func freePort() throws -> Int {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) == 0 && getsockname(s, $0, &len) == 0 }
        }
        guard ok else { throw BenchError("no free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func portOpen(_ port: Int) -> Bool {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A child process that is killed when the benchmark ends; optionally counts its output lines.
final class Child: @unchecked Sendable {
    private let process = Process()
    private let lock = NSLock()
    private var count = 0
    init(_ path: String, _ args: [String], countLines: Bool = false) throws {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = args
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = Pipe()
        out.fileHandleForReading.readabilityHandler = { [weak self] h in
            let data = h.availableData
            if data.isEmpty { h.readabilityHandler = nil; return }
            guard countLines, let self else { return }
            let n = data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            self.lock.lock(); self.count += n; self.lock.unlock()
        }
        try process.run()
    }
    var pid: Int32 { process.processIdentifier }
    var lines: Int { lock.lock(); defer { lock.unlock() }; return count }
    func terminate() { if process.isRunning { process.terminate(); process.waitUntilExit() } }
    func kill() { if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
}

import Foundation

/// Flash wear of the whole agent at a field-like load (issue 9): 100 channels polled every second
/// (20 soil probes × 3 registers + 20 temperature/humidity transmitters × 2), against coop-edge-sim and
/// a real mosquitto. Reports the bytes the agent process caused to be written to storage
/// (`write_bytes` of /proc/PID/io: page-cache pages it dirtied, so WAL appends, checkpoints and the
/// sequence-reservation file all count) per reading, with the broker up and while it is down.
///
/// `COOP_EDGE_BENCH_FLASH_SECONDS` sets each measuring window (default 60 s; use ≥ 300 s to be sure a
/// WAL checkpoint falls inside the window with the broker up).
enum FlashBenchmarks {
    static let soilProbes = 20
    static let transmitters = 20
    static var channels: Int { soilProbes * 3 + transmitters * 2 }
    static var devices: Int { soilProbes + transmitters }

    static func run() async throws {
        let window = Double(ProcessInfo.processInfo.environment["COOP_EDGE_BENCH_FLASH_SECONDS"] ?? "") ?? 60
        print("== Flash (\(channels) channels × 1 Hz: \(soilProbes) soil probes × 3 + \(transmitters) transmitters × 2; \(Int(window)) s windows)")
        let bin = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        // On the real disk, never a tmpfs: write_bytes counts nothing there.
        let dir = FileManager.default.currentDirectoryPath + "/.bench-flash-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let brokerPort = try PipelineBenchmarks.freePort(), modbusPort = try PipelineBenchmarks.freePort()
        var site = """
            coop: bench
            site: s
            profiles_dir: \(FileManager.default.currentDirectoryPath)/Firmware-Configs/profiles
            broker: { url: "mqtt://127.0.0.1:\(brokerPort)" }
            storage: { path: \(dir)/o.sqlite }
            buses:
              - { name: b0, tcp: { host: 127.0.0.1, port: \(modbusPort) } }
            devices:

            """
        for d in 1...soilProbes { site += "  - { name: soil-\(d), bus: b0, slave: \(d), profile: soil-probe, poll: 1s }\n" }
        for d in 1...transmitters { site += "  - { name: th-\(d), bus: b0, slave: \(soilProbes + d), profile: th-transmitter, poll: 1s }\n" }
        let sitePath = dir + "/site.yaml"
        try site.write(toFile: sitePath, atomically: true, encoding: .utf8)
        try "listener \(brokerPort) 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\n"
            .write(toFile: dir + "/m.conf", atomically: true, encoding: .utf8)

        let sim = try Child(bin + "/coop-edge-sim", ["--site", sitePath, "--bus", "b0"])
        defer { sim.kill() }
        try await PipelineBenchmarks.waitFor { PipelineBenchmarks.portOpen(modbusPort) }
        let broker = try Child("/usr/sbin/mosquitto", ["-c", dir + "/m.conf"])
        defer { broker.kill() }
        try await PipelineBenchmarks.waitFor { PipelineBenchmarks.portOpen(brokerPort) }
        let counter = try Child("/usr/bin/mosquitto_sub", ["-h", "127.0.0.1", "-p", "\(brokerPort)", "-t", "coop/bench/s/+/state", "-q", "1"], countLines: true)
        defer { counter.kill() }
        let agent = try Child(bin + "/coop-edge", ["run", "--config", sitePath, "--log-level", "error"])
        defer { agent.kill() }

        // Broker up: warm up (schema, first commits), then measure.
        try await PipelineBenchmarks.waitFor(timeout: .seconds(30)) { counter.lines >= devices * 3 }
        try await Task.sleep(for: .seconds(10))  // warm-up before the window
        var w0 = writeBytes(agent.pid), c0 = counter.lines, cpu0 = PipelineBenchmarks.cpuSeconds(agent.pid)
        try await Task.sleep(for: .seconds(window))  // the measuring window
        var w1 = writeBytes(agent.pid), c1 = counter.lines, cpu1 = PipelineBenchmarks.cpuSeconds(agent.pid)
        var readings = Double(c1 - c0) * Double(channels) / Double(devices)
        report("broker up", written: w1 - w0, readings: readings, cpu: cpu1 - cpu0)

        // Broker down: everything is buffered in the outbox.
        broker.kill()
        try await Task.sleep(for: .seconds(5))  // let the agent notice and settle
        // Readings polled in the window: the schedule (kept: see the broker-up line). `coop-edge status`
        // is not run before the end, because it checkpoints the WAL on close and so would take the
        // checkpoints' writes away from the agent's count.
        w0 = writeBytes(agent.pid); cpu0 = PipelineBenchmarks.cpuSeconds(agent.pid)
        try await Task.sleep(for: .seconds(window))  // the measuring window
        w1 = writeBytes(agent.pid); cpu1 = PipelineBenchmarks.cpuSeconds(agent.pid)
        readings = window * Double(channels)
        report("broker down", written: w1 - w0, readings: readings, cpu: cpu1 - cpu0)
        let fileKiB = ((try? FileManager.default.attributesOfItem(atPath: dir + "/o.sqlite")[.size] as? Int) ?? 0) / 1024
        let walKiB = ((try? FileManager.default.attributesOfItem(atPath: dir + "/o.sqlite-wal")[.size] as? Int) ?? 0) / 1024
        let pending = try PipelineBenchmarks.pending(bin, sitePath)
        print("outbox after the outage: \(pending) polls pending, file \(fileKiB) KiB, WAL \(walKiB) KiB")
        agent.terminate()
    }

    static func report(_ phase: String, written: Int, readings: Double, cpu: Double) {
        guard readings > 0 else { print("\(phase): no readings counted"); return }
        print("\(phase): \(Int(readings)) readings, \(written) bytes written → \(String(format: "%.1f", Double(written) / readings)) bytes/reading; agent CPU \(String(format: "%.1f", cpu * 1e6 / readings)) µs/reading")
    }

    /// `write_bytes` of /proc/PID/io.
    static func writeBytes(_ pid: Int32) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("write_bytes:") {
            return Int(line.split(separator: " ").last ?? "") ?? 0
        }
        return 0
    }
}

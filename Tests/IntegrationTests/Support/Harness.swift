import Foundation
import Testing
import Glibc

/// Where the built executables are: beside the test bundle in .build/<config>/.
enum Binaries {
    static var directory: String {
        if let dir = ProcessInfo.processInfo.environment["COOP_EDGE_BIN_DIR"] { return dir }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = (exe as NSString).deletingLastPathComponent
        // swift-testing may run from a runner inside the .xctest bundle directory.
        while !dir.isEmpty, dir != "/", !FileManager.default.fileExists(atPath: dir + "/coop-edge") {
            dir = (dir as NSString).deletingLastPathComponent
        }
        return dir
    }
    static func path(_ name: String) throws -> String {
        let p = directory + "/" + name
        guard FileManager.default.isExecutableFile(atPath: p) else {
            throw TimeoutError(description: "\(name) is not built at \(p): run `swift build --build-tests` (make test does)")
        }
        return p
    }
    static var repoRoot: String {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir.path }
            dir.deleteLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath
    }
    static var profiles: String { repoRoot + "/Firmware-Configs/profiles" }
}

/// A temporary folder removed when the test's harness goes away.
final class TempDir: Sendable {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "coop-edge-test-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func write(_ name: String, _ text: String) throws -> String {
        let p = path + "/" + name
        try text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }
}

/// A port on 127.0.0.1 the kernel says is free now.
func freePort() throws -> Int {
    let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard s >= 0 else { throw TimeoutError(description: "socket() failed") }
    defer { close(s) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) == 0 && getsockname(s, $0, &len) == 0 }
    }
    guard ok else { throw TimeoutError(description: "bind() failed") }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// True when something accepts TCP connections on 127.0.0.1:port.
func portOpen(_ port: Int) -> Bool {
    let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard s >= 0 else { return false }
    defer { close(s) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

/// A real Mosquitto broker on a free loopback port.
final class Broker: Sendable {
    let port: Int
    let process: TestProcess
    /// `listenerOptions`: more lines for the listener (TLS: cafile, certfile, keyfile, …).
    init(dir: TempDir, port: Int? = nil, listenerOptions: String = "") async throws {
        let port = try port ?? freePort()
        self.port = port
        let conf = try dir.write("mosquitto-\(port).conf", """
            listener \(port) 127.0.0.1
            \(listenerOptions)
            allow_anonymous true
            persistence false
            max_queued_messages 100000
            max_inflight_messages 0
            log_type error
            log_type warning
            log_type notice
            log_type information
            """)
        // With its signals unblocked: SIGHUP reloads the ACL file, SIGTERM stops it as on a server.
        process = try TestProcess("/usr/sbin/mosquitto", ["-c", conf], name: "mosquitto", unblockSignals: true)
        try await waitUntil(timeout: .seconds(10), "mosquitto on port \(port)") { portOpen(port) ? true : nil }
    }
}

/// `mosquitto_sub` on a topic filter, printing `topic payload` lines.
final class Subscriber: Sendable {
    let process: TestProcess
    /// `persistent`: a session the broker keeps (clean session off), so what arrives while this
    /// subscriber is away waits for the next one with the same `id`.
    init(port: Int, topic: String = "coop/#", id: String = "test-sub-\(UInt32.random(in: 0...UInt32.max))", persistent: Bool = false) async throws {
        process = try TestProcess("/usr/bin/mosquitto_sub", ["-h", "127.0.0.1", "-p", "\(port)", "-t", topic, "-v", "-q", "1", "-i", id]
                                  + (persistent ? ["-c"] : []), name: "sub")
    }

    /// A subscriber to `broker` that the broker has seen connect, so nothing published later is missed.
    static func connected(to broker: Broker, topic: String = "coop/#") async throws -> Subscriber {
        let sub = try await Subscriber(port: broker.port, topic: topic)
        try await waitUntil(timeout: .seconds(5), "subscriber connected") {
            broker.process.output.contains { $0.contains("as test-sub") } ? true : nil
        }
        return sub
    }

    /// Messages received so far, as (topic, payload).
    var messages: [(topic: String, payload: String)] {
        process.output.compactMap { line in
            guard let space = line.firstIndex(of: " ") else { return nil }
            return (String(line[..<space]), String(line[line.index(after: space)...]))
        }
    }

    /// Decoded JSON state messages of one device, one per poll: a backlog message that carries
    /// several polls (`"polls": [...]`) counts as each of them, with its `device` and `historical`.
    func states(device: String) -> [[String: Any]] {
        messages.filter { $0.topic.hasSuffix("/\(device)/state") }.flatMap { m -> [[String: Any]] in
            guard let object = (try? JSONSerialization.jsonObject(with: Data(m.payload.utf8))) as? [String: Any] else { return [] }
            guard let polls = object["polls"] as? [[String: Any]] else { return [object] }
            return polls.map { p in
                var one = p
                one["device"] = object["device"]
                one["historical"] = object["historical"]
                return one
            }
        }
    }

    /// How many state messages of `device` carried several polls (a backlog sent in batches).
    func batchMessages(device: String) -> Int {
        messages.filter { $0.topic.hasSuffix("/\(device)/state") && $0.payload.contains("\"polls\":[") }.count
    }
}

/// A site file pointing at the given ports, with its outbox in `dir`.
func writeSite(_ dir: TempDir, name: String = "site.yaml", modbusPort: Int, brokerPort: Int, poll: String = "200ms",
               responseTimeoutMS: Int = 300, extra: String = "") throws -> String {
    try dir.write(name, """
        coop: test-coop
        site: farm-1
        profiles_dir: \(Binaries.profiles)
        broker: { url: "mqtt://127.0.0.1:\(brokerPort)", client_id: farm-1-edge-\(brokerPort), keepalive: 5s }
        storage: { path: \(dir.path)/outbox.sqlite, durability: normal }
        buses:
          - { name: gw, tcp: { host: 127.0.0.1, port: \(modbusPort) }, response_timeout_ms: \(responseTimeoutMS) }
        devices:
          - { name: cold-room-1, bus: gw, slave: 3, profile: th-transmitter, poll: \(poll) }
          - { name: cold-room-2, bus: gw, slave: 4, profile: th-transmitter, poll: \(poll) }
          - { name: field-a-soil, bus: gw, slave: 5, profile: soil-probe, poll: \(poll) }
          - { name: maize-scale, bus: gw, slave: 1, profile: weighing-transmitter, poll: \(poll) }
        \(extra)
        """)
}

/// The simulator serving `site`, and the values it serves (with --hold).
final class Simulator: Sendable {
    let process: TestProcess
    let port: Int
    init(site: String, port: Int, hold: Bool = true, seed: Int = 7, speed: Double = 1) async throws {
        self.port = port
        var args = ["--site", site, "--seed", "\(seed)", "--port", "\(port)", "--speed", "\(speed)"]
        if hold { args.append("--hold") }
        process = try TestProcess(try Binaries.path("coop-edge-sim"), args, name: "sim")
        try await process.waitForLine(timeout: .seconds(10), "listening") { $0.hasPrefix("listening") }
    }

    /// `{device: {channel: value}}` as the simulator printed it at start.
    func servedValues() throws -> [String: [String: Double]] {
        guard let line = process.output.first(where: { $0.hasPrefix("values ") }) else { throw TimeoutError(description: "no values line") }
        let obj = try JSONSerialization.jsonObject(with: Data(line.dropFirst(7).utf8)) as? [String: [String: Double]]
        return obj ?? [:]
    }

    /// Sends a control command and waits for its `ok`.
    func command(_ line: String) async throws {
        let before = process.output.filter { $0 == "ok" || $0.hasPrefix("error") }.count
        process.send(line)
        let reply = try await waitUntil(timeout: .seconds(5), "sim reply to '\(line)'") { () -> String? in
            let replies = process.output.filter { $0 == "ok" || $0.hasPrefix("error") }
            return replies.count > before ? replies[before] : nil
        }
        if reply != "ok" { throw TimeoutError(description: "sim refused '\(line)': \(reply)") }
    }
}

/// `coop-edge` as a child process.
func agent(_ site: String) throws -> TestProcess {
    try TestProcess(try Binaries.path("coop-edge"), ["run", "--config", site, "--log-level", "debug"], name: "agent")
}

/// Runs `coop-edge ARGS` to completion and returns (status, output).
func coopEdge(_ args: [String]) async throws -> (Int32, String) {
    let p = try TestProcess(try Binaries.path("coop-edge"), args, name: "coop-edge")
    try await waitUntil(timeout: .seconds(30), "coop-edge \(args.joined(separator: " "))") { p.isRunning ? nil : true }
    // The pipe's end of file can lag the exit (another child may briefly hold an inherited copy of
    // its write end): wait for it, but at most 3 s.
    _ = try? await waitUntil(timeout: .seconds(3), "end of output") { p.finished ? true : nil }
    return (p.stop() ?? -1, p.output.joined(separator: "\n"))
}

/// Makes a 32 MiB ext4 file system in `image` and mounts it at `mount` through a loop device (root
/// only): a disk a test can freeze (`fsfreeze`) or make unwritable (`chattr +i`). The caller unmounts.
func mountScratchExt4(image: String, at mount: String) async throws {
    try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
    #expect(try await runAsync("/usr/bin/truncate", ["-s", "32M", image]) == 0)
    #expect(try await runAsync("/sbin/mkfs.ext4", ["-q", "-F", image]) == 0)
    try #require(try await runAsync("/bin/mount", ["-o", "loop", image, mount]) == 0,
                 "mounting a loop ext4 needs root (FIELD-NOTES.md: fault-injection tests run as root)")
}

/// `pending readings:` as `coop-edge status` prints it (-1 when it cannot be read).
func pendingReadings(_ site: String) async throws -> Int {
    let (_, out) = try await coopEdge(["status", "--config", site])
    return out.split(separator: "\n").first { $0.hasPrefix("pending readings:") }
        .flatMap { Int($0.split(separator: " ").last ?? "") } ?? -1
}

/// One delivered poll: its number and when it was taken.
struct DeliveredPoll: Hashable {
    let seq: Int
    let time: Double
}

extension Subscriber {
    /// The seq of every poll of `device` taken after `time` (seconds since the epoch), copies included.
    func seqs(device: String, since time: Double) -> [Int] {
        polls(device: device).filter { $0.time > time }.map(\.seq)
    }

    /// The (seq, time) of every state message of `device` received so far, copies included.
    func polls(device: String) -> [DeliveredPoll] {
        states(device: device).compactMap { s in
            guard let seq = s["seq"] as? Int, let time = s["time"] as? Double else { return nil }
            return DeliveredPoll(seq: seq, time: time)
        }
    }

    /// Problems with `device`'s numbering: a number given to two different polls, or a later number on
    /// an earlier poll (numbering went back). Copies of one poll (QoS 1) are fine.
    func numberingProblems(device: String) -> [String] {
        var timeOf: [Int: Double] = [:]
        var problems: [String] = []
        for p in polls(device: device) {
            if let t = timeOf[p.seq], abs(t - p.time) > 0.0005 {
                problems.append("\(device): seq \(p.seq) used for the poll at \(t) and again for the poll at \(p.time)")
            }
            timeOf[p.seq] = p.time
        }
        let ordered = timeOf.sorted { $0.key < $1.key }
        for (a, b) in zip(ordered, ordered.dropFirst()) where b.value <= a.value {
            problems.append("\(device): seq \(b.key) is later than seq \(a.key) but its poll is not (\(b.value) ≤ \(a.value))")
        }
        return problems
    }
}

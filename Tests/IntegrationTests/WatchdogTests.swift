import Agent
import EdgeCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@Suite("systemd notify and watchdog", .serialized)
struct WatchdogTests {
    /// Waits until `count` more messages matching `what` arrived after `start` (an index into the
    /// listener's messages); returns the index just past the last of them.
    private func waitFor(_ listener: NotifyListener, after start: Int, count: Int = 1, _ description: String,
                         timeout: Duration = .seconds(10), where what: @escaping (String) -> Bool) async throws -> Int {
        try await waitUntil(timeout: timeout, "\(count) × \(description)") { () -> Int? in
            let all = listener.messages
            var seen = 0
            for i in start..<all.count where what(all[i].text) {
                seen += 1
                if seen == count { return i + 1 }
            }
            return nil
        }
    }

    private func pings(_ listener: NotifyListener, from: Int, to: Int) -> Int {
        let all = listener.messages
        return all[from..<min(to, all.count)].filter { $0.text.hasPrefix("WATCHDOG=1") }.count
    }

    @Test("the settings come from systemd's environment: socket path or abstract name, interval, and only for our pid")
    func environment() throws {
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "2000000"]) == .seconds(2))
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "\(getpid())"]) == .seconds(2))
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "\(getpid() + 1)"]) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "soon"]) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: [:]) == nil)
        #expect(SystemdNotifier(environment: [:]) == nil)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative/path"]) == nil)

        let abstract = "@coop-edge-test-\(UInt32.random(in: 0...UInt32.max))"
        let listener = try NotifyListener(path: abstract)
        let notifier = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": abstract]))
        #expect(notifier.send("STATUS=hello"))
        let dir = try TempDir()
        let byPath = try NotifyListener(path: dir.path + "/notify")
        let notifier2 = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": byPath.path]))
        #expect(notifier2.send("READY=1"))
        // Without anyone listening the send fails quietly.
        let orphan = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": dir.path + "/nobody"]))
        #expect(!orphan.send("READY=1"))
        _ = listener
        _ = byPath
    }

    @Test("pings follow progress: they stop, with a status naming the part, while a bus or the recorder stalls, and resume after")
    func pingsFollowProgress() async throws {
        let dir = try TempDir()
        let listener = try NotifyListener(path: dir.path + "/notify")
        let notifier = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.path]))
        let liveness = Liveness()
        liveness.register("bus rs485-1", limit: .milliseconds(400))
        let queue = SampleQueue()
        let logger = Logger(label: "watchdog-test")
        let service = WatchdogService(notifier: notifier, interval: .milliseconds(200), liveness: liveness, queue: queue,
                                      queueLimit: .milliseconds(400), summary: "test site", logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: logger))
        let running = Task { try await group.run() }
        let beating = Mutex(true)
        let beater = Task {
            while !Task.isCancelled {
                if beating.withLock({ $0 }) { liveness.beat("bus rs485-1") }
                try? await Task.sleep(for: .milliseconds(50))   // the bus's poll rhythm
            }
        }
        defer { beater.cancel() }

        var at = try await waitFor(listener, after: 0, "READY=1") { $0.hasPrefix("READY=1") }
        #expect(listener.messages[at - 1].text.contains("STATUS=running: test site"))
        at = try await waitFor(listener, after: at, count: 5, "pings") { $0 == "WATCHDOG=1" }

        // The bus stops finishing polls: the pings stop and the status names it.
        beating.withLock { $0 = false }
        let stalled = try await waitFor(listener, after: at, "stalled status") { $0.contains("STATUS=stalled: bus rs485-1") }
        let later = try await waitFor(listener, after: stalled, count: 4, "more stalled statuses") { $0.hasPrefix("STATUS=stalled") }
        #expect(pings(listener, from: stalled, to: later) == 0, "pinged while the bus was stalled")

        // It polls again: pings resume, and the status says so.
        beating.withLock { $0 = true }
        at = try await waitFor(listener, after: later, "ping after recovery") { $0.hasPrefix("WATCHDOG=1") }
        #expect(listener.messages[at - 1].text.contains("STATUS=running"))

        // A sample waits and nobody takes it (a commit that never returns): the recorder stalls.
        queue.push(DeviceSample(device: "cold-room-1", time: 0, monotonic: 0, readings: []))
        let recorderStalled = try await waitFor(listener, after: at, "recorder stall") { $0.contains("STATUS=stalled: recorder") }
        let later2 = try await waitFor(listener, after: recorderStalled, count: 4, "more stalled statuses") { $0.hasPrefix("STATUS=stalled") }
        #expect(pings(listener, from: recorderStalled, to: later2) == 0)
        _ = queue.drain()
        at = try await waitFor(listener, after: later2, "ping after the recorder drains") { $0.hasPrefix("WATCHDOG=1") }

        await group.triggerGracefulShutdown()
        _ = try await waitFor(listener, after: at, "STOPPING=1") { $0.hasPrefix("STOPPING=1") }
        try await running.value
    }

    @Test("the agent under Type=notify: READY, pings through a dead sensor, no pings while its storage is frozen, STOPPING")
    func agentWatchdog() async throws {
        // The outbox lives on a small ext4 file system that the test can freeze: writes to it block,
        // as they do on an SD card that stops answering.
        let image = NSTemporaryDirectory() + "coop-edge-freeze-\(UInt32.random(in: 0...UInt32.max))"
        let mount = image + ".d"
        try await mountScratchExt4(image: image, at: mount)
        let frozen = Mutex(false)
        defer {
            // Thaw first: a process writing to a frozen file system cannot even be killed.
            if frozen.withLock({ $0 }) { _ = try? run("/sbin/fsfreeze", ["--unfreeze", mount]) }
        }
        defer {
            _ = try? run("/bin/umount", [mount])
            try? FileManager.default.removeItem(atPath: mount)
            try? FileManager.default.removeItem(atPath: image)
        }

        let dir = try TempDir()
        let broker = try await Broker(dir: dir)
        let simPort = try freePort()
        var site = try writeSite(dir, modbusPort: simPort, brokerPort: broker.port, poll: "200ms")
        let text = try String(contentsOfFile: site, encoding: .utf8)
            .replacingOccurrences(of: "path: \(dir.path)/outbox.sqlite", with: "path: \(mount)/outbox.sqlite")
        site = try dir.write("site-frozen.yaml", text)
        let sim = try await Simulator(site: site, port: simPort)
        let listener = try NotifyListener(path: dir.path + "/notify")
        let agent = try TestProcess(try Binaries.path("coop-edge"), ["run", "--config", site, "--log-level", "debug"], name: "agent",
                                    environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "1000000"])
        defer {
            if frozen.withLock({ $0 }) { _ = try? run("/sbin/fsfreeze", ["--unfreeze", mount]) }
            _ = agent.stop()
        }

        var at = try await waitFor(listener, after: 0, "READY=1", timeout: .seconds(30)) { $0.hasPrefix("READY=1") }
        at = try await waitFor(listener, after: at, count: 3, "pings") { $0 == "WATCHDOG=1" }

        // Every sensor stops answering: polls end in timeouts, which is not a hang.
        kill(sim.process.pid, SIGSTOP)
        _ = try await agent.waitForLine("a timeout logged") { $0.contains("timeout") }
        at = try await waitFor(listener, after: listener.messages.count, count: 4, "pings with dead sensors") { $0 == "WATCHDOG=1" }
        #expect(!listener.messages.contains { $0.text.hasPrefix("STATUS=stalled") })
        kill(sim.process.pid, SIGCONT)

        // The storage freezes: the commit blocks, the recorder stalls, the pings stop.
        #expect(try await runAsync("/sbin/fsfreeze", ["--freeze", mount]) == 0)
        frozen.withLock { $0 = true }
        let stalled = try await waitFor(listener, after: at, "stalled status") { $0.contains("STATUS=stalled: recorder") }
        let later = try await waitFor(listener, after: stalled, count: 4, "more stalled statuses") { $0.hasPrefix("STATUS=stalled") }
        #expect(pings(listener, from: stalled, to: later) == 0, "pinged while the outbox was frozen")
        _ = try await agent.waitForLine("the stall logged") { $0.contains("pipeline stalled") }

        // Thawed: what waited is committed and the pings resume.
        #expect(try await runAsync("/sbin/fsfreeze", ["--unfreeze", mount]) == 0)
        frozen.withLock { $0 = false }
        at = try await waitFor(listener, after: later, count: 2, "pings after the thaw") { $0.hasPrefix("WATCHDOG=1") }

        #expect(agent.stop() == 0)
        _ = try await waitFor(listener, after: at, "STOPPING=1") { $0.hasPrefix("STOPPING=1") }
    }
}

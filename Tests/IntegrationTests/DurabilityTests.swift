import Foundation
import Testing

/// Invariant 1: every reading is committed before it is published and leaves SQLite only once the
/// broker has it — across a missing broker, a killed agent and a restart.
@Suite(.serialized)
struct DurabilityTests {
    @Test("broker absent at start, agent killed and restarted, then the broker appears: every poll arrives, in order, none lost")
    func nothingPolledWhileTheBrokerIsAwayIsLost() async throws {
        let dir = try TempDir()
        // The broker and the subscriber run all along; the agent reaches the broker only through a
        // proxy port, which is closed until the "link" comes up — a broker the agent cannot reach.
        let broker = try await Broker(dir: dir)
        let sub = try await Subscriber.connected(to: broker)
        let linkPort = try freePort()
        let modbusPort = try freePort()
        let site = try writeSite(dir, modbusPort: modbusPort, brokerPort: linkPort, poll: "100ms")
        let sim = try await Simulator(site: site, port: modbusPort)

        // First run: no broker. Polls pile up in the outbox. Then the agent is killed outright.
        let first = try agent(site)
        try await waitUntil(timeout: .seconds(20), "20 readings buffered") { () -> Bool? in
            let (_, out) = try await coopEdge(["status", "--config", site])
            let pending = out.split(separator: "\n").first { $0.hasPrefix("pending readings:") }
                .flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
            return pending >= 20 ? true : nil
        }
        #expect(first.output.contains { $0.contains("broker unreachable") })
        first.stop(signal: SIGKILL)

        // The killed agent's file is intact and holds what it committed.
        let (rc, out) = try await coopEdge(["status", "--config", site])
        #expect(rc == 0, "\(out)")
        let buffered = out.split(separator: "\n").first { $0.hasPrefix("pending readings:") }
            .flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        #expect(buffered >= 20)
        #expect(sub.states(device: "cold-room-1").isEmpty, "nothing can have reached the broker yet")

        // Second run, still no broker; then the link comes up.
        let second = try agent(site)
        try await second.waitForLine(timeout: .seconds(10), "agent started") { $0.contains("starting") }
        let link = try TestProcess("/usr/bin/socat", ["TCP-LISTEN:\(linkPort),bind=127.0.0.1,fork,reuseaddr", "TCP:127.0.0.1:\(broker.port)"], name: "link")
        try await waitUntil(timeout: .seconds(10), "link up") { portOpen(linkPort) ? true : nil }

        // Every device's sequence runs 1…n without a gap across both runs, and the backlog drains.
        try await waitUntil(timeout: .seconds(60), "backlog delivered") { () -> Bool? in
            let (_, out) = try await coopEdge(["status", "--config", site])
            let pending = out.split(separator: "\n").first { $0.hasPrefix("pending readings:") }
                .flatMap { Int($0.split(separator: " ").last ?? "") } ?? -1
            return pending >= 0 && pending < 8 && sub.states(device: "cold-room-1").count > buffered / 4 ? true : nil
        }
        #expect(second.stop(signal: SIGTERM) == 0)
        try await waitUntil(timeout: .seconds(5), "offline status") {
            sub.messages.contains { $0.topic.hasSuffix("/status") && $0.payload == "offline" } ? true : nil
        }
        var total = 0
        for device in ["cold-room-1", "cold-room-2", "field-a-soil", "maize-scale"] {
            let seqs = Set(sub.states(device: device).compactMap { $0["seq"] as? Int })
            let maxSeq = seqs.max() ?? 0
            #expect(maxSeq > 0, "\(device) delivered nothing")
            let missing = (1...max(1, maxSeq)).filter { !seqs.contains($0) }
            #expect(missing.isEmpty, "\(device): sequence numbers never delivered: \(missing.prefix(20))")
            total += seqs.count
        }
        #expect(total >= buffered, "delivered \(total), buffered before the kill \(buffered)")
        let (_, after) = try await coopEdge(["status", "--config", site])
        #expect(after.contains("pending readings:  0"), "\(after)")
        link.stop(signal: SIGKILL)
        _ = sim
    }

    @Test("an agent started on a damaged outbox moves it aside (kept, shown by status), says so, and publishes above the old numbers")
    func damagedOutboxDoesNotStopRecording() async throws {
        let dir = try TempDir()
        let broker = try await Broker(dir: dir)
        let sub = try await Subscriber.connected(to: broker)
        let modbusPort = try freePort()
        let site = try writeSite(dir, modbusPort: modbusPort, brokerPort: broker.port, poll: "100ms")
        let sim = try await Simulator(site: site, port: modbusPort)

        let first = try agent(site)
        try await waitUntil(timeout: .seconds(20), "readings delivered") { sub.states(device: "cold-room-1").count >= 5 ? true : nil }
        #expect(first.stop(signal: SIGTERM) == 0)
        let oldMax = sub.states(device: "cold-room-1").compactMap { $0["seq"] as? Int }.max() ?? 0

        // The card garbles the start of the file (its header and first pages).
        let path = dir.path + "/outbox.sqlite"
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.write(Data(repeating: 0x5A, count: 16 * 1024))
        try handle.close()

        let second = try agent(site)
        defer { _ = second.stop() }
        _ = try await second.waitForLine("the damage logged") { $0.contains("outbox was damaged") && $0.contains("moved") }
        let fresh = try await waitUntil(timeout: .seconds(20), "a reading after the restart") { () -> Int? in
            sub.states(device: "cold-room-1").compactMap { $0["seq"] as? Int }.first { $0 > oldMax }
        }
        #expect(fresh > oldMax)
        let kept = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("outbox.sqlite.damaged-") }
        #expect(!kept.isEmpty, "the damaged file must be kept")
        let (rc, out) = try await coopEdge(["status", "--config", site])
        #expect(rc == 0, "\(out)")
        #expect(out.contains("damaged, moved aside: \(dir.path)/outbox.sqlite.damaged-"), "\(out)")
        #expect(second.stop(signal: SIGTERM) == 0)
        _ = sim
    }

    @Test("polls that cannot be stored are retried, and at shutdown the ones still not stored are counted in the log, not lost in silence")
    func unstorablePollsAreReportedAtShutdown() async throws {
        // The outbox on a small ext4, whose files the test can make unwritable (chattr +i: even root's
        // writes then fail, as on a card that went bad).
        let dir = try TempDir()
        let image = dir.path + "/card.img"
        let mount = dir.path + "/card"
        try await mountScratchExt4(image: image, at: mount)
        let db = mount + "/outbox.sqlite"
        defer {
            _ = try? run("/usr/bin/chattr", ["-i", db, db + "-wal"])
            _ = try? run("/bin/umount", [mount])
            withExtendedLifetime(dir) {}      // the mount point is inside it
        }
        let broker = try await Broker(dir: dir)
        let modbusPort = try freePort()
        let plain = try writeSite(dir, modbusPort: modbusPort, brokerPort: broker.port, poll: "100ms")
        let site = try dir.write("site-card.yaml", try String(contentsOfFile: plain, encoding: .utf8)
            .replacingOccurrences(of: "path: \(dir.path)/outbox.sqlite", with: "path: \(db)"))
        let sim = try await Simulator(site: site, port: modbusPort)
        let agent = try agent(site)
        defer { _ = agent.stop() }
        _ = try await agent.waitForLine("connected") { $0.contains("connected to broker") }

        // The database and its WAL stop taking writes: every commit fails from now on.
        #expect(try await runAsync("/usr/bin/chattr", ["+i", db, db + "-wal"]) == 0)
        _ = try await agent.waitForLine("commits failing") { $0.contains("could not store readings") }
        #expect(agent.isRunning, "a failing card must not stop the agent")
        #expect(agent.stop() == 0)
        let lost = try #require(agent.output.first { $0.contains("lost at shutdown") }, "\(agent.output.suffix(10))")
        #expect(lost.contains("critical") && lost.contains("polls="), "\(lost)")
        _ = sim
    }
}

import Foundation
import Testing

/// Pooling many farms: the ACL `coop-edge acl` prints, and the documented farm broker bridged to the
/// co-op's broker (Firmware-Configs/mosquitto/farm-bridge.conf), both on real mosquittos.
@Suite(.serialized)
struct PoolingTests {
    static let prefix = "coop/test-coop/farm-1"

    @Test("coop-edge acl prints the user and its write rule under the site's prefix; --username overrides; no user is an error")
    func aclCommand() async throws {
        let dir = try TempDir()
        let plain = try writeSite(dir, modbusPort: 1502, brokerPort: 1883)
        let (status, out) = try await coopEdge(["acl", "--config", plain, "--username", "farm-1-bridge"])
        #expect(status == 0, "\(out)")
        let rules = out.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(rules == ["user farm-1-bridge", "topic write \(Self.prefix)/#"], "\(out)")
        #expect(out.contains("#   pattern write coop/test-coop/%u/#"), "\(out)")

        let (failed, message) = try await coopEdge(["acl", "--config", plain])
        #expect(failed == 1)
        #expect(message.contains("no broker.username") && message.contains("--username"), "\(message)")

        // The site's own user, and a topic_prefix.
        let text = try String(contentsOfFile: plain, encoding: .utf8)
            .replacingOccurrences(of: "keepalive: 5s }", with: "keepalive: 5s, username: farm-1 }")
            .replacingOccurrences(of: "site: farm-1\n", with: "site: farm-1\ntopic_prefix: north/farm-1/telemetry\n")
        let named = try dir.write("named.yaml", text)
        let (ok, own) = try await coopEdge(["acl", "--config", named])
        #expect(ok == 0, "\(own)")
        #expect(own.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
                == ["user farm-1", "topic write north/farm-1/telemetry/#"], "\(own)")
        #expect(own.contains("#   pattern write north/%u/telemetry/#"), "\(own)")
    }

    /// A mosquitto started from `conf`, once it accepts connections on `port`.
    private func mosquitto(_ conf: String, port: Int, name: String) async throws -> TestProcess {
        let p = try TestProcess("/usr/sbin/mosquitto", ["-c", conf], name: name, unblockSignals: true)
        try await waitUntil(timeout: .seconds(10), "\(name) on port \(port)\n\(p.output.suffix(20).joined(separator: "\n"))") {
            portOpen(port) ? true : nil
        }
        return p
    }

    /// The documented farm-bridge.conf, pointed at loopback ports and this test's farm.
    private func farmBridgeConf(dir: TempDir, farmPort: Int, coopPort: Int, password: String) throws -> String {
        var text = try String(contentsOfFile: Binaries.repoRoot + "/Firmware-Configs/mosquitto/farm-bridge.conf", encoding: .utf8)
        let db = dir.path + "/farm-db/"
        try FileManager.default.createDirectory(atPath: db, withIntermediateDirectories: true)
        chmod(db, 0o777)  // mosquitto started as root runs as the mosquitto user
        let replacements = [
            ("\nlistener 1883\n", "\nlistener \(farmPort) 127.0.0.1\n"),
            ("persistence_location /var/lib/mosquitto/", "persistence_location \(db)"),
            ("log_dest syslog", "log_dest stderr\nlog_type information"),
            ("address co-op-broker.example:8883", "address 127.0.0.1:\(coopPort)"),
            ("remote_username farm-17", "remote_username farm-1"),
            ("remote_password CHANGE-ME", "remote_password \(password)"),
            ("example-coop-farm-17-bridge", "test-coop-farm-1-bridge"),
            ("coop/example-coop/farm-17/", "\(Self.prefix)/"),
        ]
        for (from, to) in replacements {
            #expect(text.contains(from), "farm-bridge.conf no longer has '\(from)'")
            text = text.replacingOccurrences(of: from, with: to)
        }
        // Plain TCP on loopback: no TLS lines.
        text = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("bridge_cafile") && !$0.hasPrefix("bridge_certfile") && !$0.hasPrefix("bridge_keyfile") }
            .joined(separator: "\n")
        return try dir.write("farm.conf", text)
    }

    @Test("a farm broker bridged to the co-op's broker (the documented config): readings arrive, the farm broker buffers through a co-op outage, and the co-op's generated ACL confines the farm to its prefix")
    func farmBridge() async throws {
        let dir = try TempDir()
        chmod(dir.path, 0o755)
        let coopPort = try freePort()
        let farmPort = try freePort()
        let modbusPort = try freePort()
        let site = try writeSite(dir, modbusPort: modbusPort, brokerPort: farmPort, poll: "200ms")

        // The co-op's broker: the farm's user with a password, its ACL block from `coop-edge acl`,
        // and an anonymous consumer allowed to read everything.
        let (aclStatus, aclBlock) = try await coopEdge(["acl", "--config", site, "--username", "farm-1"])
        try #require(aclStatus == 0, "\(aclBlock)")
        let acl = try dir.write("coop-acl", "topic read coop/#\n\n" + aclBlock + "\n")
        let passwords = dir.path + "/coop-passwords"
        #expect(try await runAsync("/usr/bin/mosquitto_passwd", ["-b", "-c", passwords, "farm-1", "s3cret"]) == 0)
        chmod(acl, 0o644)
        chmod(passwords, 0o644)
        let coopDB = dir.path + "/coop-db/"
        try FileManager.default.createDirectory(atPath: coopDB, withIntermediateDirectories: true)
        chmod(coopDB, 0o777)
        let coopConf = try dir.write("coop.conf", """
            listener \(coopPort) 127.0.0.1
            allow_anonymous true
            password_file \(passwords)
            acl_file \(acl)
            persistence true
            persistence_location \(coopDB)
            log_dest stderr
            log_type all
            """)
        var coop = try await mosquitto(coopConf, port: coopPort, name: "coop-broker")
        // A persistent consumer at the co-op: what arrives while it is away waits for it.
        var coopSub = try await Subscriber(port: coopPort, id: "coop-reader", persistent: true)
        try await waitUntil(timeout: .seconds(5), "co-op consumer connected") {
            coop.output.contains { $0.contains("as coop-reader") } ? true : nil
        }

        let farm = try await mosquitto(try farmBridgeConf(dir: dir, farmPort: farmPort, coopPort: coopPort, password: "s3cret"),
                                       port: farmPort, name: "farm-broker")
        defer { farm.stop(signal: SIGKILL) }
        let farmSub = try await Subscriber(port: farmPort)
        let sim = try await Simulator(site: site, port: modbusPort)
        let agent = try agent(site)
        defer { agent.stop(signal: SIGKILL) }

        // Readings reach the co-op through the bridge, which logged in as the farm's user over MQTT 5.
        try await waitUntil(timeout: .seconds(30), "readings of every device at the co-op") { () -> Bool? in
            BrokerRefusalTests.devices.allSatisfy { !coopSub.states(device: $0).isEmpty } ? true : nil
        }
        let bridgeLogin = coop.output.first { $0.contains("as test-coop-farm-1-bridge") }
        #expect(bridgeLogin?.contains("(p5,") == true && bridgeLogin?.contains("u'farm-1'") == true, "\(bridgeLogin ?? "no bridge login")")
        try await waitUntil(timeout: .seconds(10), "the agent's birth and the bridge's state at the co-op") { () -> Bool? in
            let m = coopSub.messages
            return m.contains { $0.topic == "\(Self.prefix)/status" && $0.payload == "online" }
                && m.contains { $0.topic == "\(Self.prefix)/bridge" && $0.payload == "1" } ? true : nil
        }

        // The uplink goes down: the co-op's broker stops (saving its consumer's session).
        coopSub.process.stop()
        #expect(coop.stop(signal: SIGTERM) == 0)
        let down = Date().timeIntervalSince1970
        try await waitUntil(timeout: .seconds(20), "the agent delivering to the farm broker during the outage") { () -> Bool? in
            farmSub.polls(device: "cold-room-1").contains { $0.time > down + 3 } ? true : nil
        }
        let outage = Set(farmSub.polls(device: "cold-room-1").filter { $0.time > down + 0.5 }.map(\.seq))
        #expect(outage.count >= 10)
        #expect(try await pendingReadings(site) < 50, "the agent's outbox should have been emptied into the farm broker")

        // The co-op's broker comes back: everything the farm broker queued arrives.
        coop = try await mosquitto(coopConf, port: coopPort, name: "coop-broker")
        defer { coop.stop(signal: SIGKILL) }
        let firstSub = coopSub
        coopSub = try await Subscriber(port: coopPort, id: "coop-reader", persistent: true)
        let after = coopSub
        try await waitUntil(timeout: .seconds(60), "the readings taken during the outage at the co-op") { () -> Bool? in
            let got = Set((firstSub.polls(device: "cold-room-1") + after.polls(device: "cold-room-1")).map(\.seq))
            return outage.isSubset(of: got) ? true : nil
        }

        // The co-op's ACL: the farm's user may not write under another farm's prefix.
        let intruder = try TestProcess("/usr/bin/mosquitto_pub", [
            "-h", "127.0.0.1", "-p", "\(coopPort)", "-u", "farm-1", "-P", "s3cret", "-V", "mqttv5", "-q", "1",
            "-i", "acl-probe-1", "-t", "coop/test-coop/farm-2/cold-room-1/state", "-m", "intruder"], name: "pub")
        try await waitUntil(timeout: .seconds(10), "mosquitto_pub to another farm's prefix") { intruder.finished ? true : nil }
        #expect(intruder.output.joined().lowercased().contains("not authorized"), "\(intruder.output)")
        // Then a marker on its own prefix: once it arrives, the refused one would have too.
        let marker = try TestProcess("/usr/bin/mosquitto_pub", [
            "-h", "127.0.0.1", "-p", "\(coopPort)", "-u", "farm-1", "-P", "s3cret", "-V", "mqttv5", "-q", "1",
            "-i", "acl-probe-2", "-t", "\(Self.prefix)/acl-probe", "-m", "marker"], name: "pub")
        try await waitUntil(timeout: .seconds(10), "the marker on the farm's own prefix at the co-op") {
            after.messages.contains { $0.topic == "\(Self.prefix)/acl-probe" } ? true : nil
        }
        #expect(marker.stop() == 0)
        #expect(coop.output.contains { $0.contains("Denied PUBLISH from acl-probe-1") && $0.contains("farm-2") })
        let foreign = (firstSub.messages + after.messages).filter { !$0.topic.hasPrefix(Self.prefix + "/") }
        #expect(foreign.isEmpty, "outside the farm's prefix: \(foreign.prefix(3))")
        #expect(agent.stop(signal: SIGTERM) == 0)
        _ = sim
    }

    /// A site of farm `site` on its own folder, logging in to the co-op's broker as `user`.
    private func farmSite(_ dir: TempDir, site: String, user: String, password: String, modbusPort: Int, brokerPort: Int,
                          board: String = "board-1", topicPrefix: String? = nil) throws -> String {
        let plain = try writeSite(dir, modbusPort: modbusPort, brokerPort: brokerPort, poll: "200ms")
        let passwordFile = try dir.write("broker-password", password + "\n")
        var text = try String(contentsOfFile: plain, encoding: .utf8)
            .replacingOccurrences(of: "site: farm-1\n", with: "site: \(site)\n" + (topicPrefix.map { "topic_prefix: \($0)\n" } ?? ""))
            .replacingOccurrences(of: "client_id: farm-1-edge", with: "client_id: \(site)-\(board)-edge")
            .replacingOccurrences(of: "keepalive: 5s }", with: "keepalive: 5s, username: \(user), password_file: \(passwordFile) }")
        text += "\n"
        return try dir.write("\(site).yaml", text)
    }

    @Test("two agents, two farms, one co-op broker with the ACLs coop-edge acl printed: each delivers under its prefix, and a board whose prefix names the other farm is refused, keeps its readings and says so")
    func twoFarmsConfined() async throws {
        let top = try TempDir()
        chmod(top.path, 0o755)
        let passwords = top.path + "/passwords"
        #expect(try await runAsync("/usr/bin/mosquitto_passwd", ["-b", "-c", passwords, "farm-1", "pw-one"]) == 0)
        #expect(try await runAsync("/usr/bin/mosquitto_passwd", ["-b", passwords, "farm-2", "pw-two"]) == 0)
        chmod(passwords, 0o644)
        let brokerPort = try freePort()
        let (dir1, dir2, dir3) = (try TempDir(), try TempDir(), try TempDir())
        let (port1, port2, port3) = (try freePort(), try freePort(), try freePort())
        let farm1 = try farmSite(dir1, site: "farm-1", user: "farm-1", password: "pw-one", modbusPort: port1, brokerPort: brokerPort)
        let farm2 = try farmSite(dir2, site: "farm-2", user: "farm-2", password: "pw-two", modbusPort: port2, brokerPort: brokerPort)
        // farm-1's second board, its topic_prefix copied from farm-2's site file by mistake.
        let stray = try farmSite(dir3, site: "farm-1", user: "farm-1", password: "pw-one", modbusPort: port3, brokerPort: brokerPort,
                                 board: "board-2", topicPrefix: "coop/test-coop/farm-2")
        var acl = "topic read coop/#\n\n"
        for site in [farm1, farm2] {
            let (status, block) = try await coopEdge(["acl", "--config", site])
            try #require(status == 0, "\(block)")
            acl += block + "\n"
        }
        let aclFile = try top.write("acl", acl)
        chmod(aclFile, 0o644)
        let broker = try await Broker(dir: top, port: brokerPort, listenerOptions: "acl_file \(aclFile)\npassword_file \(passwords)")
        let sub = try await Subscriber.connected(to: broker)
        let sims = [try await Simulator(site: farm1, port: port1), try await Simulator(site: farm2, port: port2),
                    try await Simulator(site: stray, port: port3)]
        let agents = [try agent(farm1), try agent(farm2), try agent(stray)]
        defer { for a in agents { a.stop(signal: SIGKILL) } }

        /// `key` of each state message under `prefix` (its site is the part before the first '/').
        func keys(under prefix: String) -> [String] {
            sub.messages.filter { $0.topic.hasPrefix(prefix + "/") && $0.topic.hasSuffix("/state") }.compactMap { m in
                ((try? JSONSerialization.jsonObject(with: Data(m.payload.utf8))) as? [String: Any])?["key"] as? String
            }
        }
        try await waitUntil(timeout: .seconds(30), "both farms' readings at the co-op") { () -> Bool? in
            keys(under: "coop/test-coop/farm-1").count >= 10 && keys(under: "coop/test-coop/farm-2").count >= 10 ? true : nil
        }
        let refusal = try await agents[2].waitForLine(timeout: .seconds(20), "the stray board's refusal") { $0.contains("the broker refuses") }
        #expect(refusal.contains("coop/test-coop/farm-2/") && refusal.contains("not authorized (0x87)"), "\(refusal)")
        try await waitUntil(timeout: .seconds(20), "the stray board keeping its readings") { () -> Bool? in
            try await pendingReadings(stray) >= 20 ? true : nil
        }
        // Nothing of farm-1's arrived under farm-2's prefix, nor the other way round.
        #expect(keys(under: "coop/test-coop/farm-2").allSatisfy { $0.hasPrefix("farm-2/") })
        #expect(keys(under: "coop/test-coop/farm-1").allSatisfy { $0.hasPrefix("farm-1/") })
        for a in agents.prefix(2) { #expect(a.stop(signal: SIGTERM) == 0) }
        #expect(agents[0].output.allSatisfy { !$0.contains("the broker refuses") })
        #expect(agents[1].output.allSatisfy { !$0.contains("the broker refuses") })
        _ = sims
    }
}

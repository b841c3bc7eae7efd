import Agent
import ArgumentParser
import Config
import EdgeCore
import FoundationEssentials
import Logging
import Modbus
import Outbox

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the agent: poll, store, publish, until SIGTERM or Ctrl-C; SIGHUP reloads the site file.")
    @OptionGroup var site: SiteOptions
    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"
    @Option(help: .hidden) var timeScale: Double = 1  // demos: detectors and rules on a simulator's --speed clock
    @Option(help: .hidden) var demoClock: String?  // demos: SIMULATED@WALL, the simulator's --demo-clock

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown log level '\(logLevel)'") }
        guard timeScale >= 1, timeScale <= 3600 else { throw ValidationError("--time-scale must be between 1 and 3600") }
        if let demoClock, ClockOrigin(demoClock) == nil {
            throw ValidationError("--demo-clock '\(demoClock)': give SIMULATED@WALL, two Unix times in seconds")
        }
    }

    func run() async throws {
        var site = try site.loadSite()
        site.timeScale = timeScale
        site.clockOrigin = demoClock.flatMap(ClockOrigin.init)
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "coop-edge")
        if timeScale != 1 {
            logger.warning("demo clock: detectors and farmer rules see time run \(timeScale)× faster than the wall clock; never use this on a real site")
        }
        do {
            // SIGHUP (`systemctl reload coop-edge`) reads the same file again.
            let (path, profiles, timeScale, origin) = (self.site.config, self.site.profiles, self.timeScale, site.clockOrigin)
            try await CoopEdgeAgent.run(site: site, logger: logger, reload: {
                var site = try ConfigLoader.loadSite(path: path, profilesDirectory: profiles)
                site.timeScale = timeScale
                site.clockOrigin = origin
                return site
            })
        } catch {
            logger.critical("agent stopped: \(error)")
            throw ExitCode(1)
        }
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a site file and the profiles it names; print file:line:column: message for each problem.")
    @Argument(help: "The site file.") var file: String
    @Option(help: "Folder of sensor profiles (default: profiles/ beside the site's folder).") var profiles: String?

    func run() throws {
        let problems = ConfigLoader.check(sitePath: file, profilesDirectory: profiles)
        if problems.isEmpty {
            if let site = try? ConfigLoader.loadSite(path: file, profilesDirectory: profiles) {
                for w in ConfigLoader.portWarnings(site: site, sitePath: file) { printError("warning: " + w.description) }
                print("\(file): ok — \(site.buses.count) bus(es), \(site.devices.count) device(s), \(site.devices.reduce(0) { $0 + $1.channels.count }) channel(s), publishing under \(site.topicPrefix)/")
                print("")
                print(Self.sharingTable(site))
            }
            return
        }
        for p in problems { printError(p.description) }
        printError("\(problems.count) problem(s) found")
        throw ExitCode(1)
    }
}

extension CheckConfig {
    /// What each channel shares, one row per channel:
    ///
    ///     device       channel      shares         alerts
    ///     cold-room-1  temperature  full           yes
    ///     cold-room-1  humidity     aggregate 15m  yes
    static func sharingTable(_ site: Site) -> String {
        var rows = [["device", "channel", "shares", "alerts"]]
        for d in site.devices {
            for c in d.channels { rows.append([d.name, c.name, d.sharing.describe(c.name), d.sharing.alerts ? "yes" : "no"]) }
        }
        var widths = [Int](repeating: 0, count: 4)
        for r in rows { for (i, cell) in r.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { r in
            r.enumerated().map { i, cell in i == r.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show what the outbox holds: pending messages, oldest, delivered, dropped.")
    @OptionGroup var site: SiteOptions

    func run() async throws {
        let site = try site.loadSite()
        do {
            let outbox = try await Outbox.open(site.storage)
            let s = try await outbox.stats()
            let health = try await outbox.loadState(Publisher.healthKey)
            await outbox.close()
            print("outbox:            \(site.storage.path) (\(s.fileBytes / 1024) KiB in use)")
            print("pending readings:  \(s.pendingReadings)")
            print("pending alerts:    \(s.pendingAlerts)")
            if let oldest = s.oldestPending {
                print("oldest pending:    \(Timestamp.iso8601(oldest)) (\(Int(Date().timeIntervalSince1970 - oldest)) s ago)")
            }
            print("delivered:         \(s.delivered)")
            print("dropped:           \(s.dropped) (by retention or a full disk)")
            if s.keptOnFarm > 0 { print("kept on the farm:  \(s.keptOnFarm) poll(s) with no channel shared in full (share: none / aggregate): no state message") }
            if s.rejected > 0 { print("rejected:          \(s.rejected) (refused by the MQTT client for good; see the log)") }
            if s.refusedTotal > 0 {
                // Refused by the broker (MQTT 5 PUBACK ≥ 0x80): kept in the outbox and retried.
                let byReason = s.refusals.sorted { $0.key < $1.key }.map { "\(Publisher.refusalName($0.key)): \($0.value)" }
                print("refused by broker: \(s.refusedTotal) (\(byReason.joined(separator: ", "))); a refused message stays in the outbox and is retried")
                if let last = s.lastRefusal {
                    print("last refusal:      \(Timestamp.iso8601(last)) (\(Int(Date().timeIntervalSince1970 - last)) s ago; see the agent's log)")
                }
            }
            print("broker protocol:   MQTT \(site.broker.protocolVersion.rawValue)"
                  + (site.broker.protocolVersion == .v311 ? " (a broker cannot refuse a message under 3.1.1: one its ACL denies is deleted as delivered)" : ""))
            if let r = Outbox.reservation(forOutbox: site.storage.path) {
                print("numbering:         reserved below \(r.reservedBelow); \(r.clean ? "the last run stopped cleanly" : "an agent is running, or the last one did not stop cleanly")")
            } else {
                print("numbering:         no reservation yet (\(site.storage.path).seq): the next start numbers above the clock")
            }
            if let health { printHealth(health) }
            // Damaged outboxes the agent moved aside: their undelivered readings were not sent.
            let dir = FilePath.directory(of: site.storage.path)
            let base = FilePath.lastComponent(of: site.storage.path) + ".damaged-"
            let damaged = ((try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "." : dir)) ?? [])
                .filter { $0.hasPrefix(base) && !$0.hasSuffix("-wal") }.sorted()
            for name in damaged {
                print("damaged, moved aside: \(dir.isEmpty ? name : dir + "/" + name) (try `sqlite3 FILE .recover`)")
            }
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}

extension Status {
    /// The agent's health record as `…/health` carries it (the fields `status` prints).
    struct Health: Decodable {
        struct Device: Decodable {
            var status: String
            var polls: Int
            var faulty_polls: Int
            var last_good: String?
            var fault: String?
        }
        var ts: String
        var version: String
        var build: String
        var uptime_s: Int
        var broker_connected: Bool
        var devices: [String: Device]
    }

    /// The agent's last health record (written once a minute while it runs, as on `…/health`).
    func printHealth(_ bytes: [UInt8]) {
        guard let h = try? JSONDecoder().decode(Health.self, from: Data(bytes)) else { return }
        print("agent:             \(h.version) (build \(h.build)), up \(Self.duration(h.uptime_s)) at \(h.ts); broker \(h.broker_connected ? "connected" : "not connected")")
        guard !h.devices.isEmpty else { return }
        print("devices (at \(h.ts)):")
        let width = max(18, h.devices.keys.map(\.count).max() ?? 0)
        for name in h.devices.keys.sorted() {
            guard let d = h.devices[name] else { continue }
            var line = "  " + name + String(repeating: " ", count: width - name.count) + " " + d.status
                + String(repeating: " ", count: max(1, 9 - d.status.count))
            line += "\(d.polls) polls, \(d.faulty_polls) with a fault"
            line += d.last_good.map { "; last good \($0)" } ?? "; never answered in full"
            if let fault = d.fault { line += "; now: \(fault)" }
            print(line)
        }
    }

    static func duration(_ s: Int) -> String {
        s >= 86_400 ? "\(s / 86_400) d \(s % 86_400 / 3600) h" : s >= 3600 ? "\(s / 3600) h \(s % 3600 / 60) min" : "\(s / 60) min \(s % 60) s"
    }
}

struct ACL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acl",
        abstract: "Print the mosquitto ACL lines that confine this farm's broker user to its topic prefix (for the co-op's acl_file).")
    @OptionGroup var site: SiteOptions
    @Option(help: "The user the co-op's broker knows this farm as (default: broker.username in the site file; for a farm broker's bridge, its remote_username).")
    var username: String?

    func run() throws {
        let site = try site.loadSite()
        guard let user = username ?? site.broker.username else {
            printError("\(self.site.config) has no broker.username: pass --username NAME, the user the co-op's broker knows this farm as")
            throw ExitCode(1)
        }
        if let problem = BrokerACL.usernameProblem(user) {
            printError(problem)
            throw ExitCode(1)
        }
        print(BrokerACL.text(site: site, username: user), terminator: "")
    }
}

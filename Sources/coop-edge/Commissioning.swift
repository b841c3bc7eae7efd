import ArgumentParser
import Config
import EdgeCore
import FoundationEssentials
import IOThread
import Modbus
#if canImport(Glibc)
import Glibc
#endif

/// Where a commissioning command talks: a device of the site file, or a serial port given directly
/// (a new line before any site file exists).
struct LineOptions: ParsableArguments {
    @Option(name: [.short, .customLong("config")], help: "The site file (to name a device or bus of it).")
    var config: String?
    @Option(help: "Folder of sensor profiles (default: profiles/ beside the site's folder; with --port, /usr/share/coop-edge/profiles or Firmware-Configs/profiles).")
    var profiles: String?
    @Option(help: ArgumentHelp("A serial port to use directly, e.g. /dev/serial/by-id/usb-FTDI_…", valueName: "PATH"))
    var port: String?
    @Option(help: "Response timeout, in milliseconds.") var timeoutMs: Int = 100

    func validateLine() throws {
        guard (config == nil) != (port == nil) else { throw ValidationError("give either --config SITE or --port PATH") }
        guard (10...5000).contains(timeoutMs) else { throw ValidationError("--timeout-ms must be 10…5000") }
    }

    func loadSite() throws -> Site {
        guard let config else { throw ValidationError("--config SITE is needed here") }
        do { return try ConfigLoader.loadSite(path: config, profilesDirectory: profiles) } catch {
            for d in error.diagnostics { printError(d.description) }
            throw ExitCode(1)
        }
    }

    /// The profiles to match devices against with --port.
    func profileDirectory() -> String? {
        for dir in [profiles, "/usr/share/coop-edge/profiles", "Firmware-Configs/profiles"].compactMap({ $0 }) {
            var st = stat()
            if stat(dir, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { return dir }
        }
        return nil
    }

    /// Every profile in the folder, by name; unreadable ones are reported and skipped.
    func loadProfiles() -> [Profile] {
        guard let dir = profileDirectory(), let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        return names.filter { $0.hasSuffix(".yaml") }.sorted().compactMap { name in
            do throws(ConfigError) { return try ConfigLoader.loadProfile(path: dir + "/" + name) } catch {
                for d in error.diagnostics { printError("skipping profile: \(d.description)") }
                return nil
            }
        }
    }

    /// A bus on `port` with these serial settings.
    func bus(_ serial: SerialSettings) -> BusConfig {
        BusConfig(name: "commissioning", transport: .rtu(device: port ?? "", serial: serial, rs485: false),
                  responseTimeoutMS: timeoutMs, byteTimeoutMS: 20, lateReplyGuardMS: timeoutMs)
    }
}

struct Read: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Poll one device once and print its decoded readings (for commissioning).",
        discussion: """
            By the site file:  coop-edge read --config SITE DEVICE
            Ad hoc, by port:   coop-edge read --port /dev/ttyUSB0 --slave 3 --profile th-transmitter [--baud 9600 --parity N --stop-bits 1]
            """)
    @OptionGroup var line: LineOptions
    @Argument(help: "The device's name in the site file.") var device: String?
    @Option(help: "With --port: the slave id.") var slave: Int?
    @Option(help: "With --port: the profile (a name from the profiles folder, or a file).") var profile: String?
    @Option(help: "With --port: baud rate (default: the profile's).") var baud: Int?
    @Option(help: "With --port: parity N, E or O (default: the profile's).") var parity: String?
    @Option(help: "With --port: stop bits (default: the profile's).") var stopBits: Int?
    @Flag(help: "Print JSON, as the agent would publish it.") var json = false

    func validate() throws {
        try line.validateLine()
        if line.port != nil {
            guard let slave, (1...247).contains(slave) else { throw ValidationError("--slave 1…247 is needed with --port") }
            guard profile != nil else { throw ValidationError("--profile is needed with --port (e.g. th-transmitter)") }
            if let parity, SerialSettings.Parity(rawValue: parity.uppercased()) == nil { throw ValidationError("--parity is N, E or O") }
        } else if device == nil {
            throw ValidationError("name the device to read, as in the site file")
        }
    }

    func run() async throws {
        let (device, bus, siteName) = try target()
        let connection = ModbusConnection(config: bus)
        do {
            try await connection.connect()
        } catch {
            printError("\(error.message)")  // says what to do: the dialout group, the adapter, the gateway
            throw ExitCode(2)
        }
        let sample = await connection.poll(device: device, plan: ReadPlan(channels: device.channels, maxPerRead: device.profile.maxRegistersPerRead))
        if json {
            print(String(decoding: StatePayload.encode(sample, seq: 0, site: siteName), as: UTF8.self))
        } else {
            for r in sample.readings {
                let value = r.value.map { "\($0)" } ?? "—"
                print("\(r.channel + String(repeating: " ", count: max(0, 16 - r.channel.count))) \(value) \(r.unit)  [\(r.quality.rawValue)\(r.fault.map { ": \($0)" } ?? "")]")
            }
        }
        if sample.readings.allSatisfy({ $0.quality == .commFault }) { throw ExitCode(2) }
    }

    private func target() throws -> (DeviceConfig, BusConfig, String) {
        if line.port != nil, let slave, let profile {
            let path = profile.contains("/") ? profile : (line.profileDirectory() ?? ".") + "/" + profile + (profile.hasSuffix(".yaml") ? "" : ".yaml")
            let p: Profile
            do { p = try ConfigLoader.loadProfile(path: path) } catch {
                for d in error.diagnostics { printError(d.description) }
                throw ExitCode(1)
            }
            var serial = p.serial ?? SerialSettings()
            if let baud { serial.baud = baud }
            if let parity, let value = SerialSettings.Parity(rawValue: parity.uppercased()) { serial.parity = value }
            if let stopBits { serial.stopBits = stopBits }
            return (DeviceConfig(name: p.name, bus: "commissioning", slave: slave, profile: p, pollMS: 1000), line.bus(serial), "commissioning")
        }
        let site = try line.loadSite()
        guard let device = site.devices.first(where: { $0.name == self.device }),
              let bus = site.buses.first(where: { $0.name == device.bus }) else {
            printError("no device '\(self.device ?? "")' in \(line.config ?? ""); devices: \(site.devices.map(\.name).joined(separator: ", "))")
            throw ExitCode(1)
        }
        return (device, bus, site.site)
    }
}

struct Scan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find which slave ids answer on a bus, at which serial settings, and which profiles read them cleanly.",
        discussion: """
            A bus of the site file:  coop-edge scan --config SITE --bus NAME [--from 1 --to 247]
            A new RS-485 line:       coop-edge scan --port /dev/ttyUSB0 [--bauds 9600,19200] [--framings 8N1,8E1] [--to 32]

            With --port it tries each baud rate and framing in turn (the commonest first) and stops at
            the first setting where a device answers (devices on one line share it; --every-setting
            goes on). For each device found it tries every profile and lists those that read cleanly.
            """)
    @OptionGroup var line: LineOptions
    @Option(help: "The bus to scan, as named in the site file (with --config).") var bus: String?
    @Option(help: "First slave id.") var from: Int = 1
    @Option(help: "Last slave id (default 247 with --config, 32 with --port: ids above are rare on a farm line).") var to: Int?
    @Option(help: "With --port: baud rates to try, in order.") var bauds: String = "9600,19200,4800,38400,115200,57600,2400"
    @Option(help: "With --port: framings to try at each baud rate, in order (data bits, parity, stop bits).") var framings: String = "8N1,8E1,8N2,8O1"
    @Flag(help: "With --port: try every setting, not only until devices answer.") var everySetting = false

    func validate() throws {
        try line.validateLine()
        let last = to ?? (line.port == nil ? 247 : 32)
        guard (0...247).contains(from), (0...247).contains(last), from <= last else { throw ValidationError("ids run from 0 to 247, --from ≤ --to") }
        if line.config != nil, bus == nil { throw ValidationError("--bus NAME: which bus of the site to scan") }
        guard !settings.isEmpty else { throw ValidationError("--bauds and --framings give no setting to try (e.g. --bauds 9600 --framings 8N1)") }
    }

    /// The serial settings to try, commonest first.
    var settings: [SerialSettings] {
        let rates = bauds.split(separator: ",").compactMap { Int(String($0).trimmedOfWhitespace) }
        let frames: [(SerialSettings.Parity, Int)] = framings.split(separator: ",").compactMap { f in
            let c = Array(String(f).trimmedOfWhitespace.uppercased())
            guard c.count == 3, c[0] == "8", let p = SerialSettings.Parity(rawValue: String(c[1])), let s = Int(String(c[2])), s == 1 || s == 2 else { return nil }
            return (p, s)
        }
        return rates.flatMap { b in frames.map { SerialSettings(baud: b, parity: $0.0, dataBits: 8, stopBits: $0.1) } }
    }

    func run() async throws {
        let last = to ?? (line.port == nil ? 247 : 32)
        if line.port != nil {
            try await scanPort(last: last)
        } else {
            let site = try line.loadSite()
            guard var config = site.buses.first(where: { $0.name == bus }) else {
                printError("no bus '\(bus ?? "")' in \(line.config ?? ""); buses: \(site.buses.map(\.name).joined(separator: ", "))")
                throw ExitCode(1)
            }
            config.responseTimeoutMS = line.timeoutMs
            config.lateReplyGuardMS = line.timeoutMs
            let found = try await scan(ModbusConnection(config: config), label: config.name, ids: from...last)
            for (id, note) in found { print("slave \(id): answers\(note)") }
            print("\(found.count) device(s) answered on bus \(config.name) (ids \(from)–\(last))")
        }
    }

    private func scanPort(last: Int) async throws {
        let profiles = line.loadProfiles()
        var total = 0
        for serial in settings {
            let label = "\(serial.baud) \(serial.dataBits)\(serial.parity.rawValue)\(serial.stopBits)"
            let connection = ModbusConnection(config: line.bus(serial))
            let found = try await scan(connection, label: label, ids: from...last)
            guard !found.isEmpty else { continue }
            print("at \(label):")
            for (id, note) in found {
                print("  slave \(id): answers\(note)")
                let matches = await match(connection, slave: id, profiles: profiles)
                if matches.isEmpty {
                    print("    no profile reads it cleanly\(profiles.isEmpty ? " (no profiles folder found: give --profiles DIR)" : "")")
                }
                for (profile, values) in matches { print("    reads cleanly as \(profile): \(values)") }
            }
            total += found.count
            await connection.close()
            if !everySetting { break }
        }
        if total == 0 {
            print("no device answered at \(settings.count) setting(s), ids \(from)–\(last): check the A/B wires (swap them), the termination, the adapter, and the sensors' power")
            throw ExitCode(2)
        }
    }

    /// The ids that answer on `connection`, each with a note; a progress bar on a terminal.
    private func scan(_ connection: ModbusConnection, label: String, ids: ClosedRange<Int>) async throws -> [(Int, String)] {
        do { try await connection.connect() } catch {
            printError(error.message)
            throw ExitCode(2)
        }
        let bar = isatty(2) == 1
        var found: [(Int, String)] = []
        for id in ids {
            if bar {
                let done = (id - ids.lowerBound + 1) * 20 / ids.count
                printError("\r\(label): [\(String(repeating: "#", count: done))\(String(repeating: ".", count: 20 - done))] id \(id)/\(ids.upperBound), \(found.count) found ", newline: false)
            }
            // Any answer means a device is there; an exception other than a gateway's own
            // "no such target" (10, 11) is still an answer.
            do {
                _ = try await connection.read(slave: id, function: .holding, address: 0, count: 1)
                found.append((id, ""))
            } catch where error.code == .exception && error.exception != 10 && error.exception != 11 {
                found.append((id, " (exception \(error.exception ?? 0): \(ModbusError.exceptionName(error.exception ?? 0)) for holding register 0)"))
            } catch where error.code == .connection || error.code == .permission {
                if bar { printError("") }
                printError(error.message)
                throw ExitCode(2)
            } catch {
                continue
            }
        }
        if bar { printError("\r\(String(repeating: " ", count: 60))\r", newline: false) }
        if !bar { printError("\(label): \(found.count) found") }
        return found
    }

    /// The profiles whose every channel reads from `slave` without a fault and within its range.
    private func match(_ connection: ModbusConnection, slave: Int, profiles: [Profile]) async -> [(String, String)] {
        var matches: [(String, String)] = []
        for p in profiles {
            let device = DeviceConfig(name: p.name, bus: "commissioning", slave: slave, profile: p, pollMS: 1000)
            let sample = await connection.poll(device: device, plan: ReadPlan(channels: device.channels, maxPerRead: p.maxRegistersPerRead))
            guard !sample.readings.isEmpty, sample.readings.allSatisfy({ $0.quality == .good }) else { continue }
            matches.append((p.name, sample.readings.map { "\($0.channel) \($0.value.map { "\($0)" } ?? "—") \($0.unit)" }.joined(separator: ", ")))
        }
        return matches
    }
}

import ArgumentParser
import Config
import EdgeCore
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import IOThread

@main
struct SimulatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coop-edge-sim",
        abstract: "Serve every device of a site file as a Modbus TCP slave, with plausible values.",
        discussion: """
        Reads the same site and profile files as the agent and listens on each TCP bus's host and port.
        Several slave ids share one port, as behind a Modbus TCP gateway. Commands on standard input
        change the simulation while it runs (each answers 'ok' or 'error: …' on standard output):
          silence DEVICE             stop answering requests for DEVICE
          resume DEVICE              answer again
          slow DEVICE MS             answer DEVICE only after MS milliseconds (0 to stop)
          set DEVICE.CHANNEL VALUE   serve a fixed value (engineering units)
          release DEVICE.CHANNEL     back to the simulated value
          sentinel DEVICE.CHANNEL    serve the profile's first 'no reading' sentinel
          fail DEVICE                the cold room's compressor fails: it warms ~0.27 °C a minute at first, towards 28 °C
          repair DEVICE              the compressor runs again
          values                     print every served value as JSON
        The same commands can run on a schedule in simulated time (--at), e.g. for a demo:
          --at "210m fail cold-room-2" --at "5h repair cold-room-2" --repeat 8h
        """)

    @Option(help: "The site file whose devices to serve.") var site: String
    @Option(help: "Folder of sensor profiles (default: profiles/ beside the site's folder).") var profiles: String?
    @Option(help: "Seed for the simulated values; the same seed serves the same values.") var seed: UInt64 = 1
    @Flag(help: "Hold every value at its initial (seeded) value, so a test can compare exactly.") var hold = false
    @Option(help: "Time runs this many times faster than real time (compressor cycles, drying soil).") var speed: Double = 1
    @Option(help: ArgumentHelp("Run a command at a simulated time, e.g. \"210m fail cold-room-2\" (repeatable).", valueName: "TIME COMMAND"))
    var at: [String] = []
    @Option(help: "Repeat the --at schedule with this simulated period, e.g. 8h.") var `repeat`: String?
    @Option(help: ArgumentHelp("The simulated clock reads SIMULATED when the wall clock reads WALL (Unix seconds); give the agent the same with `run --demo-clock`, so both put declared defrosts at the same moments.", valueName: "SIMULATED@WALL"))
    var demoClock: String?
    @Option(help: ArgumentHelp("Serve the site's RS-485 (RTU) bus on a new pseudo-terminal linked at PATH (point the bus's rtu.device at it). Its slaves answer only a master set to the bus's baud rate, parity and stop bits.", valueName: "PATH"))
    var rtu: String?
    @Option(help: "Serve only this bus.") var bus: String?
    @Option(help: "Listen on this port instead of the one in the site file (one bus only).") var port: Int?

    func validate() throws {
        if let demoClock, ClockOrigin(demoClock) == nil {
            throw ValidationError("--demo-clock '\(demoClock)': give SIMULATED@WALL, two Unix times in seconds")
        }
        for entry in at {
            let parts = entry.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, ConfigLoader.duration(parts[0]) != nil else {
                throw ValidationError("--at '\(entry)': give a simulated time and a command, e.g. \"210m fail cold-room-2\"")
            }
        }
        if let r = `repeat` {
            guard let period = ConfigLoader.duration(r), period > 0 else { throw ValidationError("--repeat '\(r)' is not a duration such as 8h") }
            let last = at.compactMap { ConfigLoader.duration(String($0.split(separator: " ").first ?? "")) }.max() ?? 0
            if last >= period { throw ValidationError("--repeat \(r) must be longer than the last --at time") }
        }
    }

    func run() throws {
        let site: Site
        do { site = try ConfigLoader.loadSite(path: self.site, profilesDirectory: profiles) }
        catch {
            for d in error.diagnostics { Console.error(d.description + "\n") }
            throw ExitCode(1)
        }
        let buses = site.buses.filter { bus == nil || $0.name == bus }
        if let rtu {
            serveRTU(site: site, buses: buses, link: rtu)
        }
        guard let served = buses.first(where: { if case .tcp = $0.transport { return true }; return false }) else {
            Console.error("coop-edge-sim: the site has no TCP bus to serve\(bus.map { " named \($0)" } ?? "")\n")
            throw ExitCode(1)
        }
        guard case .tcp(let host, let sitePort) = served.transport else { throw ExitCode(1) }
        let devices = site.devices(on: served.name)
        let model = SimulationModel(devices: devices, seed: seed, hold: hold, speed: speed, origin: demoClock.flatMap(ClockOrigin.init))
        let server: ModbusTCPServer
        do {
            server = try ModbusTCPServer(host: host, port: port ?? sitePort, model: model)
        } catch {
            Console.error("coop-edge-sim: \(error)\n")
            throw ExitCode(1)
        }
        print("listening bus=\(served.name) \(host):\(server.port) devices=\(devices.map { "\($0.name)@\($0.slave)" }.joined(separator: ","))")
        print("values \(model.valuesJSON())")
        fflush(nil)
        ControlReader.start(model: model)
        let schedule = at.compactMap { entry -> (Double, String)? in
            let parts = entry.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, let t = ConfigLoader.duration(parts[0]) else { return nil }
            return (t, parts[1])
        }
        if !schedule.isEmpty {
            ControlReader.schedule(model: model, commands: schedule, every: `repeat`.flatMap(ConfigLoader.duration), speed: speed)
        }
        server.serve()
    }

    /// `--rtu PATH`: the site's RTU bus on a pty.
    func serveRTU(site: Site, buses: [BusConfig], link: String) -> Never {
        guard let served = buses.first(where: { if case .rtu = $0.transport { return true }; return false }),
              case .rtu(_, let serial, _) = served.transport else {
            Console.error("coop-edge-sim: the site has no RTU bus to serve\(bus.map { " named \($0)" } ?? "")\n")
            Glibc.exit(1)
        }
        let devices = site.devices(on: served.name)
        let model = SimulationModel(devices: devices, seed: seed, hold: hold, speed: speed, origin: demoClock.flatMap(ClockOrigin.init))
        let server: ModbusRTUServer
        do {
            server = try ModbusRTUServer(link: link, serial: serial, model: model)
        } catch {
            Console.error("coop-edge-sim: \(error)\n")
            Glibc.exit(1)
        }
        print("listening bus=\(served.name) rtu \(link) -> \(server.path) \(serial.baud) \(serial.dataBits)\(serial.parity.rawValue)\(serial.stopBits) devices=\(devices.map { "\($0.name)@\($0.slave)" }.joined(separator: ","))")
        print("values \(model.valuesJSON())")
        fflush(nil)
        ControlReader.start(model: model)
        server.serve()
    }
}

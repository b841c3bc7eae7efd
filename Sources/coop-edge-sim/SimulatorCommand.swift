import ArgumentParser
import Config
import EdgeCore
import Foundation

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
          fail DEVICE                the cold room's compressor fails: it warms ~0.25 °C a minute
          repair DEVICE              the compressor runs again
          values                     print every served value as JSON
        """)

    @Option(help: "The site file whose devices to serve.") var site: String
    @Option(help: "Folder of sensor profiles (default: profiles/ beside the site's folder).") var profiles: String?
    @Option(help: "Seed for the simulated values; the same seed serves the same values.") var seed: UInt64 = 1
    @Flag(help: "Hold every value at its initial (seeded) value, so a test can compare exactly.") var hold = false
    @Option(help: "Time runs this many times faster than real time (compressor cycles, drying soil).") var speed: Double = 1
    @Option(help: "Serve only this bus.") var bus: String?
    @Option(help: "Listen on this port instead of the one in the site file (one bus only).") var port: Int?

    func run() throws {
        let site: Site
        do { site = try ConfigLoader.loadSite(path: self.site, profilesDirectory: profiles) }
        catch {
            for d in error.diagnostics { FileHandle.standardError.write(Data((d.description + "\n").utf8)) }
            throw ExitCode(1)
        }
        let buses = site.buses.filter { bus == nil || $0.name == bus }
        guard let served = buses.first(where: { if case .tcp = $0.transport { return true }; return false }) else {
            FileHandle.standardError.write(Data("coop-edge-sim: the site has no TCP bus to serve\(bus.map { " named \($0)" } ?? "")\n".utf8))
            throw ExitCode(1)
        }
        guard case .tcp(let host, let sitePort) = served.transport else { throw ExitCode(1) }
        let devices = site.devices(on: served.name)
        let model = SimulationModel(devices: devices, seed: seed, hold: hold, speed: speed)
        let server: ModbusTCPServer
        do {
            server = try ModbusTCPServer(host: host, port: port ?? sitePort, model: model)
        } catch {
            FileHandle.standardError.write(Data("coop-edge-sim: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print("listening bus=\(served.name) \(host):\(server.port) devices=\(devices.map { "\($0.name)@\($0.slave)" }.joined(separator: ","))")
        print("values \(model.valuesJSON())")
        fflush(nil)
        ControlReader.start(model: model)
        server.serve()
    }
}

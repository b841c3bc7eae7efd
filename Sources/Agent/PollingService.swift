public import EdgeCore
public import Logging
internal import Modbus
public import ServiceLifecycle

/// Runs one `BusPoller` per bus, each on its bus's own thread, and streams every poll's sample.
/// On graceful shutdown it stops polling and finishes the stream, so the recorder can drain it.
///
/// On a reload (`SiteUpdates`) that changes buses or devices, every bus stops after the poll it is
/// in, and polling starts again with the new device list. The queue is the same, so nothing polled
/// is lost; a bus whose settings did not change keeps its connection.
public struct PollingService: Service {
    private let site: Site
    private let logger: Logger
    public let queue: SampleQueue
    private let liveness: Liveness?
    private let updates: SiteUpdates?

    /// With `liveness`, each bus marks progress as `bus <name>` after every poll (see `busLimit`).
    public init(site: Site, queue: SampleQueue, logger: Logger, liveness: Liveness? = nil, updates: SiteUpdates? = nil) {
        self.site = site
        self.logger = logger
        self.queue = queue
        self.liveness = liveness
        self.updates = updates
        Self.register(site, in: liveness)
    }

    private static func register(_ site: Site, in liveness: Liveness?) {
        for bus in site.buses where !site.devices(on: bus.name).isEmpty {
            liveness?.register(livenessName(bus.name), limit: busLimit(site: site, bus: bus))
        }
    }

    static func livenessName(_ bus: String) -> String { "bus \(bus)" }

    /// How long a bus may go without finishing a poll before it counts as hung: three of its
    /// slowest poll intervals, plus a response timeout and two seconds (a reconnect) per device,
    /// and at least a minute. A dead sensor costs one timeout per poll, so it never gets there.
    static func busLimit(site: Site, bus: BusConfig) -> Duration {
        let devices = site.devices(on: bus.name)
        let slowest = devices.map(\.pollMS).max() ?? 0
        let perRound = devices.count * (bus.responseTimeoutMS + 2000)
        return .milliseconds(max(60_000, 3 * slowest + perRound))
    }

    public func run() async {
        let queue = self.queue
        let logger = self.logger
        let liveness = self.liveness
        let updates = self.updates
        let initial = self.site
        await cancelWhenGracefulShutdown {
            var site = initial
            // Connections outlive a reload while their bus's settings stay the same.
            var connections: [String: (config: BusConfig, connection: ModbusConnection)] = [:]
            while !Task.isCancelled {
                let busy = site.buses.contains { !site.devices(on: $0.name).isEmpty }
                if !busy {
                    // Nothing to poll (the packaged example site as shipped): stay up until shutdown or
                    // a reload. A service that returns ends the whole group, and systemd would restart
                    // the agent in a loop.
                    logger.notice("nothing to poll: the site lists no devices; add buses and devices to it and reload (systemctl reload coop-edge)")
                }
                var pollers: [(bus: BusConfig, poller: BusPoller)] = []
                for bus in site.buses {
                    let devices = site.devices(on: bus.name)
                    guard !devices.isEmpty else { continue }
                    let connection = connections[bus.name].flatMap { $0.config == bus ? $0.connection : nil } ?? ModbusConnection(config: bus)
                    connections[bus.name] = (bus, connection)
                    pollers.append((bus, BusPoller(connection: connection, devices: devices)))
                }
                for name in connections.keys where !pollers.contains(where: { $0.bus.name == name }) {
                    connections[name] = nil
                }
                // Runs the buses until a reload that changes what is polled (returned), or shutdown (nil).
                let reloaded: Site? = await withTaskGroup(of: Site?.self) { group in
                    for (bus, poller) in pollers {
                        let part = Self.livenessName(bus.name)
                        group.addTask {
                            await poller.run(emit: { queue.push($0); liveness?.beat(part) },
                                             onFault: { logger.warning("\($0)", metadata: ["bus": "\(bus.name)"]) })
                            return nil
                        }
                    }
                    if pollers.isEmpty && updates == nil {
                        group.addTask {  // nothing to do until shutdown
                            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                            return nil
                        }
                    }
                    if let updates {
                        let current = site
                        group.addTask {
                            while let next = await updates.next() {
                                if next.buses != current.buses || next.devices != current.devices { return next }
                            }
                            return nil
                        }
                    }
                    for await result in group {
                        if let result {
                            group.cancelAll()  // each bus stops after the poll it is in
                            return result
                        }
                    }
                    return nil
                }
                guard let reloaded else { break }
                for bus in site.buses where !site.devices(on: bus.name).isEmpty { liveness?.unregister(Self.livenessName(bus.name)) }
                Self.register(reloaded, in: liveness)
                site = reloaded
                logger.info("polling restarted", metadata: ["buses": "\(pollers.count) → \(reloaded.buses.filter { !reloaded.devices(on: $0.name).isEmpty }.count)",
                                                            "devices": "\(reloaded.devices.count)"])
            }
        }
        logger.info("polling stopped")
        queue.finish()
    }
}

extension PollingService: CustomStringConvertible {
    public var description: String { "PollingService(\(site.buses.count) buses at start)" }
}

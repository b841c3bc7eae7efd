public import EdgeCore
public import Logging
internal import Modbus
public import ServiceLifecycle

/// Runs one `BusPoller` per bus, each on its bus's own thread, and streams every poll's sample.
/// On graceful shutdown it stops polling and finishes the stream, so the recorder can drain it.
public struct PollingService: Service {
    private let site: Site
    private let logger: Logger
    public let queue: SampleQueue
    private let liveness: Liveness?

    /// With `liveness`, each bus marks progress as `bus <name>` after every poll (see `busLimit`).
    public init(site: Site, queue: SampleQueue, logger: Logger, liveness: Liveness? = nil) {
        self.site = site
        self.logger = logger
        self.queue = queue
        self.liveness = liveness
        for bus in site.buses where !site.devices(on: bus.name).isEmpty {
            liveness?.register(Self.livenessName(bus.name), limit: Self.busLimit(site: site, bus: bus))
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
        guard site.buses.contains(where: { !site.devices(on: $0.name).isEmpty }) else {
            // Nothing to poll (the packaged example site as shipped): stay up until shutdown. A
            // service that returns ends the whole group, and systemd would restart the agent in a loop.
            logger.notice("nothing to poll: the site lists no devices; add buses and devices to it and restart")
            try? await gracefulShutdown()
            logger.info("polling stopped")
            queue.finish()
            return
        }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for bus in site.buses {
                    let devices = site.devices(on: bus.name)
                    guard !devices.isEmpty else { continue }
                    let poller = BusPoller(connection: ModbusConnection(config: bus), devices: devices)
                    let part = Self.livenessName(bus.name)
                    group.addTask {
                        await poller.run(emit: { queue.push($0); liveness?.beat(part) },
                                         onFault: { logger.warning("\($0)", metadata: ["bus": "\(bus.name)"]) })
                    }
                }
            }
        }
        logger.info("polling stopped")
        queue.finish()
    }
}

extension PollingService: CustomStringConvertible {
    public var description: String { "PollingService(\(site.buses.count) buses)" }
}

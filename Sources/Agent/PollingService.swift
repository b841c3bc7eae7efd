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

    public init(site: Site, queue: SampleQueue, logger: Logger) {
        self.site = site
        self.logger = logger
        self.queue = queue
    }

    public func run() async {
        let queue = self.queue
        let logger = self.logger
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for bus in site.buses {
                    let devices = site.devices(on: bus.name)
                    guard !devices.isEmpty else { continue }
                    let poller = BusPoller(connection: ModbusConnection(config: bus), devices: devices)
                    group.addTask {
                        await poller.run(emit: { queue.push($0) },
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

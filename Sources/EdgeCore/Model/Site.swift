/// One installation: a board, its buses and devices, its broker and its storage.
public struct Site: Sendable {
    public var coop: String
    public var site: String
    /// Topic prefix; defaults to `coop/{coop}/{site}`.
    public var topicPrefix: String
    public var broker: BrokerConfig
    public var storage: StorageConfig
    public var buses: [BusConfig]
    public var devices: [DeviceConfig]
    public var alerts: [AlertRuleConfig]
    public var spoilage: [SpoilageRuleConfig]
    /// Demos only: detectors and farmer rules see time run this many times faster than the wall clock,
    /// as a simulator run with `--speed` does (`coop-edge run --time-scale`; never from the site file).
    public var timeScale: Double = 1
    /// Demos only: where the simulated clock stands at a given wall time, shared with the simulator
    /// (`--demo-clock`), so both agree on where the declared defrosts fall. Nil: the simulated clock
    /// starts at the wall time of the first reading.
    public var clockOrigin: ClockOrigin?

    public init(coop: String, site: String, topicPrefix: String? = nil, broker: BrokerConfig,
                storage: StorageConfig, buses: [BusConfig], devices: [DeviceConfig], alerts: [AlertRuleConfig] = [],
                spoilage: [SpoilageRuleConfig] = []) {
        self.coop = coop
        self.site = site
        self.topicPrefix = topicPrefix ?? "coop/\(coop)/\(site)"
        self.broker = broker
        self.storage = storage
        self.buses = buses
        self.devices = devices
        self.alerts = alerts
        self.spoilage = spoilage
    }

    public func stateTopic(device: String) -> String { "\(topicPrefix)/\(device)/state" }
    public var statusTopic: String { "\(topicPrefix)/status" }
    public var alertsTopic: String { "\(topicPrefix)/alerts" }
    /// Retained: the alerts active now, so a dashboard that connects late sees them.
    public var activeAlertsTopic: String { "\(topicPrefix)/alerts/active" }
    /// One message per device per window with its `aggregate` channels' statistics.
    public func aggregateTopic(device: String) -> String { "\(topicPrefix)/\(device)/aggregate" }
    /// Retained: what each device and channel shares (the farm's choice, for the co-op to see).
    public var sharingTopic: String { "\(topicPrefix)/sharing" }
    /// Retained, refreshed every minute: version, uptime, backlog and each device's health.
    public var healthTopic: String { "\(topicPrefix)/health" }

    public func devices(on bus: String) -> [DeviceConfig] { devices.filter { $0.bus == bus } }
}

public struct BrokerConfig: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var tls: Bool
    public var clientID: String
    public var username: String?
    /// Path of a file (or systemd credential) holding the password; never the password itself.
    public var passwordFile: String?
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    public var keepAliveSeconds: Int
    /// At most this many QoS 1 messages handed to libmosquitto and not yet acknowledged.
    public var maxInflight: Int
    /// MQTT 5 by default. Under 3.1.1 a broker cannot refuse a message: mosquitto acknowledges a
    /// PUBLISH its ACL denies, so the agent deletes readings the broker threw away (docs/operations.md).
    public var protocolVersion: MQTTVersion

    /// `broker.protocol` in the site file.
    public enum MQTTVersion: String, Sendable, Equatable, CaseIterable {
        case v5 = "5"
        case v311 = "3.1.1"
    }

    public init(host: String = "127.0.0.1", port: Int = 1883, tls: Bool = false, clientID: String,
                username: String? = nil, passwordFile: String? = nil, caFile: String? = nil,
                certFile: String? = nil, keyFile: String? = nil, keepAliveSeconds: Int = 30, maxInflight: Int = 100,
                protocolVersion: MQTTVersion = .v5) {
        self.host = host
        self.port = port
        self.tls = tls
        self.clientID = clientID
        self.username = username
        self.passwordFile = passwordFile
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.keepAliveSeconds = keepAliveSeconds
        self.maxInflight = maxInflight
        self.protocolVersion = protocolVersion
    }
}

public struct StorageConfig: Sendable, Equatable {
    /// How a commit reaches the card. `normal`: WAL + synchronous=NORMAL — a killed process loses
    /// nothing committed, a power cut can lose the newest commits. `full`: synchronous=FULL — a
    /// commit is on the card once it returns, at more flash wear and latency.
    public enum Durability: String, Sendable { case normal, full }
    public var path: String
    public var maxSizeMB: Int
    public var maxAgeDays: Int
    public var durability: Durability
    /// Seconds a poll may wait in memory before it is committed (`storage.commit_delay`): polls
    /// commit in batches, so flash is written once per delay instead of once per poll. Nothing is
    /// published before it is committed, so it adds up to this much latency; and it is the window
    /// of polls a killed agent (or a power cut, under `full`) can lose. 0: every poll commits at once.
    public var commitDelay: Double

    /// The default commit delay: at 100 channels × 1 Hz it keeps flash writes under 64 bytes per
    /// reading with the broker up (docs/operations.md, "Flash wear").
    public static let defaultCommitDelay: Double = 2

    public init(path: String, maxSizeMB: Int = 512, maxAgeDays: Int = 60, durability: Durability = .normal,
                commitDelay: Double = StorageConfig.defaultCommitDelay) {
        self.path = path
        self.maxSizeMB = maxSizeMB
        self.maxAgeDays = maxAgeDays
        self.durability = durability
        self.commitDelay = commitDelay
    }
}

public struct BusConfig: Sendable, Equatable {
    public enum Transport: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// `rs485` asks the kernel to drive the transceiver's direction pin (`TIOCSRS485`); most
        /// USB adapters switch by themselves and a pty refuses it, so it is off by default.
        case rtu(device: String, serial: SerialSettings, rs485: Bool)
    }
    public var name: String
    public var transport: Transport
    public var responseTimeoutMS: Int
    public var byteTimeoutMS: Int
    /// Silence kept between two requests on this bus.
    public var interFrameDelayMS: Int
    /// RTU: after a timeout, the line must stay silent this long before the next request, so that a
    /// reply later than the timeout is caught and discarded instead of read as the next answer.
    /// nil: four response timeouts.
    public var lateReplyGuardMS: Int?

    public init(name: String, transport: Transport, responseTimeoutMS: Int = 500, byteTimeoutMS: Int = 100,
                interFrameDelayMS: Int = 0, lateReplyGuardMS: Int? = nil) {
        self.name = name
        self.transport = transport
        self.responseTimeoutMS = responseTimeoutMS
        self.byteTimeoutMS = byteTimeoutMS
        self.interFrameDelayMS = interFrameDelayMS
        self.lateReplyGuardMS = lateReplyGuardMS
    }

    /// The silence kept after an RTU timeout (`lateReplyGuardMS`, or four response timeouts).
    public var effectiveLateReplyGuardMS: Int { lateReplyGuardMS ?? 4 * responseTimeoutMS }
}

public struct DeviceConfig: Sendable, Equatable {
    public var name: String
    public var bus: String
    public var slave: Int
    public var profile: Profile
    public var pollMS: Int
    /// Channels of the profile this device publishes (all by default).
    public var channels: [ChannelSpec]
    /// Anomaly detector per channel name: `cold_room`, `soil_moisture`, `weight`, `generic` or
    /// `off`. Channels not named use their kind's default (soil moisture and weight are watched).
    public var detect: [String: String]
    /// The room's defrost cycle, as the installer knows it (`defrost:` in the site file).
    public var defrost: DefrostDeclaration?
    /// What leaves the farm (`share:`, `aggregate_window:`, `share_alerts:`); everything by default.
    public var sharing: SharingPolicy

    public init(name: String, bus: String, slave: Int, profile: Profile, pollMS: Int, channels: [ChannelSpec]? = nil,
                detect: [String: String] = [:], defrost: DefrostDeclaration? = nil, sharing: SharingPolicy = SharingPolicy()) {
        self.name = name
        self.bus = bus
        self.slave = slave
        self.profile = profile
        self.pollMS = pollMS
        self.channels = channels ?? profile.channels
        self.detect = detect
        self.defrost = defrost
        self.sharing = sharing
    }

    /// The channels shared as aggregates, in the device's order.
    public var aggregateChannels: [String] { channels.map(\.name).filter { sharing.mode(for: $0) == .aggregate } }

    /// The detector kind for a channel, or nil when it is not watched.
    public func detectorKind(for channel: ChannelSpec) -> String? {
        if let explicit = detect[channel.name] { return explicit == "off" ? nil : explicit }
        switch channel.kind {
        case "soil_moisture": return "soil_moisture"
        case "weight": return "weight"
        default: return nil
        }
    }
}

/// A cold room's defrost cycle as declared in the site file: `defrost: { every: 6h, duration: 40m }`,
/// or clock times (`at: ["02:00", "08:00"]`), or the controller's defrost status on another device
/// (`from: controller.defrost`). Without `every`/`at` the detector learns the schedule (unless
/// `learn: false`). Times in seconds.
public struct DefrostDeclaration: Sendable, Equatable {
    public var every: Double?
    /// Heater time of one defrost; the air needs a few minutes more to recover.
    public var duration: Double?
    /// Start times as seconds after UTC midnight (converted from the site file's local times).
    public var clockTimes: [Double]?
    public var learn: Bool
    /// `device.channel` of a `role: defrost` status channel of another device (a separate controller).
    public var from: String?

    public init(every: Double? = nil, duration: Double? = nil, clockTimes: [Double]? = nil, learn: Bool = true, from: String? = nil) {
        self.every = every
        self.duration = duration
        self.clockTimes = clockTimes
        self.learn = learn
        self.from = from
    }
}

/// A farmer's rule as written in the site file, for example "cold-room-1.temperature above 8 for 15m".
public struct AlertRuleConfig: Sendable, Equatable {
    public var device: String
    public var channel: String
    public var above: Double?
    public var below: Double?
    public var forSeconds: Double
    public var severity: String
    public var message: String?

    public init(device: String, channel: String, above: Double? = nil, below: Double? = nil,
                forSeconds: Double = 0, severity: String = "warning", message: String? = nil) {
        self.device = device
        self.channel = channel
        self.above = above
        self.below = below
        self.forSeconds = forSeconds
        self.severity = severity
        self.message = message
    }
}

/// A storage room's heat budget for one commodity: degree-hours above a safe temperature (or a Q10
/// shelf-life model), with alerts when given shares of the budget are used.
public struct SpoilageRuleConfig: Sendable, Equatable {
    public var device: String
    public var channel: String
    public var commodity: String
    public var room: String
    /// Degree-hours model: temperature above `safe` accumulates, `budgetDegreeHours` is the allowance.
    public var safe: Double?
    public var budgetDegreeHours: Double?
    /// Q10 model: shelf life at `reference` °C, and the factor per 10 °C.
    public var reference: Double?
    public var shelfLifeHours: Double?
    public var q10: Double?
    public var alertAt: [Double]

    public init(device: String, channel: String, commodity: String, room: String, safe: Double? = nil,
                budgetDegreeHours: Double? = nil, reference: Double? = nil, shelfLifeHours: Double? = nil,
                q10: Double? = nil, alertAt: [Double] = [0.6, 1.0]) {
        self.device = device
        self.channel = channel
        self.commodity = commodity
        self.room = room
        self.safe = safe
        self.budgetDegreeHours = budgetDegreeHours
        self.reference = reference
        self.shelfLifeHours = shelfLifeHours
        self.q10 = q10
        self.alertAt = alertAt
    }
}

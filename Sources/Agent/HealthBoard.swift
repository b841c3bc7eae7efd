public import EdgeCore
internal import Synchronization

/// How each device is doing, from every poll the recorder takes: for the retained `…/health`
/// message and for `coop-edge status`. The recorder writes, the publisher reads.
public final class HealthBoard: Sendable {
    /// One device's record since the agent started.
    public struct Device: Sendable, Equatable {
        public var polls = 0
        /// Polls with at least one reading that could not be read (a comm fault).
        public var faultyPolls = 0
        public var offline = false
        /// Wall time of the last poll the device answered in full.
        public var lastGood: Double?
        /// The last fault's reason, while it lasts.
        public var fault: String?
    }

    private struct State {
        var order: [String]
        var devices: [String: Device]
    }
    private let state: Mutex<State>
    /// Wall time the agent started.
    public let started: Double

    public init(site: Site, started: Double) {
        self.started = started
        state = Mutex(State(order: site.devices.map(\.name), devices: [:]))
    }

    /// Records one poll.
    public func record(_ sample: DeviceSample) {
        let fault = sample.readings.first { $0.quality == .commFault }?.fault
        state.withLock { s in
            if s.devices[sample.device] == nil, !s.order.contains(sample.device) { s.order.append(sample.device) }
            var d = s.devices[sample.device] ?? Device()
            d.polls += 1
            if fault != nil { d.faultyPolls += 1 } else { d.lastGood = sample.time }
            d.fault = fault
            d.offline = sample.offline
            s.devices[sample.device] = d
        }
    }

    /// Takes up a reloaded site's device list (removed devices leave the board).
    public func adopt(_ site: Site) {
        let names = site.devices.map(\.name)
        state.withLock { s in
            s.order = names
            s.devices = s.devices.filter { names.contains($0.key) }
        }
    }

    /// Each device in the site's order, with what is known of it.
    public var devices: [(name: String, health: Device)] {
        state.withLock { s in s.order.map { ($0, s.devices[$0] ?? Device()) } }
    }

    /// The retained health message:
    /// `{"ts","version","build","uptime_s","broker_connected","backlog":{"readings","alerts","oldest"},
    ///   "delivered","dropped","refused","devices":{name:{"status","polls","faulty_polls","last_good","fault"}}}`.
    /// `status` is `ok`, `faulty` (its last poll had a fault), `offline` or `waiting` (not polled yet).
    /// `hiding`: devices left out (those that share none of their readings: the farm keeps even
    /// their health to itself).
    public func payload(now: Double, version: String, build: String, connected: Bool, backlog: (readings: Int, alerts: Int, oldest: Double?),
                        delivered: Int64, dropped: Int64, refused: Int64, hiding: Set<String> = []) -> [UInt8] {
        var w = JSONWriter(reserve: 512)
        w.beginObject()
        w.string("ts", Timestamp.iso8601(now))
        w.string("version", version)
        w.string("build", build)
        w.int("uptime_s", Int(max(0, now - started)))
        w.bool("broker_connected", connected)
        w.beginObject("backlog")
        w.int("readings", backlog.readings)
        w.int("alerts", backlog.alerts)
        if let oldest = backlog.oldest { w.string("oldest", Timestamp.iso8601(oldest)) } else { w.null("oldest") }
        w.endObject()
        w.int("delivered", delivered)
        w.int("dropped", dropped)
        w.int("refused", refused)
        w.beginObject("devices")
        for (name, d) in devices where !hiding.contains(name) {
            w.beginObject(name)
            w.string("status", Self.status(d))
            w.int("polls", d.polls)
            w.int("faulty_polls", d.faultyPolls)
            if let t = d.lastGood { w.string("last_good", Timestamp.iso8601(t)) } else { w.null("last_good") }
            if let f = d.fault { w.string("fault", f) }
            w.endObject()
        }
        w.endObject()
        w.endObject()
        return w.bytes
    }

    static func status(_ d: Device) -> String {
        d.polls == 0 ? "waiting" : d.offline ? "offline" : d.fault != nil ? "faulty" : "ok"
    }
}

public import Detection
public import EdgeCore

/// `replay --config SITE --channel device.channel`: each recorded row goes through the daemon's own
/// `AlertEngine` as a one-reading poll of that device, so the detector settings (poll interval, valid
/// range, sentinels, declared defrost, the farmer's limit) and the farmer rules (thresholds, spoilage
/// budgets) are exactly the daemon's. Readings are classified as the poller would: outside the
/// profile's valid range = out of range, a firmware sentinel = no reading, empty = a failed read.
public struct SiteReplayJudge: ReplayJudge {
    private var engine: AlertEngine
    private let device: String
    private let spec: ChannelSpec
    private let sentinels: [Double]

    /// `sampleInterval`: the recording's own interval when it differs from the site's poll interval
    /// (the detector's windows are counted in samples).
    public init(site: Site, device: DeviceConfig, spec: ChannelSpec, sampleInterval: Double?) {
        var site = site
        var d = device
        d.channels = [spec]
        if let sampleInterval, sampleInterval > 0 { d.pollMS = max(1, Int((sampleInterval * 1000).rounded())) }
        site.devices = site.devices.map { $0.name == device.name ? d : $0 }
        site.timeScale = 1
        engine = AlertEngine(site: site)
        self.device = device.name
        self.spec = spec
        sentinels = spec.sentinels.map { RegisterCodec.engineering(raw: $0, channel: spec) }
    }

    public var hasRuleColumn: Bool { true }

    public mutating func judge(time: Double, value: Double?) -> ReplayVerdict {
        let reading: Reading
        if let value {
            if sentinels.contains(where: { abs($0 - value) <= 1e-6 * max(1, abs($0)) }) {
                reading = Reading(channel: spec.name, value: nil, quality: .sentinel, unit: spec.unit, fault: "sensor reports no reading")
            } else if let valid = spec.valid, !valid.contains(value) {
                reading = Reading(channel: spec.name, value: value, quality: .outOfRange, unit: spec.unit)
            } else {
                reading = Reading(channel: spec.name, value: value, quality: .good, unit: spec.unit)
            }
        } else {
            reading = Reading(channel: spec.name, value: nil, quality: .commFault, unit: spec.unit, fault: "no value recorded")
        }
        let events = engine.process(DeviceSample(device: device, time: time, monotonic: time, readings: [reading]))
        let s = engine.state(device: device, channel: spec.name) ?? (0, false, false)
        return ReplayVerdict(score: s.score, alert: s.alert, rules: s.rules, events: events)
    }
}

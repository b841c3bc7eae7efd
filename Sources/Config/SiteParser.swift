public import EdgeCore

extension ConfigLoader {
    static let siteKeys = ["coop", "site", "topic_prefix", "profiles_dir", "broker", "storage", "buses", "devices", "alerts", "spoilage", "aggregate_window"]
    static let spoilageKeys = ["channel", "commodity", "room", "safe", "budget_degree_hours", "reference", "shelf_life_hours", "q10", "alert_at"]
    static let detectorKinds = ["cold_room", "soil_moisture", "weight", "generic", "off"]
    static let brokerKeys = ["url", "client_id", "username", "password_file", "ca_file", "cert_file", "key_file", "keepalive", "max_inflight", "protocol"]
    static let storageKeys = ["path", "max_size_mb", "max_age_days", "durability", "commit_delay"]
    static let busKeys = ["name", "tcp", "rtu", "response_timeout_ms", "byte_timeout_ms", "inter_frame_delay_ms", "late_reply_guard_ms"]
    static let tcpKeys = ["host", "port"]
    static let rtuKeys = ["device", "baud", "parity", "data_bits", "stop_bits", "rs485"]
    static let deviceKeys = ["name", "bus", "slave", "profile", "poll", "channels", "detect", "defrost", "share", "aggregate_window", "share_alerts"]
    static let defrostKeys = ["every", "duration", "at", "utc_offset", "learn", "from"]
    static let alertKeys = ["channel", "above", "below", "for", "severity", "message"]

    static func parseSite(path: String, profilesDirectory: String?, diagnostics: inout [ConfigDiagnostic]) -> Site? {
        guard let bytes = readBytes(path, diagnostics: &diagnostics),
              let root = compose(bytes: bytes, file: path, diagnostics: &diagnostics) else { return nil }
        let r = NodeReader(file: path)
        defer { diagnostics += r.diagnostics }
        guard let top = r.mapping(root, "", allowed: siteKeys) else { return nil }

        let coop = top.string("coop", required: true, hint: "the co-op's id, used in topics: coop/{coop}/{site}/…")
        let siteName = top.string("site", required: true, hint: "this installation's id, used in topics")
        for (key, value) in [("coop", coop), ("site", siteName)] {
            if let value, !isTopicSafe(value) {
                r.report(top.node(key), key, "'\(key)' may not contain '/', '+', '#' or spaces: it is part of every MQTT topic")
            }
        }
        let broker = parseBroker(top, r, defaultClientID: "\(siteName ?? "site")-edge")
        let storage = parseStorage(top, r, siteName: siteName ?? "site")

        // Relative paths are relative to the site file's folder ("." when it has none).
        var siteDir = FileSystem.deletingLastComponent(path)
        if siteDir.isEmpty { siteDir = "." }
        var profileDir = profilesDirectory
        if profileDir == nil, let dir = top.string("profiles_dir") {
            profileDir = dir.hasPrefix("/") ? dir : siteDir + "/" + dir
        }
        let parent = siteDir == "." ? ".." : FileSystem.deletingLastComponent(siteDir)
        let dir = profileDir ?? (parent.isEmpty ? "profiles" : parent + "/profiles")

        // Buses.
        var buses: [BusConfig] = []
        var busNames: [String: YAMLNode] = [:]
        for (i, node) in (top.sequence("buses", required: true) ?? []).enumerated() {
            let p = "buses[\(i)]"
            guard let f = r.mapping(node, p, allowed: busKeys) else { continue }
            guard let name = f.string("name", required: true) else { continue }
            if let first = busNames[name] {
                r.report(f.node("name"), f.sub("name"), "duplicate bus name '\(name)' (first defined at line \(first.mark.line))")
                continue
            }
            busNames[name] = f.node("name")
            guard let bus = parseBus(f, name: name, r) else { continue }
            // One serial port is one RS-485 line: two buses on it would interleave their frames.
            if case .rtu(let device, _, _) = bus.transport {
                let port = Self.resolvedPort(device)
                if let other = buses.first(where: { if case .rtu(let d, _, _) = $0.transport { return Self.resolvedPort(d) == port }; return false }) {
                    r.report(f.node("rtu"), f.sub("rtu.device"),
                             "bus '\(name)' uses serial port \(device), which bus '\(other.name)' (line \(busNames[other.name]?.mark.line ?? 0)) already uses: one port is one RS-485 line — list all its devices under one bus")
                    continue
                }
            }
            buses.append(bus)
        }

        let siteWindow = parseAggregateWindow(top, r) ?? SharingPolicy.defaultAggregateWindow

        // Devices, with their profiles.
        var devices: [DeviceConfig] = []
        var deviceNames: [String: YAMLNode] = [:]
        var profiles: [String: Profile?] = [:]
        var defrostSources: [(device: String, ref: String, node: YAMLNode?, path: String)] = []
        for (i, node) in (top.sequence("devices", required: true) ?? []).enumerated() {
            let p = "devices[\(i)]"
            guard let f = r.mapping(node, p, allowed: deviceKeys) else { continue }
            let name = f.string("name", required: true)
            if let name {
                if !isTopicSafe(name) {
                    r.report(f.node("name"), f.sub("name"), "device name may not contain '/', '+', '#' or spaces: it is part of its MQTT topic")
                } else if let first = deviceNames[name] {
                    r.report(f.node("name"), f.sub("name"), "duplicate device name '\(name)' (first defined at line \(first.mark.line))")
                } else {
                    deviceNames[name] = f.node("name")
                }
            }
            let busName = f.string("bus", required: true)
            if let busName, busNames[busName] == nil {
                var message = "unknown bus '\(busName)'"
                if let near = Spelling.nearest(busName, in: Array(busNames.keys)) { message += " — did you mean '\(near)'?" }
                else { message += busNames.isEmpty ? " (no buses are defined)" : " (buses: \(busNames.keys.sorted().joined(separator: ", ")))" }
                r.report(f.node("bus"), f.sub("bus"), message)
            }
            var profile: Profile? = nil
            if let profileName = f.string("profile", required: true) {
                if profiles[profileName] == nil {
                    let file = "\(dir)/\(profileName).yaml"
                    if profileName.contains("/") || !FileSystem.exists(file) {
                        var message = "unknown profile '\(profileName)': no file \(file)"
                        let known = FileSystem.contentsOfDirectory(dir)
                            .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }
                        if let near = Spelling.nearest(profileName, in: known) { message += " — did you mean '\(near)'?" }
                        r.report(f.node("profile"), f.sub("profile"), message)
                        profiles[profileName] = .some(nil)
                    } else {
                        profiles[profileName] = .some(parseProfile(path: file, diagnostics: &diagnostics))
                    }
                }
                profile = profiles[profileName] ?? nil
            }
            let slave = f.int("slave", required: profile?.defaultSlave == nil, range: 0...247) ?? profile?.defaultSlave
            var pollMS: Int? = nil
            if let poll = f.duration("poll", required: true) {
                let ms = Int((poll * 1000).rounded())
                if ms < minimumPollMS {
                    r.report(f.node("poll"), f.sub("poll"), "poll interval \(ms) ms is below the minimum of \(minimumPollMS) ms")
                } else {
                    pollMS = ms
                }
            }
            var channels: [ChannelSpec]? = nil
            if let profile, let list = f.sequence("channels") {
                channels = []
                var seen = Set<String>()
                for (j, c) in list.enumerated() {
                    guard case .scalar(let s) = c else { r.report(c, "\(p).channels[\(j)]", "a channel name must be text"); continue }
                    guard let spec = profile.channels.first(where: { $0.name == s.string }) else {
                        var message = "profile '\(profile.name)' has no channel '\(s.string)'"
                        if let near = Spelling.nearest(s.string, in: profile.channels.map(\.name)) { message += " — did you mean '\(near)'?" }
                        r.report(c, "\(p).channels[\(j)]", message)
                        continue
                    }
                    if !seen.insert(s.string).inserted {
                        r.report(c, "\(p).channels[\(j)]", "duplicate channel '\(s.string)'")
                        continue
                    }
                    channels?.append(spec)
                }
            }
            var detect: [String: String] = [:]
            if let profile, let d = f.mapping("detect", allowed: profile.channels.map(\.name)) {
                for pair in d.pairs {
                    guard let kind = d.string(pair.key) else { continue }
                    if detectorKinds.contains(kind) { detect[pair.key] = kind; continue }
                    var message = "'\(kind)' is not a detector; use one of \(detectorKinds.joined(separator: ", "))"
                    if let near = Spelling.nearest(kind, in: detectorKinds) { message += " — did you mean '\(near)'?" }
                    r.report(pair.value, d.sub(pair.key), message)
                }
            }
            var isRTU = false
            if let busName, case .rtu = buses.first(where: { $0.name == busName })?.transport { isRTU = true }
            if slave == 0 && isRTU {
                r.report(f.node("slave") ?? node, f.sub("slave"), "slave 0 is the broadcast address on a serial line: no device answers it; use the device's own id (1–247)")
            }
            // One slave id answers for one device on a line: two site devices on one id would each be
            // handed the other's registers.
            if let busName, let slave, let other = devices.first(where: { $0.bus == busName && $0.slave == slave }) {
                r.report(f.node("slave") ?? node, f.sub("slave"),
                         "slave \(slave) on bus '\(busName)' is already device '\(other.name)': two devices cannot share a slave id on one bus — give each its own address")
                continue
            }
            let defrost = parseDefrost(f, r)
            if defrost != nil, let profile {
                let watched = (channels ?? profile.channels).contains { detect[$0.name] == "cold_room" }
                if !watched {
                    r.report(f.node("defrost"), f.sub("defrost"),
                             "'defrost' tells a cold-room detector about the room's defrost cycle, but no channel of this device has one: add e.g. detect: { temperature: cold_room }")
                }
            }
            let sharing = parseSharing(f, r, channels: (channels ?? profile?.channels ?? []).map(\.name),
                                       profileName: profile?.name, siteWindow: siteWindow, pollMS: pollMS)
            if let name, let busName, let profile, let slave, let pollMS, busNames[busName] != nil, !(slave == 0 && isRTU) {
                devices.append(DeviceConfig(name: name, bus: busName, slave: slave, profile: profile, pollMS: pollMS,
                                            channels: channels, detect: detect, defrost: defrost, sharing: sharing))
                if let from = defrost?.from { defrostSources.append((name, from, f.node("defrost"), f.sub("defrost.from"))) }
            }
        }

        /// `device.channel`, checked against the devices above.
        func channelRef(_ f: NodeReader.Fields) -> [String]? {
            guard let ref = f.string("channel", required: true, hint: "as device.channel, e.g. cold-room-1.temperature") else { return nil }
            let parts = ref.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                r.report(f.node("channel"), f.sub("channel"), "'channel' must be device.channel, e.g. cold-room-1.temperature")
                return nil
            }
            if let device = devices.first(where: { $0.name == parts[0] }) {
                if !device.channels.contains(where: { $0.name == parts[1] }) {
                    var message = "device '\(parts[0])' has no channel '\(parts[1])'"
                    if let near = Spelling.nearest(parts[1], in: device.channels.map(\.name)) { message += " — did you mean '\(near)'?" }
                    r.report(f.node("channel"), f.sub("channel"), message)
                }
            } else if deviceNames[parts[0]] == nil {
                var message = "unknown device '\(parts[0])'"
                if let near = Spelling.nearest(parts[0], in: Array(deviceNames.keys)) { message += " — did you mean '\(near)'?" }
                r.report(f.node("channel"), f.sub("channel"), message)
            }
            return parts
        }

        // A defrost status on another device must exist and be a status channel.
        for source in defrostSources {
            let parts = source.ref.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2, let device = devices.first(where: { $0.name == parts[0] }) else {
                var message = "'from' must name a device's defrost status as device.channel, e.g. controller-1.defrost; there is no device '\(source.ref.split(separator: ".").first ?? "")'"
                if let near = Spelling.nearest(String(source.ref.split(separator: ".").first ?? ""), in: devices.map(\.name)) { message += " — did you mean '\(near)'?" }
                r.report(source.node, source.path, message)
                continue
            }
            guard let spec = device.channels.first(where: { $0.name == parts[1] }) else {
                var message = "device '\(parts[0])' has no channel '\(parts[1])'"
                if let near = Spelling.nearest(parts[1], in: device.channels.map(\.name)) { message += " — did you mean '\(near)'?" }
                r.report(source.node, source.path, message)
                continue
            }
            if spec.role != .defrost {
                r.report(source.node, source.path,
                         "'\(source.ref)' is not a defrost status: its profile channel needs 'role: defrost' (a coil or register that is non-zero while the heater is on)")
            }
        }

        // Alert rules.
        var alerts: [AlertRuleConfig] = []
        for (i, node) in (top.sequence("alerts") ?? []).enumerated() {
            let p = "alerts[\(i)]"
            guard let f = r.mapping(node, p, allowed: alertKeys) else { continue }
            guard let parts = channelRef(f) else { continue }
            let above = f.double("above"), below = f.double("below")
            if above == nil && below == nil && !f.has("above") && !f.has("below") {
                r.report(node, p, "an alert rule needs 'above' or 'below'")
            }
            let severity = f.string("severity") ?? "warning"
            if !["info", "warning", "critical"].contains(severity) {
                r.report(f.node("severity"), f.sub("severity"), "'severity' must be info, warning or critical")
            }
            alerts.append(AlertRuleConfig(device: parts[0], channel: parts[1], above: above, below: below,
                                          forSeconds: f.duration("for") ?? 0, severity: severity, message: f.string("message")))
        }

        // Spoilage budgets.
        var spoilage: [SpoilageRuleConfig] = []
        for (i, node) in (top.sequence("spoilage") ?? []).enumerated() {
            let p = "spoilage[\(i)]"
            guard let f = r.mapping(node, p, allowed: spoilageKeys) else { continue }
            guard let parts = channelRef(f) else { continue }
            let commodity = f.string("commodity", required: true, hint: "what is stored, e.g. onions") ?? ""
            var rule = SpoilageRuleConfig(device: parts[0], channel: parts[1], commodity: commodity, room: f.string("room") ?? parts[0])
            rule.safe = f.double("safe")
            rule.budgetDegreeHours = f.double("budget_degree_hours")
            rule.reference = f.double("reference")
            rule.shelfLifeHours = f.double("shelf_life_hours")
            rule.q10 = f.double("q10")
            let degreeModel = rule.safe != nil && rule.budgetDegreeHours != nil
            let q10Model = rule.reference != nil && rule.shelfLifeHours != nil && rule.q10 != nil
            if !degreeModel && !q10Model {
                r.report(node, p, "a spoilage budget needs 'safe' and 'budget_degree_hours', or 'reference', 'shelf_life_hours' and 'q10'")
            }
            for key in ["q10", "shelf_life_hours"] {
                let v = key == "q10" ? rule.q10 : rule.shelfLifeHours
                if let v, !(v > 0) { r.report(f.node(key), f.sub(key), "'\(key)' must be above 0") }
            }
            if let b = rule.budgetDegreeHours, !(b > 0) { r.report(f.node("budget_degree_hours"), f.sub("budget_degree_hours"), "'budget_degree_hours' must be above 0") }
            if let list = f.sequence("alert_at") {
                var shares: [Double] = []
                for (j, n) in list.enumerated() {
                    guard case .scalar(let s) = n else { r.report(n, "\(p).alert_at[\(j)]", "a share must be a number or a percentage"); continue }
                    let text = s.string.hasSuffix("%") ? String(s.string.dropLast()) : s.string
                    guard let v = Double(text) else { r.report(n, "\(p).alert_at[\(j)]", "a share must be a number like 0.6 or 60%"); continue }
                    let share = s.string.hasSuffix("%") || v > 1 ? v / 100 : v
                    if !(share > 0 && share <= 1) { r.report(n, "\(p).alert_at[\(j)]", "a share must be above 0 and at most 100%"); continue }
                    shares.append(share)
                }
                rule.alertAt = shares.sorted()
            }
            spoilage.append(rule)
        }

        let prefix = top.string("topic_prefix")
        if let prefix, prefix.isEmpty || prefix.hasPrefix("/") || prefix.hasSuffix("/")
            || prefix.split(separator: "/", omittingEmptySubsequences: false).contains(where: { !isTopicSafe(String($0)) }) {
            r.report(top.node("topic_prefix"), "topic_prefix",
                     "'topic_prefix' must be topic levels separated by '/', without '+', '#', spaces or empty levels, e.g. coop/example-coop/farm-17")
        }
        guard let coop, let siteName, let broker, let storage else { return nil }
        return Site(coop: coop, site: siteName, topicPrefix: prefix, broker: broker,
                    storage: storage, buses: buses, devices: devices, alerts: alerts, spoilage: spoilage)
    }

    /// Shortest aggregate window: tests use 10 s; a real site uses minutes.
    static let minimumAggregateWindow: Double = 5

    /// `aggregate_window: 15m` (site-wide default, or per device).
    static func parseAggregateWindow(_ f: NodeReader.Fields, _ r: NodeReader) -> Double? {
        guard let w = f.duration("aggregate_window") else { return nil }
        guard w >= minimumAggregateWindow, w <= 86_400 else {
            r.report(f.node("aggregate_window"), f.sub("aggregate_window"),
                     "'aggregate_window' must be between \(Int(minimumAggregateWindow))s and 24h, e.g. 15m")
            return nil
        }
        return w
    }

    /// `share: full | aggregate | none`, or per channel `share: { default: aggregate, temperature: full, door: none }`;
    /// `aggregate_window: 15m`; `share_alerts: false`.
    static func parseSharing(_ f: NodeReader.Fields, _ r: NodeReader, channels: [String], profileName: String?,
                             siteWindow: Double, pollMS: Int?) -> SharingPolicy {
        var policy = SharingPolicy(aggregateWindow: parseAggregateWindow(f, r) ?? siteWindow)
        let modes = SharingPolicy.Mode.allCases.map(\.rawValue)
        func mode(_ node: YAMLNode?, _ path: String, _ key: String) -> SharingPolicy.Mode? {
            guard let node else { return nil }
            guard case .scalar(let s) = node else {
                r.report(node, path, "'\(key)' must be full, aggregate or none, not \(kind(node))"); return nil
            }
            if let m = SharingPolicy.Mode(rawValue: s.string.lowercased()) { return m }
            var message = "'\(s.string)' is not a sharing mode; use full, aggregate or none"
            if let near = Spelling.nearest(s.string, in: modes) { message += " — did you mean '\(near)'?" }
            r.report(node, path, message)
            return nil
        }
        if let node = f.node("share") {
            if case .mapping = node {
                // Without its profile the channels are unknown: its own error says so.
                guard profileName != nil else { return policy }
                // Unknown channels are reported with did-you-mean by the mapping reader.
                if let m = r.mapping(node, f.sub("share"), allowed: ["default"] + channels) {
                    for pair in m.pairs {
                        guard let v = mode(pair.value, m.sub(pair.key), pair.key) else { continue }
                        if pair.key == "default" { policy.defaultMode = v } else { policy.channels[pair.key] = v }
                    }
                }
            } else if let v = mode(node, f.sub("share"), "share") {
                policy.defaultMode = v
            }
        }
        if let alerts = f.bool("share_alerts") { policy.alerts = alerts }
        if let pollMS, channels.contains(where: { policy.mode(for: $0) == .aggregate }), policy.aggregateWindow * 1000 < Double(pollMS) {
            r.report(f.node("aggregate_window") ?? f.node("share"), f.sub("aggregate_window"),
                     "the aggregate window (\(SharingPolicy.durationText(policy.aggregateWindow))) is shorter than the poll interval: each window would hold at most one reading")
        }
        return policy
    }

    /// `defrost: { every: 6h, duration: 40m }`, `{ at: ["02:00", "14:00"], duration: 30m, utc_offset: "+05:30" }`,
    /// `{ from: controller.defrost }` or `{ learn: false }`.
    static func parseDefrost(_ device: NodeReader.Fields, _ r: NodeReader) -> DefrostDeclaration? {
        guard let f = device.mapping("defrost", allowed: defrostKeys) else { return nil }
        var d = DefrostDeclaration()
        if let every = f.duration("every") {
            if every < 3600 || every > 2 * 86_400 {
                r.report(f.node("every"), f.sub("every"), "'every' is the time from one defrost start to the next: between 1h and 48h, not \(Int(every)) s")
            } else { d.every = every }
        }
        if let duration = f.duration("duration") {
            if duration < 60 || duration > 3 * 3600 {
                r.report(f.node("duration"), f.sub("duration"), "'duration' is how long the heater runs: between 1m and 3h")
            } else { d.duration = duration }
        }
        var offset = 0.0
        if let text = f.string("utc_offset") {
            if let o = parseUTCOffset(text) { offset = o }
            else { r.report(f.node("utc_offset"), f.sub("utc_offset"), "'utc_offset' must look like +05:30 or -03:00, not '\(text)'") }
        }
        if let list = f.sequence("at") {
            var times: [Double] = []
            for (j, n) in list.enumerated() {
                guard case .scalar(let s) = n, let t = parseClockTime(s.string) else {
                    r.report(n, f.sub("at[\(j)]"), "a defrost start is a clock time HH:MM, e.g. \"02:00\"")
                    continue
                }
                times.append(((t - offset).truncatingRemainder(dividingBy: 86_400) + 86_400).truncatingRemainder(dividingBy: 86_400))
            }
            if !times.isEmpty { d.clockTimes = times.sorted() }
            if d.every != nil { r.report(f.node("at"), f.sub("at"), "give either 'every' or 'at', not both") }
        }
        if (d.every != nil || d.clockTimes != nil) && d.duration == nil && !f.has("duration") {
            f.missing("duration", "how long one defrost's heater runs, e.g. 40m")
        }
        if let learn = f.bool("learn") { d.learn = learn }
        if let from = f.string("from") { d.from = from }
        return d
    }

    /// A serial port's real device (a /dev/serial/by-id link resolves to its ttyUSB), or the path as
    /// written when it does not exist now.
    static func resolvedPort(_ path: String) -> String {
        FileSystem.realPath(path) ?? path
    }

    /// Serial ports of `site` that do not exist on this machine now, as warnings located at the port's
    /// first mention in the site file, each listing the ports that do exist. A warning, not an error:
    /// a site is often checked before its adapter is plugged in, and the agent reopens a port that
    /// appears later.
    public static func portWarnings(site: Site, sitePath: String) -> [ConfigDiagnostic] {
        let bytes = (try? FileSystem.readFile(sitePath, limit: TextGuard.maxBytes).get()) ?? []
        let text = String(validating: bytes, as: UTF8.self) ?? ""
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var warnings: [ConfigDiagnostic] = []
        for bus in site.buses {
            guard case .rtu(let device, _, _) = bus.transport, !FileSystem.exists(device) else { continue }
            var line = 1, column = 1
            if let i = lines.firstIndex(where: { $0.contains(device) }), let r = lines[i].firstRange(of: device) {
                line = i + 1
                column = lines[i].distance(from: lines[i].startIndex, to: r.lowerBound) + 1
            }
            let present = availablePorts()
            let list = present.isEmpty ? "no serial ports are present now" : "ports present now: " + present.joined(separator: ", ")
            warnings.append(ConfigDiagnostic(file: sitePath, line: line, column: column, path: "buses.\(bus.name).rtu.device",
                                             message: "serial port \(device) does not exist (is the adapter plugged in?); \(list)"))
        }
        return warnings
    }

    /// Serial ports on this machine: stable /dev/serial/by-id names first, then USB, ACM and the
    /// board's own UARTs.
    static func availablePorts() -> [String] {
        var ports = FileSystem.contentsOfDirectory("/dev/serial/by-id").sorted().map { "/dev/serial/by-id/" + $0 }
        let dev = FileSystem.contentsOfDirectory("/dev").sorted()
        ports += dev.filter { $0.hasPrefix("ttyUSB") || $0.hasPrefix("ttyACM") || $0.hasPrefix("ttyAMA") || $0 == "serial0" }.map { "/dev/" + $0 }
        return ports
    }

    /// "HH:MM" as seconds after midnight.
    static func parseClockTime(_ text: String) -> Double? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0..<24).contains(h), (0..<60).contains(m) else { return nil }
        return Double(h * 3600 + m * 60)
    }

    /// "+05:30" / "-03:00" / "Z" as seconds east of UTC.
    static func parseUTCOffset(_ text: String) -> Double? {
        if text == "Z" || text == "0" { return 0 }
        guard let sign = text.first, sign == "+" || sign == "-", let t = parseClockTime(String(text.dropFirst())), t <= 14 * 3600 else { return nil }
        return sign == "-" ? -t : t
    }

    static func isTopicSafe(_ s: String) -> Bool {
        !s.isEmpty && !s.contains(where: { $0 == "/" || $0 == "+" || $0 == "#" || $0 == " " || isControl($0) })
    }

    /// Control characters (U+0000–U+001F, U+007F–U+009F): brokers reject them in topics.
    static func isControl(_ c: Character) -> Bool {
        c.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    }

    static func parseBroker(_ top: NodeReader.Fields, _ r: NodeReader, defaultClientID: String) -> BrokerConfig? {
        guard let f = top.mapping("broker", required: true, allowed: brokerKeys) else { return nil }
        guard let url = f.string("url", required: true, hint: "e.g. mqtt://127.0.0.1:1883 or mqtts://broker.example:8883") else { return nil }
        guard let parsed = parseBrokerURL(url) else {
            r.report(f.node("url"), f.sub("url"), "'url' must look like mqtt://host:port or mqtts://host:port, not '\(url)'")
            return nil
        }
        var b = BrokerConfig(host: parsed.host, port: parsed.port, tls: parsed.tls, clientID: f.string("client_id") ?? defaultClientID)
        b.username = f.string("username")
        b.passwordFile = f.string("password_file")
        b.caFile = f.string("ca_file")
        b.certFile = f.string("cert_file")
        b.keyFile = f.string("key_file")
        if let k = f.duration("keepalive") { b.keepAliveSeconds = max(5, min(65_535, Int(k))) }
        if let m = f.int("max_inflight", range: 1...10_000) { b.maxInflight = m }
        if let v = f.choice("protocol", BrokerConfig.MQTTVersion.self) { b.protocolVersion = v }
        return b
    }

    static func parseBrokerURL(_ url: String) -> (host: String, port: Int, tls: Bool)? {
        let tls: Bool
        let rest: Substring
        if url.hasPrefix("mqtt://") { tls = false; rest = url.dropFirst(7) }
        else if url.hasPrefix("mqtts://") { tls = true; rest = url.dropFirst(8) }
        else { return nil }
        let hostPort = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        var host = String(hostPort)
        var port = tls ? 8883 : 1883
        if hostPort.hasPrefix("[") {  // [::1]:1883
            guard let close = hostPort.firstIndex(of: "]") else { return nil }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") { guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { return nil }; port = p }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            port = p
        }
        return host.isEmpty ? nil : (host, port, tls)
    }

    /// The longest `storage.commit_delay` accepted.
    static let maxCommitDelay: Double = 60

    static func parseStorage(_ top: NodeReader.Fields, _ r: NodeReader, siteName: String) -> StorageConfig? {
        guard let f = top.mapping("storage", allowed: storageKeys) else {
            if top.has("storage") { return nil }
            return StorageConfig(path: "/var/lib/coop-edge/\(siteName).sqlite")
        }
        var s = StorageConfig(path: f.string("path") ?? "/var/lib/coop-edge/\(siteName).sqlite")
        if let v = f.int("max_size_mb", range: 1...1_000_000) { s.maxSizeMB = v }
        if let v = f.int("max_age_days", range: 1...36500) { s.maxAgeDays = v }
        if let d = f.string("durability") {
            if let v = StorageConfig.Durability(rawValue: d) { s.durability = v }
            else { r.report(f.node("durability"), f.sub("durability"), "'durability' must be normal or full, not '\(d)'") }
        }
        if let delay = f.duration("commit_delay") {
            // It is also the window of polls a crash can lose: keep it short.
            if delay > maxCommitDelay {
                r.report(f.node("commit_delay"), f.sub("commit_delay"),
                         "'commit_delay' must be at most \(Int(maxCommitDelay))s (a killed agent can lose this much of its readings), or 0 to commit every poll")
            } else {
                s.commitDelay = delay
            }
        }
        return s
    }

    static func parseBus(_ f: NodeReader.Fields, name: String, _ r: NodeReader) -> BusConfig? {
        var transport: BusConfig.Transport? = nil
        if f.has("tcp") && f.has("rtu") {
            r.report(f.node("rtu"), f.sub("rtu"), "a bus is either 'tcp' or 'rtu', not both")
        } else if let t = f.mapping("tcp", allowed: tcpKeys) {
            if let host = t.string("host", required: true), let port = t.int("port", range: 1...65535) ?? 502 as Int? {
                transport = .tcp(host: host, port: port)
            }
        } else if let s = f.mapping("rtu", allowed: rtuKeys) {
            let device = s.string("device", required: true, hint: "the serial port, e.g. /dev/serial/by-id/usb-FTDI_…")
            var serial = SerialSettings()
            if let baud = s.int("baud", range: 300...4_000_000) { serial.baud = baud }
            if let p = s.string("parity") {
                if let parity = SerialSettings.Parity(rawValue: p.uppercased()) { serial.parity = parity }
                else { r.report(s.node("parity"), s.sub("parity"), "'parity' must be N, E or O, not '\(p)'") }
            }
            if let d = s.int("data_bits", range: 5...8) { serial.dataBits = d }
            if let sb = s.int("stop_bits", range: 1...2) { serial.stopBits = sb }
            if let device { transport = .rtu(device: device, serial: serial, rs485: s.bool("rs485") ?? false) }
        } else if !f.has("tcp") && !f.has("rtu") {
            r.report(f.node, f.path, "bus '\(name)' needs 'tcp: {host, port}' or 'rtu: {device, baud, …}'")
        }
        let response = f.int("response_timeout_ms", range: 10...60_000) ?? 500
        let byte = f.int("byte_timeout_ms", range: 1...10_000) ?? 100
        let delay = f.int("inter_frame_delay_ms", range: 0...10_000) ?? 0
        let guardMS = f.int("late_reply_guard_ms", range: 0...120_000)
        guard let transport else { return nil }
        return BusConfig(name: name, transport: transport, responseTimeoutMS: response, byteTimeoutMS: byte, interFrameDelayMS: delay,
                         lateReplyGuardMS: guardMS)
    }
}

import ArgumentParser
import Agent
import Config
import Detection
import EdgeCore
import FoundationEssentials

/// `coop-edge replay`: runs the daemon's own `ChannelDetector` over recorded `timestamp,value` CSV files
/// and writes `timestamp,value,score,alert` beside each, so detector settings can be checked offline.
/// The parsing and scoring live in `Detection.ReplayCSV` (pure); this command only reads and writes files.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay recorded readings through the anomaly detector.",
        discussion: """
            INPUT is a CSV file with header 'timestamp,value' (timestamps 'YYYY-MM-DD HH:MM:SS', UTC) or a directory \
            of them. OUTPUT gets 'timestamp,value,score,alert' for every input row; a directory input is mirrored \
            into the OUTPUT directory. Without --kind the kind is inferred from the file or folder name \
            (cold_room, soil_moisture, scale/weight; otherwise generic). Unreadable rows are reported on stderr \
            with file and line and still get an output row (empty value, score 0; alert stays 1 while an alert is open).
            """)

    @Option(name: .long, help: "A CSV file or a directory of CSV files.")
    var input: String

    @Option(name: .long, help: "The output CSV file, or directory for a directory input.")
    var output: String

    @Option(name: .long, help: "Channel kind: cold_room, soil_moisture, weight (or scale), generic.")
    var kind: String?

    @Flag(name: .long, help: "Print each alert raise/clear with its time and message.")
    var events = false

    @Option(name: .long, help: "A site file: judge as the daemon does for --channel (its detector settings and the farmer rules on it).")
    var config: String?

    @Option(name: .long, help: "With --config: the channel as device.channel, e.g. cold-room-1.temperature.")
    var channel: String?

    func validate() throws {
        if (config == nil) != (channel == nil) {
            throw ValidationError("--config and --channel go together")
        }
        if let kind, Self.parseKind(kind) == nil {
            throw ValidationError("unknown --kind '\(kind)': use cold_room, soil_moisture, weight (or scale) or generic")
        }
        var isDir: Bool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else {
            throw ValidationError("input '\(input)' does not exist")
        }
        if isDir {
            var outIsDir: Bool = false
            if FileManager.default.fileExists(atPath: output, isDirectory: &outIsDir), !outIsDir {
                throw ValidationError("input is a directory, so output '\(output)' must be a directory, but it is a file")
            }
        }
    }

    static func parseKind(_ text: String) -> ChannelKind? {
        let t = text.lowercased().replacing("-", with: "_")
        if t == "scale" { return .weight }
        return ChannelKind(rawValue: t)
    }

    /// The site and channel named by `--config` and `--channel`, or nil without them.
    private func siteChannel() throws -> (site: Site, device: DeviceConfig, spec: ChannelSpec, kind: ChannelKind?)? {
        guard let config, let channel else { return nil }
        let site: Site
        do { site = try ConfigLoader.loadSite(path: config) } catch {
            for d in error.diagnostics { Self.warn(d.description) }
            throw ExitCode(1)
        }
        let parts = channel.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, let found = site.devices.first(where: { $0.name == parts[0] }),
              let spec = found.channels.first(where: { $0.name == parts[1] }) else {
            Self.warn("no channel '\(channel)' in \(config); channels: \(site.devices.flatMap { d in d.channels.map { "\(d.name).\($0.name)" } }.joined(separator: ", "))")
            throw ExitCode(1)
        }
        var device = found
        if let kind = self.kind.flatMap(Self.parseKind) { device.detect[spec.name] = kind.rawValue }
        if device.detectorKind(for: spec) == nil {
            Self.warn("\(channel) has no anomaly detector in \(config) (add e.g. detect: { \(spec.name): cold_room } to the device, or pass --kind): replaying its farmer rules only")
        }
        return (site, device, spec, device.detectorKind(for: spec).flatMap(ChannelKind.init(rawValue:)))
    }

    func run() throws {
        let fm = FileManager.default
        let fromSite = try siteChannel()
        let forced = fromSite.map { $0.kind ?? .generic } ?? kind.flatMap(Self.parseKind)
        var isDir: Bool = false
        _ = fm.fileExists(atPath: input, isDirectory: &isDir)
        let started = Date()
        var totalRows = 0
        var failures = 0
        if isDir {
            let root = URL(fileURLWithPath: input).standardizedFileURL
            let relative = (try? fm.subpathsOfDirectory(atPath: root.path)) ?? []
            let plan = ReplayPlan.items(relativePaths: relative, kind: forced, rootName: root.lastPathComponent)
            if plan.isEmpty { Self.warn("no .csv files under \(input)") }
            let outRoot = URL(fileURLWithPath: output)
            for item in plan {
                let src = root.appendingPathComponent(item.input)
                let dst = outRoot.appendingPathComponent(item.output)
                do {
                    try fm.createDirectory(at: dst.deletingLastPathComponent(), withIntermediateDirectories: true)
                    totalRows += try replayFile(src, to: dst, kind: item.kind, site: fromSite, label: item.input)
                } catch {
                    failures += 1
                    Self.warn("\(src.path): \(error)")
                }
            }
        } else {
            let src = URL(fileURLWithPath: input)
            var dst = URL(fileURLWithPath: output)
            var outIsDir: Bool = false
            if fm.fileExists(atPath: output, isDirectory: &outIsDir), outIsDir {
                dst = dst.appendingPathComponent(src.lastPathComponent)
            } else {
                try fm.createDirectory(at: dst.deletingLastPathComponent(), withIntermediateDirectories: true)
            }
            let k = forced ?? ReplayPlan.inferKind(path: src.path)
            do {
                totalRows += try replayFile(src, to: dst, kind: k, site: fromSite, label: input)
            } catch {
                failures += 1
                Self.warn("\(src.path): \(error)")
            }
        }
        let seconds = Date().timeIntervalSince(started)
        let rate = seconds > 0 ? Int(Double(totalRows) / seconds) : 0
        print("replayed \(totalRows) rows in \(NumberText.fixed(seconds, decimals: 3)) s (\(rate) rows/s)")
        if failures > 0 { throw ExitCode(1) }
    }

    /// Replays one file; returns its row count. Throws only for I/O errors (unreadable file, unwritable output).
    private func replayFile(_ src: URL, to dst: URL, kind: ChannelKind,
                            site: (site: Site, device: DeviceConfig, spec: ChannelSpec, kind: ChannelKind?)?, label: String) throws -> Int {
        let data = try Data(contentsOf: src)
        let channel = self.channel ?? src.deletingPathExtension().lastPathComponent
        let result = data.withUnsafeBytes { raw -> ReplayCSV.Result in
            let bytes = raw.bindMemory(to: UInt8.self)
            guard let site else { return ReplayCSV.replay(bytes: bytes, kind: kind, channel: channel) }
            // The daemon's engine for that channel; windows counted in samples follow the recording's own
            // interval when it was sampled otherwise than the site polls.
            let recorded = ReplayCSV.estimateInterval(bytes)
            let poll = Double(site.device.pollMS) / 1000
            if let recorded, abs(recorded - poll) > 0.01 * poll {
                Self.warn("\(label): recorded every \(NumberText.duration(recorded)), the site polls every \(NumberText.duration(poll)): judging as if polled every \(NumberText.duration(recorded))")
            }
            var judge = SiteReplayJudge(site: site.site, device: site.device, spec: site.spec, sampleInterval: recorded)
            return ReplayCSV.replay(bytes: bytes, judge: &judge)
        }
        try Data(result.output).write(to: dst)
        var report = ""
        for p in result.problems.prefix(1000) { report += "\(label):\(p.line): \(p.message)\n" }
        if result.problems.count > 1000 { report += "\(label): \(result.problems.count - 1000) more problems not shown\n" }
        if !report.isEmpty { Self.warn(report, newline: false) }
        let raises = result.events.filter { $0.phase == .raise }.count
        print("\(label): \(result.rows) rows, kind \(kind.rawValue), \(raises) alert episodes, \(result.alertRows) alert rows, \(result.problems.count) problems")
        if events {
            for e in result.events {
                print("  \(Self.timestamp(e.time)) \(e.phase.rawValue) \(e.kind.rawValue) \(e.severity.rawValue): \(e.message)")
            }
        }
        return result.rows
    }

    /// `YYYY-MM-DD HH:MM:SS` (UTC), as in the input files.
    static func timestamp(_ t: Double) -> String {
        let iso = Timestamp.iso8601(t)  // 2026-03-01T06:26:00.000Z
        return String(iso.prefix(19)).replacing("T", with: " ")
    }

    private static func warn(_ text: String, newline: Bool = true) {
        printError(text, newline: newline)
    }
}

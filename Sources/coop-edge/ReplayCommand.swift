import ArgumentParser
import Agent
import Config
import Detection
import EdgeCore
import Foundation

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
            with file and line and still get an output row (empty value, score 0, alert 0).
            """)

    @Option(name: .long, help: "A CSV file or a directory of CSV files.")
    var input: String

    @Option(name: .long, help: "The output CSV file, or directory for a directory input.")
    var output: String

    @Option(name: .long, help: "Channel kind: cold_room, soil_moisture, weight (or scale), generic.")
    var kind: String?

    @Flag(name: .long, help: "Print each alert raise/clear message.")
    var events = false

    @Option(name: .long, help: "A site file: use the detector settings the daemon uses for --channel.")
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
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else {
            throw ValidationError("input '\(input)' does not exist")
        }
        if isDir.boolValue {
            var outIsDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: output, isDirectory: &outIsDir), !outIsDir.boolValue {
                throw ValidationError("input is a directory, so output '\(output)' must be a directory, but it is a file")
            }
        }
    }

    static func parseKind(_ text: String) -> ChannelKind? {
        let t = text.lowercased().replacingOccurrences(of: "-", with: "_")
        if t == "scale" { return .weight }
        return ChannelKind(rawValue: t)
    }

    /// The daemon's own settings for `--channel` in `--config`, or nil without them.
    private func siteConfig() throws -> (ChannelKind, DetectorConfig)? {
        guard let config, let channel else { return nil }
        let site: Site
        do { site = try ConfigLoader.loadSite(path: config) } catch {
            for d in error.diagnostics { Self.warn(d.description) }
            throw ExitCode(1)
        }
        let parts = channel.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, let device = site.devices.first(where: { $0.name == parts[0] }),
              let spec = device.channels.first(where: { $0.name == parts[1] }) else {
            Self.warn("no channel '\(channel)' in \(config); channels: \(site.devices.flatMap { d in d.channels.map { "\(d.name).\($0.name)" } }.joined(separator: ", "))")
            throw ExitCode(1)
        }
        let kind = self.kind.flatMap(Self.parseKind) ?? device.detectorKind(for: spec).flatMap(ChannelKind.init(rawValue:)) ?? .generic
        return (kind, AlertEngine.detectorConfig(kind: kind, device: device, spec: spec))
    }

    func run() throws {
        let fm = FileManager.default
        let fromSite = try siteConfig()
        let forced = fromSite?.0 ?? kind.flatMap(Self.parseKind)
        let detectorConfig = fromSite?.1
        var isDir: ObjCBool = false
        _ = fm.fileExists(atPath: input, isDirectory: &isDir)
        let started = Date()
        var totalRows = 0
        var failures = 0
        if isDir.boolValue {
            let root = URL(fileURLWithPath: input).standardizedFileURL
            var relative: [String] = []
            if let walker = fm.enumerator(atPath: root.path) {
                while let rel = walker.nextObject() as? String { relative.append(rel) }
            }
            let plan = ReplayPlan.items(relativePaths: relative, kind: forced, rootName: root.lastPathComponent)
            if plan.isEmpty { Self.warn("no .csv files under \(input)") }
            let outRoot = URL(fileURLWithPath: output)
            for item in plan {
                let src = root.appendingPathComponent(item.input)
                let dst = outRoot.appendingPathComponent(item.output)
                do {
                    try fm.createDirectory(at: dst.deletingLastPathComponent(), withIntermediateDirectories: true)
                    totalRows += try replayFile(src, to: dst, kind: item.kind, config: detectorConfig, label: item.input)
                } catch {
                    failures += 1
                    Self.warn("\(src.path): \(error.localizedDescription)")
                }
            }
        } else {
            let src = URL(fileURLWithPath: input)
            var dst = URL(fileURLWithPath: output)
            var outIsDir: ObjCBool = false
            if fm.fileExists(atPath: output, isDirectory: &outIsDir), outIsDir.boolValue {
                dst = dst.appendingPathComponent(src.lastPathComponent)
            } else {
                try fm.createDirectory(at: dst.deletingLastPathComponent(), withIntermediateDirectories: true)
            }
            let k = forced ?? ReplayPlan.inferKind(path: src.path)
            do {
                totalRows += try replayFile(src, to: dst, kind: k, config: detectorConfig, label: input)
            } catch {
                failures += 1
                Self.warn("\(src.path): \(error.localizedDescription)")
            }
        }
        let seconds = Date().timeIntervalSince(started)
        let rate = seconds > 0 ? Int(Double(totalRows) / seconds) : 0
        print("replayed \(totalRows) rows in \(String(format: "%.3f", seconds)) s (\(rate) rows/s)")
        if failures > 0 { throw ExitCode(1) }
    }

    /// Replays one file; returns its row count. Throws only for I/O errors (unreadable file, unwritable output).
    private func replayFile(_ src: URL, to dst: URL, kind: ChannelKind, config: DetectorConfig?, label: String) throws -> Int {
        let data = try Data(contentsOf: src)
        let channel = self.channel ?? src.deletingPathExtension().lastPathComponent
        let result = data.withUnsafeBytes { raw in
            ReplayCSV.replay(bytes: raw.bindMemory(to: UInt8.self), kind: kind, config: config, channel: channel)
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
                print("  \(e.phase.rawValue) \(e.kind.rawValue) \(e.severity.rawValue) t=\(Int(e.time)): \(e.message)")
            }
        }
        return result.rows
    }

    private static func warn(_ text: String, newline: Bool = true) {
        FileHandle.standardError.write(Data((newline ? text + "\n" : text).utf8))
    }
}

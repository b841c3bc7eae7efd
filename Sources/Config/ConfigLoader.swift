public import EdgeCore
internal import Foundation
internal import Yams

/// Loads and validates site files and sensor profiles.
///
/// Every problem is reported with file, line, column and field path, and loading never crashes,
/// whatever the bytes (see `TextGuard`). Reads files synchronously: call it at start-up or from
/// the command line, not from a latency-sensitive task.
public enum ConfigLoader {
    /// Poll intervals below this would flood a 9600-baud RS-485 line and the outbox.
    public static let minimumPollMS = 100

    /// A duration as the site file writes it (500ms, 10s, 15m, 1h, 2d), in seconds; nil if it is not one.
    public static func duration(_ text: String) -> Double? { NodeReader.Fields.parseDuration(text) }

    /// Loads a site and the profiles it names. Profiles are looked up in `profilesDirectory`, or
    /// else in `profiles/` beside the site's folder (`Firmware-Configs/sites/x.yaml` →
    /// `Firmware-Configs/profiles/`).
    public static func loadSite(path: String, profilesDirectory: String? = nil) throws(ConfigError) -> Site {
        var diagnostics: [ConfigDiagnostic] = []
        let site = parseSite(path: path, profilesDirectory: profilesDirectory, diagnostics: &diagnostics)
        guard let site, diagnostics.isEmpty else {
            if diagnostics.isEmpty { diagnostics.append(ConfigDiagnostic(file: path, line: 1, column: 1, path: "", message: "site could not be loaded")) }
            throw ConfigError(diagnostics)
        }
        return site
    }

    /// Every problem in a site file and its profiles; empty when the site is valid.
    public static func check(sitePath: String, profilesDirectory: String? = nil) -> [ConfigDiagnostic] {
        var diagnostics: [ConfigDiagnostic] = []
        _ = parseSite(path: sitePath, profilesDirectory: profilesDirectory, diagnostics: &diagnostics)
        return diagnostics
    }

    /// Loads one profile file; its name is the file name without `.yaml`.
    public static func loadProfile(path: String) throws(ConfigError) -> Profile {
        var diagnostics: [ConfigDiagnostic] = []
        let profile = parseProfile(path: path, diagnostics: &diagnostics)
        guard let profile, diagnostics.isEmpty else { throw ConfigError(diagnostics) }
        return profile
    }

    /// Parses YAML text that is not in a file (tests, stdin). `file` names it in messages.
    static func compose(bytes: [UInt8], file: String, diagnostics: inout [ConfigDiagnostic]) -> Node? {
        let text: String
        switch TextGuard.text(from: bytes, file: file) {
        case .failure(let d): diagnostics.append(d); return nil
        case .success(let t): text = t
        }
        do {
            guard let node = try Yams.compose(yaml: text) else {
                diagnostics.append(ConfigDiagnostic(file: file, line: 1, column: 1, path: "", message: "file holds no YAML document"))
                return nil
            }
            return node
        } catch let error as YamlError {
            diagnostics.append(yamlDiagnostic(error, file: file, text: text))
            return nil
        } catch {
            diagnostics.append(ConfigDiagnostic(file: file, line: 1, column: 1, path: "", message: "not valid YAML: \(error)"))
            return nil
        }
    }

    static func yamlDiagnostic(_ error: YamlError, file: String, text: String = "") -> ConfigDiagnostic {
        func d(_ mark: Mark?, _ message: String) -> ConfigDiagnostic {
            ConfigDiagnostic(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, path: "", message: message)
        }
        func d(_ line: Int, _ column: Int, _ message: String) -> ConfigDiagnostic {
            ConfigDiagnostic(file: file, line: line, column: column, path: "", message: message)
        }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let ctx = context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""
            return d(mark, "not valid YAML: \(problem)\(ctx)")
        case .reader(let problem, _, _, _):
            return d(nil, "file cannot be read as text: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams marks the first key; the installer has to remove the repeat, so point there.
            let key = duplicates.first ?? ""
            var (at, column) = (context.mark.line, context.mark.column)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if context.mark.line < lines.count {
                for (i, line) in lines.enumerated().dropFirst(context.mark.line) {
                    let indent = line.prefix { $0 == " " }.count
                    let rest = line.dropFirst(indent)
                    if indent + 1 == context.mark.column, rest.hasPrefix(key), rest.dropFirst(key.count).drop(while: { $0 == " " }).hasPrefix(":") {
                        (at, column) = (i + 1, indent + 1)
                        break
                    }
                }
            }
            let first = at != context.mark.line ? " (first at line \(context.mark.line))" : ""
            return d(at, column, "duplicate key '\(duplicates.joined(separator: "', '"))': each key may appear once in a mapping\(first)")
        default:
            return d(nil, "not valid YAML: \(error)")
        }
    }

    static func readBytes(_ path: String, diagnostics: inout [ConfigDiagnostic], from: ConfigDiagnostic? = nil) -> [UInt8]? {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            var d = from ?? ConfigDiagnostic(file: path, line: 1, column: 1, path: "", message: "")
            let exists = FileManager.default.fileExists(atPath: path)
            d.message = exists ? "cannot read \(path): permission denied" : "no such file: \(path)"
            diagnostics.append(d)
            return nil
        }
        defer { try? handle.close() }
        // Read one byte more than the limit, so an oversized file is reported without reading it all.
        let bytes = [UInt8]((try? handle.read(upToCount: TextGuard.maxBytes + 1)) ?? Data())
        if bytes.count > TextGuard.maxBytes {
            let size = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? bytes.count
            let mib = (Double(size) / 104_857.6).rounded() / 10
            diagnostics.append(ConfigDiagnostic(file: path, line: 1, column: 1, path: "",
                message: "file is \(mib) MiB; a configuration file may be at most 1 MiB — is this the right file?"))
            return nil
        }
        return bytes
    }
}

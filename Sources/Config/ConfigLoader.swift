public import EdgeCore

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
    static func compose(bytes: [UInt8], file: String, diagnostics: inout [ConfigDiagnostic]) -> YAMLNode? {
        let text: String
        switch TextGuard.text(from: bytes, file: file) {
        case .failure(let d): diagnostics.append(d); return nil
        case .success(let t): text = t
        }
        do {
            guard let node = try YAMLDocument.compose(text) else {
                diagnostics.append(ConfigDiagnostic(file: file, line: 1, column: 1, path: "", message: "file holds no YAML document"))
                return nil
            }
            return node
        } catch {
            diagnostics.append(ConfigDiagnostic(file: file, line: error.mark.line, column: error.mark.column, path: "", message: error.message))
            return nil
        }
    }

    static func readBytes(_ path: String, diagnostics: inout [ConfigDiagnostic], from: ConfigDiagnostic? = nil) -> [UInt8]? {
        let message: String
        switch FileSystem.readFile(path, limit: TextGuard.maxBytes) {
        case .success(let bytes):
            return bytes
        case .failure(.tooLarge(let size)):
            let mib = (Double(size) / 104_857.6).rounded() / 10
            diagnostics.append(ConfigDiagnostic(file: path, line: 1, column: 1, path: "",
                message: "file is \(mib) MiB; a configuration file may be at most 1 MiB — is this the right file?"))
            return nil
        case .failure(.missing): message = "no such file: \(path)"
        case .failure(.permissionDenied): message = "cannot read \(path): permission denied"
        case .failure(.failed(let reason)): message = "cannot read \(path): \(reason)"
        }
        var d = from ?? ConfigDiagnostic(file: path, line: 1, column: 1, path: "", message: "")
        d.message = message
        diagnostics.append(d)
        return nil
    }
}

import ArgumentParser
import Config
import EdgeCore
import FoundationEssentials
import IOThread
#if canImport(Glibc)
import Glibc
#endif

/// Options every command that reads a site shares.
struct SiteOptions: ParsableArguments {
    @Option(name: [.short, .customLong("config")], help: "The site file, e.g. Firmware-Configs/sites/demo.yaml.")
    var config: String

    @Option(help: "Folder of sensor profiles (default: profiles/ beside the site's folder).")
    var profiles: String?

    /// The site, or exit 1 with every problem as `file:line:column: message`.
    func loadSite() throws -> Site {
        do {
            return try ConfigLoader.loadSite(path: config, profilesDirectory: profiles)
        } catch {
            for d in error.diagnostics { printError(d.description) }
            throw ExitCode(1)
        }
    }
}

/// One message to standard error (unbuffered, so it is not held back behind standard output).
func printError(_ s: String, newline: Bool = true) {
    Console.error(newline ? s + "\n" : s)
}

import Foundation
import Testing

/// PID 1 is not systemd here, so the unit cannot be started; the offline analysers check it
/// (FIELD-NOTES.md: `verify` exits 0 on a misspelt directive, so any stderr output fails).
struct SystemdUnitTests {
    @Test("the unit passes systemd-analyze verify without a single warning, and scores as hardened")
    func unitVerifiesAndIsHardened() async throws {
        let dir = try TempDir()
        let unit = try String(contentsOfFile: Binaries.repoRoot + "/Systemd/coop-edge.service", encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/coop-edge", with: try Binaries.path("coop-edge"))
        let path = try dir.write("coop-edge.service", unit)

        let verify = try TestProcess("/usr/bin/systemd-analyze", ["verify", path], name: "verify")
        try await waitUntil(timeout: .seconds(30), "systemd-analyze verify") { verify.isRunning ? nil : true }
        _ = try? await waitUntil(timeout: .seconds(1), "end of output") { verify.finished ? true : nil }
        let complaints = verify.output.filter { $0.contains("coop-edge.service") }
        #expect(complaints.isEmpty, "systemd-analyze verify: \(complaints.joined(separator: "\n"))")
        #expect(verify.stop() == 0)

        let security = try TestProcess("/usr/bin/systemd-analyze", ["security", "--offline=yes", path], name: "security")
        try await waitUntil(timeout: .seconds(30), "systemd-analyze security") { security.isRunning ? nil : true }
        // The summary is the last line; under load the pipe reader can trail the exit, so wait for the
        // line itself (not for end of file, which another test's child may delay by holding the pipe).
        let line = try await waitUntil(timeout: .seconds(20), "the overall exposure line, got \(security.output.suffix(3))") {
            security.output.first { $0.contains("Overall exposure level") }
        }
        let score = line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) } ?? 10
        #expect(score <= 2.0, "\(line)")
    }
}

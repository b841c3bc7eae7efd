import Foundation
import Testing

/// PID 1 is not systemd here, so the unit cannot be started; the offline analysers check it
/// (FIELD-NOTES.md: `verify` exits 0 on a misspelt directive, so any stderr output fails).
struct SystemdUnitTests {
    @Test("the unit passes systemd-analyze verify without a single warning, and scores as hardened")
    func unitVerifiesAndIsHardened() async throws {
        let dir = try TempDir()
        let unit = try String(contentsOfFile: Binaries.repoRoot + "/Systemd/coop-edge.service", encoding: .utf8)
            .replacingOccurrences(of: "/usr/bin/coop-edge", with: try Binaries.path("coop-edge"))
        let path = try dir.write("coop-edge.service", unit)

        // The analysers' output goes to a file, read after they exit: no pipe for another test's
        // child to hold open, and nothing to trail the exit.
        let (verifyStatus, verifyOutput) = try runCapturing("/usr/bin/systemd-analyze", ["verify", path], in: dir)
        let complaints = verifyOutput.filter { $0.contains("coop-edge.service") }
        #expect(complaints.isEmpty, "systemd-analyze verify: \(complaints.joined(separator: "\n"))")
        #expect(verifyStatus == 0)

        let (_, securityOutput) = try runCapturing("/usr/bin/systemd-analyze", ["security", "--offline=yes", path], in: dir)
        let line = try #require(securityOutput.first { $0.contains("Overall exposure level") }, "\(securityOutput.suffix(3))")
        let score = line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) } ?? 10
        #expect(score <= 2.0, "\(line)")
    }
}

/// Runs a command to completion with its output (stdout and stderr) in a file; returns the status
/// and the lines.
func runCapturing(_ path: String, _ args: [String], in dir: TempDir) throws -> (Int32, [String]) {
    let file = dir.path + "/output-\(UInt32.random(in: 0...UInt32.max)).txt"
    _ = FileManager.default.createFile(atPath: file, contents: nil)
    let handle = try #require(FileHandle(forWritingAtPath: file))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    p.standardOutput = handle
    p.standardError = handle
    try p.run()
    p.waitUntilExit()
    try handle.close()
    let text = try String(contentsOfFile: file, encoding: .utf8)
    return (p.terminationStatus, text.split(separator: "\n").map(String.init))
}

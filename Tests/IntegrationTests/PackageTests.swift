import Foundation
import Testing

/// The Debian package `make deb` builds, installed into a throwaway root: dpkg with `--root` and a
/// scratch admin directory, its maintainer scripts run chrootless with `DPKG_ROOT` pointing at the
/// root (as `dpkg --force-script-chrootless` does). dpkg runs in a mount namespace of its own in which
/// the machine's /etc, /usr, /var, /run and the other system folders are read-only, so a script that
/// ignored `DPKG_ROOT` fails here instead of creating a user or a file on this machine.
///
/// `make deb` builds in .build-release (its own scratch directory: `swift test` holds .build's lock),
/// so a release build left there is reused; on a clean checkout this test makes it, which takes a while.
struct PackageTests {
    @Test("make deb: the package installs into a throwaway root, runs, checks its example site, verifies its unit; upgrade keeps outbox and edits; purge removes the state")
    func packageInstallsIntoAThrowawayRoot() async throws {
        try #require(getuid() == 0, "dpkg --root and the read-only mount namespace need root (FIELD-NOTES.md: these tests run as root)")
        let dir = try TempDir()
        let deb = try await buildPackage()

        // What the package says about itself.
        let conffiles = try await run("/usr/bin/dpkg-deb", ["--info", deb, "conffiles"], in: dir)
        #expect(conffiles.status == 0 && conffiles.lines == ["/etc/coop-edge/site.yaml"], "\(conffiles.lines)")
        let depends = try await run("/usr/bin/dpkg-deb", ["--field", deb, "Depends"], in: dir).lines.joined()
        for lib in ["libc6", "libmodbus5", "libmosquitto1", "libsqlite3-0", "libyaml-0-2"] {
            #expect(depends.contains(lib), "Depends: \(depends)")
        }
        let arch = try await run("/usr/bin/dpkg", ["--print-architecture"], in: dir).lines.joined()
        #expect(try await run("/usr/bin/dpkg-deb", ["--field", deb, "Architecture"], in: dir).lines == [arch])

        let root = dir.path + "/root"
        let admin = root + "/var/lib/dpkg"
        for sub in ["info", "updates", "triggers"] {
            try FileManager.default.createDirectory(atPath: admin + "/" + sub, withIntermediateDirectories: true)
        }
        for file in ["status", "available"] { _ = FileManager.default.createFile(atPath: admin + "/" + file, contents: nil) }
        try FileManager.default.createDirectory(atPath: root + "/var/log", withIntermediateDirectories: true)
        let hostFiles = ["/etc/passwd", "/etc/group", "/etc/shadow", "/var/lib/dpkg/status"]
        let before = hostFiles.map { FileManager.default.contents(atPath: $0) }

        // Install.
        try await dpkg(root, ["--install", deb], in: dir)
        for path in ["/usr/bin/coop-edge", "/usr/bin/coop-edge-sim"] {
            #expect(FileManager.default.isExecutableFile(atPath: root + path), "\(path)")
        }
        for path in ["/lib/systemd/system/coop-edge.service", "/usr/lib/sysusers.d/coop-edge.conf",
                     "/usr/lib/tmpfiles.d/coop-edge.conf", "/etc/coop-edge/site.yaml",
                     "/usr/share/doc/coop-edge/README.md", "/usr/share/doc/coop-edge/docs/operations.md",
                     "/usr/share/doc/coop-edge/copyright", "/usr/share/doc/coop-edge/changelog.Debian.gz"] {
            #expect(FileManager.default.fileExists(atPath: root + path), "\(path) is not installed")
        }
        let profiles = try FileManager.default.contentsOfDirectory(atPath: Binaries.profiles).filter { $0.hasSuffix(".yaml") }
        #expect(!profiles.isEmpty)
        for p in profiles {
            #expect(FileManager.default.fileExists(atPath: root + "/usr/share/coop-edge/profiles/" + p), "profile \(p) is not installed")
        }

        // The maintainer scripts worked on the root: the user (in dialout), its state directory, the unit enabled.
        let passwd = try String(contentsOfFile: root + "/etc/passwd", encoding: .utf8)
        let user = try #require(passwd.split(separator: "\n").first { $0.hasPrefix("coop-edge:") }, "no coop-edge user in the root's /etc/passwd")
        let uid = Int(user.split(separator: ":")[2]) ?? -1
        #expect(uid > 0 && uid < 1000, "\(user): not a system user")
        let group = try String(contentsOfFile: root + "/etc/group", encoding: .utf8)
        let dialout = group.split(separator: "\n").first { $0.hasPrefix("dialout:") } ?? ""
        #expect(dialout.split(separator: ":").last?.split(separator: ",").contains("coop-edge") == true, "dialout: \(dialout)")
        let state = try FileManager.default.attributesOfItem(atPath: root + "/var/lib/coop-edge")
        #expect((state[.ownerAccountID] as? NSNumber)?.intValue == uid)
        #expect((state[.posixPermissions] as? NSNumber)?.intValue == 0o750)
        // The link names the unit's path inside the root (so it dangles here: read the link itself).
        let wants = root + "/etc/systemd/system/multi-user.target.wants/coop-edge.service"
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: wants)) == "/lib/systemd/system/coop-edge.service",
                "the unit is not enabled in the root")

        // Self-contained (issue 9): no Swift runtime and no ICU to install on the board. ldd lists only
        // system libraries, and the stripped agent stays under 20 MB.
        for binary in ["/usr/bin/coop-edge", "/usr/bin/coop-edge-sim"] {
            let ldd = try await run("/usr/bin/ldd", [root + binary], in: dir)
            #expect(ldd.status == 0, "\(ldd.lines)")
            let allowed = ["linux-vdso", "ld-linux", "libc.so", "libm.so", "libstdc++", "libgcc_s", "libmodbus", "libmosquitto",
                           "libsqlite3", "libyaml", "libssl", "libcrypto"]
            let foreign = ldd.lines.filter { line in !allowed.contains { line.contains($0) } && !line.trimmingCharacters(in: .whitespaces).isEmpty }
            #expect(foreign.isEmpty, "\(binary) loads libraries a board does not have: \(foreign)")
            #expect(!ldd.lines.contains { $0.contains("swift") || $0.contains("Foundation") || $0.contains("icu") }, "\(ldd.lines)")
        }
        let size = (try FileManager.default.attributesOfItem(atPath: root + "/usr/bin/coop-edge")[.size] as? NSNumber)?.intValue ?? 0
        #expect(size > 0 && size <= 20_000_000, "the stripped agent is \(size) bytes (issue 9: at most 20 MB)")

        // The installed binary says what it is: version and the build `make release` linked in.
        let version = try await run(root + "/usr/bin/coop-edge", ["--version"], in: dir)
        #expect(version.status == 0)
        let versionLine = version.lines.joined(separator: "\n")
        #expect(versionLine.wholeMatch(of: /coop-edge \d+\.\d+\.\d+ \(build [0-9a-f]{7,}(-dirty)?, \d{4}-\d{2}-\d{2}\)/) != nil,
                "--version printed: \(versionLine)")

        // The example site passes check-config as installed; its profiles_dir is the installed profiles
        // (absolute, so here it is looked up inside the root); its commented example, uncommented, passes too.
        let site = root + "/etc/coop-edge/site.yaml"
        let siteText = try String(contentsOfFile: site, encoding: .utf8)
        #expect(siteText.contains("profiles_dir: /usr/share/coop-edge/profiles"))
        #expect(siteText.contains("path: /var/lib/coop-edge/outbox.sqlite"))
        #expect(!siteText.contains("\npassword"), "the example site holds no credentials")
        let installedProfiles = root + "/usr/share/coop-edge/profiles"
        let check = try await run(root + "/usr/bin/coop-edge", ["check-config", site, "--profiles", installedProfiles], in: dir)
        #expect(check.status == 0, "check-config on the installed example: \(check.lines)")
        let lines = siteText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(lines.firstIndex { $0.hasPrefix("# buses:") }, "the example site has no commented example")
        var filledLines: [String] = []
        for (i, line) in lines.enumerated() where line != "buses: []" && line != "devices: []" {
            filledLines.append(i >= start && line.hasPrefix("# ") ? String(line.dropFirst(2)) : line)
        }
        let filled = filledLines.joined(separator: "\n")
        let filledSite = try dir.write("filled-site.yaml", filled)
        let filledCheck = try await run(root + "/usr/bin/coop-edge", ["check-config", filledSite, "--profiles", installedProfiles], in: dir)
        #expect(filledCheck.status == 0, "check-config on the example, uncommented: \(filledCheck.lines)\n\(filled)")

        // The installed unit verifies, its ExecStart= pointed at the binary inside the root (as
        // SystemdUnitTests does; `verify --root` wants a whole system in the root).
        let unit = try String(contentsOfFile: root + "/lib/systemd/system/coop-edge.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/coop-edge run --config /etc/coop-edge/site.yaml"))
        try FileManager.default.createDirectory(atPath: dir.path + "/unit", withIntermediateDirectories: true)
        let unitCopy = dir.path + "/unit/coop-edge.service"
        try unit.replacingOccurrences(of: "/usr/bin/coop-edge", with: root + "/usr/bin/coop-edge")
            .write(toFile: unitCopy, atomically: true, encoding: .utf8)
        let verify = try await run("/usr/bin/systemd-analyze", ["verify", unitCopy], in: dir)
        let complaints = verify.lines.filter { $0.contains("coop-edge.service") }
        #expect(verify.status == 0 && complaints.isEmpty, "systemd-analyze verify on the installed unit: \(verify.lines)")

        // Upgrade (the same package again): the outbox and an edited site file stay; the unit stays enabled.
        let outbox = root + "/var/lib/coop-edge/outbox.sqlite"
        _ = FileManager.default.createFile(atPath: outbox, contents: Data("buffered readings".utf8))
        let edited = siteText.replacingOccurrences(of: "site: example-site", with: "site: farm-17")
        try edited.write(toFile: site, atomically: false, encoding: .utf8)
        try await dpkg(root, ["--install", deb], in: dir)
        #expect(FileManager.default.contents(atPath: outbox) == Data("buffered readings".utf8), "the upgrade lost the outbox")
        #expect(try String(contentsOfFile: site, encoding: .utf8) == edited, "the upgrade overwrote the edited site file")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: wants)) != nil, "the upgrade disabled the unit")

        // Remove keeps the outbox and the site file; purge removes both.
        try await dpkg(root, ["--remove", "coop-edge"], in: dir)
        #expect(!FileManager.default.fileExists(atPath: root + "/usr/bin/coop-edge"))
        #expect(FileManager.default.fileExists(atPath: outbox), "remove deleted the outbox")
        #expect(FileManager.default.fileExists(atPath: site), "remove deleted the site file")
        try await dpkg(root, ["--purge", "coop-edge"], in: dir)
        #expect(!FileManager.default.fileExists(atPath: root + "/var/lib/coop-edge"), "purge left the state directory")
        #expect(!FileManager.default.fileExists(atPath: site), "purge left the site file")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: wants)) == nil, "purge left the unit enabled")

        // And this machine is as it was.
        #expect(hostFiles.map { FileManager.default.contents(atPath: $0) } == before, "the host's user or package database changed")
    }

    @Test("the packaged example site polls nothing and keeps the agent up, online on the broker, until SIGTERM")
    func exampleSiteRunsIdle() async throws {
        let dir = try TempDir()
        let broker = try await Broker(dir: dir)
        let subscriber = try await Subscriber.connected(to: broker)
        let example = try String(contentsOfFile: Binaries.repoRoot + "/Packaging/site.yaml", encoding: .utf8)
        #expect(example.contains("url: mqtt://127.0.0.1:1883") && example.contains("path: /var/lib/coop-edge/outbox.sqlite"))
        let site = try dir.write("site.yaml", example
            .replacingOccurrences(of: "mqtt://127.0.0.1:1883", with: "mqtt://127.0.0.1:\(broker.port)")
            .replacingOccurrences(of: "/var/lib/coop-edge/outbox.sqlite", with: dir.path + "/outbox.sqlite"))
        let running = try agent(site)
        try await running.waitForLine("nothing to poll") { $0.contains("nothing to poll") }
        let status = "coop/example-coop/example-site/status"
        try await waitUntil(timeout: .seconds(15), "\(status) online") {
            subscriber.messages.contains { $0.topic == status && $0.payload == "online" } ? true : nil
        }
        // A service that returned would have ended the agent before it got this far.
        #expect(running.isRunning, "\(running.output.suffix(10))")
        #expect(running.stop() == 0, "\(running.output.suffix(10))")
        #expect(!running.output.contains { $0.contains("critical") }, "\(running.output.suffix(10))")
    }

    @Test("postinst starts the agent on install and restarts it on upgrade only when check-config passes; prerm stops it only on remove")
    func maintainerScriptsGateTheStartOnCheckConfig() async throws {
        try #require(getuid() == 0, "the read-only mount namespace needs root")
        let dir = try TempDir()
        // Every command the scripts run is a stub on PATH that logs its arguments; coop-edge's exits
        // with CHECK_STATUS. /run/systemd/system exists in a tmpfs /run of the namespace only: the
        // scripts see a running systemd, and the real system folders stay read-only.
        let stubs = dir.path + "/stubs"
        try FileManager.default.createDirectory(atPath: stubs, withIntermediateDirectories: true)
        for name in ["systemd-sysusers", "systemd-tmpfiles", "systemctl", "deb-systemd-helper", "deb-systemd-invoke", "coop-edge"] {
            let exit = name == "coop-edge" ? "exit \"$CHECK_STATUS\"" : "exit 0"
            let path = try dir.write("stubs/" + name, "#!/bin/sh\necho \"\(name) $*\" >> \"$STUB_LOG\"\n\(exit)\n")
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        func script(_ name: String, _ args: [String], checkPasses: Bool = true) async throws -> (log: [String], output: [String]) {
            let log = dir.path + "/calls-\(UInt32.random(in: 0...UInt32.max)).log"
            let result = try await run("/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c", Self.guardScript + """

                mount -t tmpfs tmpfs /run
                mkdir -p /run/systemd/system
                exec "$@"
                """, "guard", "/bin/sh", Binaries.repoRoot + "/Packaging/" + name] + args, in: dir,
                environment: ["PATH": stubs + ":/usr/bin:/bin", "STUB_LOG": log, "CHECK_STATUS": checkPasses ? "0" : "1", "DPKG_ROOT": ""])
            #expect(result.status == 0, "\(name) \(args): \(result.lines)")
            let calls = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
            return (calls, result.lines)
        }

        let install = try await script("postinst", ["configure", ""])
        #expect(install.log.contains("systemd-sysusers coop-edge.conf"), "\(install.log)")
        #expect(install.log.contains("systemd-tmpfiles --create coop-edge.conf"), "\(install.log)")
        #expect(install.log.contains("deb-systemd-helper enable coop-edge.service"), "\(install.log)")
        #expect(install.log.contains("coop-edge check-config /etc/coop-edge/site.yaml"), "\(install.log)")
        #expect(install.log.last == "deb-systemd-invoke start coop-edge.service", "\(install.log)")

        let upgrade = try await script("postinst", ["configure", "0.5.0-1"])
        #expect(upgrade.log.last == "deb-systemd-invoke restart coop-edge.service", "\(upgrade.log)")

        for version in ["", "0.5.0-1"] {
            let refused = try await script("postinst", ["configure", version], checkPasses: false)
            #expect(!refused.log.contains { $0.hasPrefix("deb-systemd-invoke") }, "started although check-config failed: \(refused.log)")
            #expect(refused.log.contains("deb-systemd-helper enable coop-edge.service"), "\(refused.log)")
            #expect(refused.output.count == 1 && refused.output[0].contains("not started")
                    && refused.output[0].contains("systemctl restart coop-edge"), "\(refused.output)")
        }

        #expect(try await script("prerm", ["remove"]).log == ["deb-systemd-invoke stop coop-edge.service"])
        #expect(try await script("prerm", ["upgrade", "0.5.0-1"]).log.isEmpty, "an upgrade stops the agent only through postinst's restart")
    }

    /// Makes the machine's system folders read-only in the calling mount namespace (unshare --mount):
    /// what runs next cannot change this machine even if it ignores DPKG_ROOT.
    static let guardScript = """
        set -e
        for d in /etc /usr /var /run /boot /root /home /opt /srv /bin /sbin /lib /lib64; do
          if [ -d "$d" ] && [ ! -L "$d" ]; then mount --bind "$d" "$d"; mount -o remount,bind,ro "$d"; fi
        done
        """

    /// `make -s deb`, in the repository; returns the package's path (the last line make prints). gzip
    /// instead of xz, and no lintian (a minute each on a two-core machine): the installed files are the same.
    private func buildPackage() async throws -> String {
        let make = try TestProcess("/usr/bin/make", ["-s", "deb", "DEB_COMPRESS=gzip", "LINTIAN="], name: "make-deb",
                                   currentDirectory: Binaries.repoRoot)
        // A clean checkout builds the release binaries first: minutes on a two-core board.
        try await waitUntil(timeout: .seconds(45 * 60), "make deb") { make.finished ? true : nil }
        let status = make.stop()
        let deb = make.output.last { $0.hasSuffix(".deb") } ?? ""
        try #require(status == 0 && FileManager.default.fileExists(atPath: deb),
                     "make deb failed:\n\(make.output.suffix(40).joined(separator: "\n"))")
        return deb
    }

    /// dpkg on the throwaway root, inside a mount namespace where the machine's system folders are
    /// read-only (unshare, util-linux). Dependencies are not installed in the root, hence --force-depends.
    private func dpkg(_ root: String, _ args: [String], in dir: TempDir) async throws {
        let result = try await run("/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c",
                                                         Self.guardScript + "\nexec \"$@\"", "guard",
                                                         "/usr/bin/dpkg", "--root=" + root, "--admindir=" + root + "/var/lib/dpkg",
                                                         "--log=" + root + "/var/log/dpkg.log", "--force-script-chrootless",
                                                         "--force-depends", "--force-confold"] + args, in: dir)
        try #require(result.status == 0, "dpkg \(args.joined(separator: " ")) in \(root):\n\(result.lines.joined(separator: "\n"))")
    }

    /// Runs a command to completion (at most two minutes); returns its status and output lines.
    private func run(_ path: String, _ args: [String], in dir: TempDir,
                     environment: [String: String]? = nil) async throws -> (status: Int32, lines: [String]) {
        let p = try TestProcess(path, args, environment: environment, currentDirectory: dir.path)
        try await waitUntil(timeout: .seconds(120), "\(path) \(args.joined(separator: " "))") { p.finished ? true : nil }
        return (p.stop() ?? -1, p.output)
    }
}

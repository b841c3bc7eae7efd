import Foundation
import Testing
@testable import Config

/// Fuzz-style robustness: thousands of random and mutated files through `ConfigLoader.check`,
/// with a fixed seed. Whatever the bytes, the loader must return, and every diagnostic must point
/// somewhere an editor can jump to and say something.
@Suite("Config robustness", .timeLimit(.minutes(2)))
struct ConfigRobustnessTests {
    static let demo: [UInt8] = Array((try? Data(contentsOf: URL(fileURLWithPath: demoSitePath))) ?? Data())

    /// Writes `bytes` as the site file, checks it, and asserts the invariants every diagnostic keeps.
    @discardableResult
    static func checkInvariants(_ bytes: [UInt8], _ scratch: Scratch, _ label: @autoclosure () -> String,
                                garbage: Bool = false) throws -> [ConfigDiagnostic] {
        let path = try scratch.siteBytes(bytes)
        let diagnostics = ConfigLoader.check(sitePath: path)
        // Lines the file has (a mark may sit just after the last line break).
        let lines = bytes.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
        for d in diagnostics {
            let ok = d.line >= 1 && d.column >= 1 && !d.file.isEmpty
                && !d.message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
                && (d.file != path || d.line <= lines + 1)
            if !ok { Issue.record("\(label()): bad diagnostic \(d)") }
        }
        if garbage && diagnostics.isEmpty { Issue.record("\(label()): garbage accepted without a diagnostic") }
        return diagnostics
    }

    @Test("the demo site itself passes the harness with no diagnostics")
    func demoBaseline() throws {
        let s = try Scratch()
        #expect(!Self.demo.isEmpty)
        #expect(try Self.checkInvariants(Self.demo, s, "demo") == [])
    }

    @Test("pathological files: empty, whitespace, deep nesting, huge indentation, 10 MB, bombs, long lines, bad UTF-8")
    func pathological() throws {
        let s = try Scratch()
        let demoText = String(decoding: Self.demo, as: UTF8.self)
        func b(_ text: String) -> [UInt8] { Array(text.utf8) }
        var cases: [(String, [UInt8])] = [
            ("empty", []),
            ("spaces", b("   ")),
            ("whitespace", b(" \n\t\r\n  \n")),
            ("comment only", b("# nothing here\n")),
            ("document markers", b("---\n...\n")),
            ("null document", b("~\n")),
            ("scalar document", b("42")),
            ("list document", b("- a\n- b\n")),
            ("NUL", b("coop: x\0")),
            ("[ x 100k", b(String(repeating: "[", count: 100_000))),
            ("{ x 100k", b("a: " + String(repeating: "{", count: 100_000))),
            ("[ nested and closed x 5000", b("a: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000))),
            ("mixed [{ x 50k", b(String(repeating: "[{a: ", count: 50_000))),
            ("- - - x 10k", b(String(repeating: "- ", count: 10_000) + "x\n")),
            ("dash per line", b((0..<120).map { String(repeating: " ", count: $0 * 2) + "- a:" }.joined(separator: "\n"))),
            ("block mappings 120 deep", b((0..<120).map { String(repeating: " ", count: $0 * 2) + "k\($0):" }.joined(separator: "\n") + " v\n")),
            ("huge indentation", b(String(repeating: " ", count: 100_000) + "coop: x\n")),
            ("huge indentation after a key", b("coop:\n" + String(repeating: " ", count: 5000) + "x\n")),
            ("tab indentation", b("coop: x\n\tsite: y\n")),
            ("quote hides brackets", b("coop: it's\nsite: " + String(repeating: "[", count: 200_000) + "\n")),
            ("quote hides dashes", b("coop: \"x\nsite: " + String(repeating: "- ", count: 5000) + "\n")),
            ("unclosed quote", b("coop: \"abc\nsite: x\n")),
            ("undefined alias", b("coop: *nope\n")),
            ("anchor on key", b("&a coop: x\nsite: *a\n")),
            ("merge key", b("base: &b {coop: x}\n<<: *b\n")),
            ("two documents", b(demoText + "\n---\n" + demoText)),
            ("bad directive", b("%YAML 9.9\n---\ncoop: x\n")),
            ("BOM", [0xEF, 0xBB, 0xBF] + Self.demo),
            ("CRLF", b(demoText.replacingOccurrences(of: "\n", with: "\r\n"))),
            ("CR only", b(demoText.replacingOccurrences(of: "\n", with: "\r"))),
            ("very long value", b("coop: " + String(repeating: "x", count: 900_000) + "\n")),
            ("very long key", b(String(repeating: "k", count: 500_000) + ": v\n")),
            ("very long quoted line", b("coop: \"" + String(repeating: "ab\\\"", count: 200_000) + "\"\n")),
            ("very many keys", b((0..<5000).map { "key\($0): \($0)" }.joined(separator: "\n"))),
            ("very many devices", b(demoText + (0..<1000).map { "  - { name: d\($0), bus: warehouse, slave: 1, profile: soil-probe, poll: 1s }" }.joined(separator: "\n"))),
            ("invalid UTF-8 0xFF", Self.demo.prefix(100) + [0xFF] + Self.demo.dropFirst(100)),
            ("invalid UTF-8 truncated", b("coop: é").dropLast()),
            ("invalid UTF-8 overlong", b("coop: ") + [0xC0, 0xAF]),
            ("invalid UTF-8 surrogate", b("coop: ") + [0xED, 0xA0, 0x80, 0x0A]),
            ("invalid UTF-8 too high", b("coop: ") + [0xF4, 0x90, 0x80, 0x80, 0x0A]),
            ("Latin-1", b("coop: caf") + [0xE9, 0x0A]),
            ("UTF-16", Array(demoText.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })),
            ("poll zero", b(demoText.replacingOccurrences(of: "poll: 2s", with: "poll: 0"))),
            ("poll negative", b(demoText.replacingOccurrences(of: "poll: 2s", with: "poll: -5s"))),
            ("poll garbage", b(demoText.replacingOccurrences(of: "poll: 2s", with: "poll: soon"))),
            ("slave huge", b(demoText.replacingOccurrences(of: "slave: 3", with: "slave: 99999999999999999999999"))),
            ("hex address", b(demoText.replacingOccurrences(of: "port: 1502", with: "port: 0x"))),
        ]
        // Billion laughs: nine levels of nine aliases, ~387 million leaves if expanded.
        var laughs = "lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...9 { laughs += "lol\(i): &l\(i) [" + Array(repeating: "*l\(i - 1)", count: 9).joined(separator: ", ") + "]\n" }
        cases.append(("billion laughs", b(laughs)))
        cases.append(("billion laughs in known fields", b(laughs.replacingOccurrences(of: "lol9:", with: "devices:")
            + "coop: *l9\nsite: *l9\nbroker: *l9\nbuses: *l9\nalerts: *l9\n")))
        cases.append(("billion laughs as devices", b(laughs + "coop: x\nsite: y\nbroker: {url: mqtt://h}\nbuses: [*l8]\ndevices: *l9\n")))
        // Random bytes of several sizes.
        var rng = SeededGenerator(seed: 0x5EED)
        for n in [1, 2, 3, 16, 255, 4096, 65536] {
            cases.append(("random \(n) bytes", (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }))
        }
        for (name, bytes) in cases {
            try Self.checkInvariants(bytes, s, name, garbage: !["BOM", "CRLF", "CR only", "very many devices"].contains(name))
        }

        // A 10 MB file is refused before it is parsed, with its size.
        let big = [UInt8](repeating: UInt8(ascii: "a"), count: 10 * 1_048_576)
        let d = try Self.checkInvariants(big, s, "10 MB", garbage: true)
        #expect(d.map(\.message) == ["file is 10.0 MiB; a configuration file may be at most 1 MiB — is this the right file?"])
        // Just under the limit is parsed.
        let justUnder = Array(("# " + String(repeating: "x", count: 1_048_576 - 4) + "\n").utf8)
        #expect(justUnder.count == 1_048_575)
        #expect(try Self.checkInvariants(justUnder, s, "1 MiB - 1", garbage: true).map(\.message) == ["file holds no YAML document"])
    }

    @Test("2000 mutations of the demo site: byte flips, deletions, duplications, truncations, insertions")
    func mutatedDemo() throws {
        let s = try Scratch()
        var rng = SeededGenerator(seed: 20_261_127)
        let tokens = [":", "- ", "[", "]", "{", "}", "&a ", "*a", "'", "\"", "#", "\n", "    ", "\t", "? ", "|", "> ", "!!str ",
                      "<<: ", "%", "@", "`", ",", "---\n", "...", "0x", "1e999", "-", "\u{0}", "\u{7}", "é", "\u{FEFF}"].map { Array($0.utf8) }
        var rejected = 0
        for round in 0..<2000 {
            var bytes = Self.demo
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                guard !bytes.isEmpty else { break }
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                let len = Int.random(in: 1...min(64, bytes.count - at), using: &rng)
                switch Int.random(in: 0..<7, using: &rng) {
                case 0: bytes[at] = UInt8.random(in: 0...255, using: &rng)                 // flip to any byte
                case 1: bytes[at] ^= 1 << UInt8.random(in: 0...7, using: &rng)             // flip one bit
                case 2: bytes.removeSubrange(at..<(at + len))                               // delete
                case 3: bytes.insert(contentsOf: bytes[at..<(at + len)], at: Int.random(in: 0...bytes.count, using: &rng))  // duplicate
                case 4: bytes.removeSubrange(at...)                                         // truncate
                case 5: bytes.insert(contentsOf: tokens.randomElement(using: &rng)!, at: at) // insert YAML syntax
                default:                                                                    // swap two lines
                    var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
                    let i = Int.random(in: 0..<lines.count, using: &rng), j = Int.random(in: 0..<lines.count, using: &rng)
                    lines.swapAt(i, j)
                    bytes = Array(lines.joined(separator: [0x0A]))
                }
            }
            if try !Self.checkInvariants(bytes, s, "mutation \(round)").isEmpty { rejected += 1 }
        }
        // Most mutations break something; the harness must actually be seeing diagnostics.
        #expect(rejected > 1000)
    }

    @Test("500 random token soups and 300 random byte strings all yield diagnostics")
    func randomFiles() throws {
        let s = try Scratch()
        var rng = SeededGenerator(seed: 42)
        let words = ConfigLoader.siteKeys + ConfigLoader.deviceKeys + ConfigLoader.busKeys
            + ["warehouse", "th-transmitter", "2s", "0", "-1", "true", "null", "~", "&x", "*x", "!!map", "0x7FFF", "1e308"]
        let syntax = [": ", "- ", "[", "]", "{", "}", ", ", "\n", "\n  ", "\n    ", "'", "\"", "# ", "? ", "|\n", ">\n", "---\n"]
        for round in 0..<500 {
            var text = ""
            for _ in 0..<Int.random(in: 1...80, using: &rng) {
                text += Bool.random(using: &rng) ? words.randomElement(using: &rng)! : syntax.randomElement(using: &rng)!
            }
            try Self.checkInvariants(Array(text.utf8), s, "soup \(round): \(text.debugDescription)", garbage: true)
        }
        for round in 0..<300 {
            let bytes = (0..<Int.random(in: 0...2048, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            try Self.checkInvariants(bytes, s, "random bytes \(round)", garbage: true)
        }
        for round in 0..<300 {
            // Printable ASCII only, so the YAML parser rather than the guard sees it.
            let bytes = (0..<Int.random(in: 0...512, using: &rng)).map { _ in
                Int.random(in: 0..<8, using: &rng) == 0 ? UInt8(0x0A) : UInt8.random(in: 0x20...0x7E, using: &rng)
            }
            try Self.checkInvariants(bytes, s, "random text \(round): \(String(decoding: bytes, as: UTF8.self).debugDescription)", garbage: true)
        }
    }

    // MARK: Inputs that once killed or hung the loader, each run in a child process so that a
    // regression fails its own test instead of the whole run.

    // Bug: SiteParser's `Int((poll * 1000).rounded())` traps once the product exceeds Int.max.
    @Test("an absurdly long poll interval is a diagnostic, not a trap", arguments: ["1e19", "1e300ms", "1e12d"])
    func hugePoll(_ poll: String) async throws {
        // The parent owns the files, so they are removed even when the child traps.
        let s = try Scratch()
        let path = try s.site(baseSite.replacingOccurrences(of: "poll: 2s", with: "poll: \(poll)"))
        await #expect(processExitsWith: .success) { [path = path as String] in
            _ = ConfigLoader.check(sitePath: path)
        }
    }

    // Bug: SiteParser's `Int(k)` for keepalive traps for k ≥ 2^63.
    @Test("an absurdly long broker keepalive is a diagnostic, not a trap")
    func hugeKeepalive() async throws {
        let s = try Scratch()
        let path = try s.site(baseSite.replacingOccurrences(of: "  url: mqtt://127.0.0.1:1883\n",
                                                           with: "  url: mqtt://127.0.0.1:1883\n  keepalive: 1e300\n"))
        await #expect(processExitsWith: .success) { [path = path as String] in
            _ = ConfigLoader.check(sitePath: path)
        }
    }

    // Bug (when Yams composed the tree): Yams hashed every mapping key to look for duplicates, and hashing
    // an alias walked the whole expanded tree (~387 million scalars here). TextGuard did not limit aliases.
    @Test("an alias bomb used as a mapping key is refused quickly, not hashed for minutes")
    func aliasBombAsKey() async throws {
        let s = try Scratch()
        var text = "a0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...9 { text += "a\(i): &l\(i) [" + Array(repeating: "*l\(i - 1)", count: 9).joined(separator: ", ") + "]\n" }
        text += "? *l9\n: boom\n"
        let path = try s.site(text)
        await #expect(processExitsWith: .success) { [path = path as String] in
            alarm(5)  // a hang becomes SIGALRM: this test fails instead of the run never ending
            if ConfigLoader.check(sitePath: path).isEmpty { exit(2) }
        }
    }
}

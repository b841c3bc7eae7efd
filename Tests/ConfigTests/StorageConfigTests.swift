import EdgeCore
import Testing
@testable import Config

/// `storage.commit_delay` (issue 9): the batching of flash writes, and the window a crash can lose.
@Suite("Storage settings")
struct StorageConfigTests {
    func load(_ scratch: Scratch, _ storage: String?) throws -> Site {
        try ConfigLoader.loadSite(path: try scratch.site(baseSite + (storage.map { "storage: \($0)\n" } ?? "")))
    }

    func diagnostics(_ scratch: Scratch, _ storage: String) throws -> [Located] {
        ConfigLoader.check(sitePath: try scratch.site(baseSite + "storage: \(storage)\n")).map(Located.init)
    }

    @Test("the commit delay defaults to 2 s, with or without a storage section; 0 commits every poll")
    func commitDelayValues() throws {
        let s = try Scratch()
        #expect(try load(s, nil).storage.commitDelay == 2)
        #expect(try load(s, "{ path: /var/lib/coop-edge/o.sqlite }").storage.commitDelay == StorageConfig.defaultCommitDelay)
        #expect(try load(s, "{ path: /var/lib/coop-edge/o.sqlite, commit_delay: 500ms }").storage.commitDelay == 0.5)
        #expect(try load(s, "{ path: /var/lib/coop-edge/o.sqlite, commit_delay: 0 }").storage.commitDelay == 0)
        #expect(try load(s, "{ path: /var/lib/coop-edge/o.sqlite, commit_delay: 5s }").storage.commitDelay == 5)
    }

    @Test("a commit delay that is not a duration, or longer than a minute, is refused at its line and column")
    func commitDelayErrors() throws {
        let s = try Scratch()
        let tooLong = try diagnostics(s, "{ path: /tmp/o.sqlite, commit_delay: 2m }")
        #expect(tooLong == [Located(14, 47, "storage.commit_delay",
                                    "'commit_delay' must be at most 60s (a killed agent can lose this much of its readings), or 0 to commit every poll")])
        let notADuration = try diagnostics(s, "{ path: /tmp/o.sqlite, commit_delay: soon }")
        #expect(notADuration.count == 1)
        #expect(notADuration.first?.path == "storage.commit_delay")
        #expect(notADuration.first?.line == 14 && notADuration.first?.column == 47)
        #expect(notADuration.first?.message.hasPrefix("'commit_delay' must be a duration such as 500ms") == true, "\(notADuration)")
        // A misspelt key gets the usual suggestion.
        let typo = try diagnostics(s, "{ path: /tmp/o.sqlite, comit_delay: 1s }")
        #expect(typo.first?.message == "unknown key 'comit_delay' — did you mean 'commit_delay'?", "\(typo)")
    }
}

import Testing
import EdgeCore

/// The small text helpers that replace Foundation's (the agent links FoundationEssentials only).
@Suite("Text helpers")
struct TextHelpersTests {
    @Test("a path's directory and last component, as NSString gave them")
    func paths() {
        #expect(FilePath.directory(of: "/var/lib/coop-edge/outbox.db") == "/var/lib/coop-edge")
        #expect(FilePath.directory(of: "outbox.db") == "")
        #expect(FilePath.directory(of: "/outbox.db") == "/")
        #expect(FilePath.directory(of: "state/outbox.db") == "state")
        #expect(FilePath.directory(of: "/var/lib/coop-edge/") == "/var/lib")
        #expect(FilePath.lastComponent(of: "/var/lib/coop-edge/outbox.db") == "outbox.db")
        #expect(FilePath.lastComponent(of: "outbox.db") == "outbox.db")
        #expect(FilePath.lastComponent(of: "/var/lib/") == "lib")
        #expect(FilePath.lastComponent(of: "/") == "/")
    }

    @Test("trimming keeps inner spaces; a password keeps its outer spaces")
    func trimming() {
        #expect("  fail cold-room-1 \r\n".trimmedOfWhitespace == "fail cold-room-1")
        #expect(" \t\n ".trimmedOfWhitespace == "")
        #expect("".trimmedOfWhitespace == "")
        #expect(" secret \n".trimmedOfNewlines == " secret ")
        #expect("pässwörd\r\n".trimmedOfNewlines == "pässwörd")
    }

    @Test("file stamps are UTC, sortable and colon-free")
    func fileStamp() {
        #expect(Timestamp.fileStamp(0) == "19700101-000000")
        // 2026-11-27 09:30:00 UTC
        let t = Double(Timestamp.days(year: 2026, month: 11, day: 27) * 86_400 + 9 * 3600 + 30 * 60) + 0.9
        #expect(Timestamp.fileStamp(t) == "20261127-093000")
        #expect(Timestamp.fileStamp(.nan) == "19700101-000000")
    }
}

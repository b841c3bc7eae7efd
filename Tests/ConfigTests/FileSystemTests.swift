import Foundation
import Testing
@testable import Config

/// Config's own file-system calls, which replaced Foundation's: the same answers NSString and
/// FileManager gave, and plain messages for what cannot be read.
@Suite("Config file system")
struct FileSystemTests {
    @Test("path text matches NSString's path methods", arguments: [
        "sites/demo.yaml", "demo.yaml", "/demo.yaml", "/", "", "a/b/", "a//b//c.yaml", "/etc/coop-edge/site.yaml",
        "profiles/th.v2.yaml", ".hidden", "dir/.hidden", "a/b.", "../sites/x.yaml", "..", "./x.yaml",
    ])  // not ".": swift-corelibs-foundation's deletingLastPathComponent traps on it
    func pathText(_ path: String) {
        let ns = path as NSString
        #expect(FileSystem.lastComponent(path) == ns.lastPathComponent)
        #expect(FileSystem.deletingLastComponent(path) == ns.deletingLastPathComponent)
        #expect(FileSystem.deletingExtension(FileSystem.lastComponent(path)) == (ns.lastPathComponent as NSString).deletingPathExtension)
    }

    @Test("reading: missing, a folder, too large, and a file")
    func reading() throws {
        let s = try Scratch(copyProfiles: false)
        let missing = s.sites.appendingPathComponent("nope.yaml").path
        #expect(FileSystem.readFile(missing, limit: 10) == .failure(.missing))
        #expect(FileSystem.readFile(s.sites.path, limit: 10) == .failure(.failed(reason: "it is a folder, not a file")))
        let path = try s.site("coop: x\n")
        #expect(FileSystem.readFile(path, limit: 10) == .success(Array("coop: x\n".utf8)))
        #expect(FileSystem.readFile(path, limit: 4) == .failure(.tooLarge(size: 8)))
        #expect(FileSystem.exists(path) && !FileSystem.exists(missing))
        #expect(FileSystem.contentsOfDirectory(s.sites.path) == ["site.yaml"])
        #expect(FileSystem.contentsOfDirectory(missing) == [])
        #expect(FileSystem.realPath(s.sites.path + "/../sites/site.yaml") == URL(fileURLWithPath: path).resolvingSymlinksInPath().path)

        // What the loader says about a folder given as the site file.
        #expect(ConfigLoader.check(sitePath: s.sites.path) == [
            ConfigDiagnostic(file: s.sites.path, line: 1, column: 1, path: "", message: "cannot read \(s.sites.path): it is a folder, not a file"),
        ])
    }
}

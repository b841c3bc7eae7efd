#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The few file-system calls Config makes, on the C library, so that Config needs no Foundation
/// (and a statically linked agent carries no ICU). Each call turns `-1`/`errno` into a plain value
/// here and nowhere else. All of them block: Config runs at start-up and from the command line.
enum FileSystem {
    /// Why a file could not be read, in words an installer acts on.
    enum ReadFailure: Error, Equatable {
        case missing
        case permissionDenied
        /// Larger than the limit; `size` is what `fstat` says (or the bytes read, for a pipe).
        case tooLarge(size: Int)
        case failed(reason: String)
    }

    /// The whole file, or why not. Reads at most `limit` bytes plus one chunk, so an oversized file
    /// is refused without being read to its end. (`open`, `read`, `fstat`)
    static func readFile(_ path: String, limit: Int) -> Result<[UInt8], ReadFailure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR: return .failure(.missing)
            case EACCES, EPERM: return .failure(.permissionDenied)
            default: return .failure(.failed(reason: describe(code)))
            }
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count <= limit {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                return .failure(.failed(reason: code == EISDIR ? "it is a folder, not a file" : describe(code)))
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[..<n])
        }
        if bytes.count > limit {
            var info = stat()
            let size = fstat(fd, &info) == 0 && Int(info.st_size) > bytes.count ? Int(info.st_size) : bytes.count
            return .failure(.tooLarge(size: size))
        }
        return .success(bytes)
    }

    /// Whether `path` names something, following symbolic links (`stat`).
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// The names in a folder, without `.` and `..`, in no particular order; empty when it cannot be
    /// read. (`opendir`, `readdir`)
    static func contentsOfDirectory(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            var raw = entry.pointee.d_name
            let name = withUnsafeBytes(of: &raw) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The canonical path (links and `..` resolved), or nil when it does not exist now. (`realpath`)
    static func realPath(_ path: String) -> String? {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        return String(cString: real)
    }

    static func describe(_ code: Int32) -> String {
        strerror(code).map { String(cString: $0) } ?? "error \(code)"
    }

    // MARK: Path text, as NSString's path methods treat it (repeated and trailing slashes ignored)

    /// `a//b/` → `a/b`; `/` stays `/`.
    static func normalized(_ path: String) -> String {
        var out = ""
        for c in path where !(c == "/" && out.hasSuffix("/")) { out.append(c) }
        if out.count > 1 && out.hasSuffix("/") { out.removeLast() }
        return out
    }

    /// `sites/demo.yaml` → `demo.yaml`.
    static func lastComponent(_ path: String) -> String {
        let p = normalized(path)
        guard p != "/", let slash = p.lastIndex(of: "/") else { return p }
        return String(p[p.index(after: slash)...])
    }

    /// `sites/demo.yaml` → `sites`; `demo.yaml` → empty; `/demo.yaml` → `/`.
    static func deletingLastComponent(_ path: String) -> String {
        let p = normalized(path)
        guard p != "/", let slash = p.lastIndex(of: "/") else { return p == "/" ? p : "" }
        return slash == p.startIndex ? "/" : String(p[..<slash])
    }

    /// `profiles/th.yaml` → `profiles/th`; a leading dot (`.hidden`, `..`) is not an extension.
    static func deletingExtension(_ path: String) -> String {
        let p = normalized(path)
        let name = lastComponent(p)
        guard name != "..", let dot = name.lastIndex(of: "."), dot != name.startIndex else { return p }
        return String(p.dropLast(name.distance(from: dot, to: name.endIndex)))
    }
}

/// Checks a file's raw bytes before the YAML parser sees them, so that no input — binary garbage,
/// a 10 MB file, ten thousand nested brackets — can crash or hang the parser.
enum TextGuard {
    static let maxBytes = 1 << 20
    static let maxDepth = 64
    static let maxIndent = 256
    /// Aliases let a small file expand into a huge tree ("billion laughs").
    static let maxAliases = 32

    /// The text, or a diagnostic that says what is wrong with the file as a whole.
    static func text(from bytes: [UInt8], file: String) -> Result<String, ConfigDiagnostic> {
        func fail(_ line: Int, _ column: Int, _ message: String) -> Result<String, ConfigDiagnostic> {
            .failure(ConfigDiagnostic(file: file, line: line, column: column, path: "", message: message))
        }
        if bytes.count > maxBytes {
            let mb = Double(bytes.count) / 1_048_576
            return fail(1, 1, "file is \((mb * 10).rounded() / 10) MiB; a configuration file may be at most 1 MiB — is this the right file?")
        }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            return fail(1, 1, "file is empty")
        }
        var line = 1, column = 1
        var depth = 0
        var quote: UInt8? = nil
        var inComment = false
        var lineStart = true
        var dashes = 0
        var aliases = 0
        var previous: UInt8? = nil
        for b in bytes {
            defer { previous = b }
            if b == 0 { return fail(line, column, "file contains a NUL byte: this is binary data, not YAML text") }
            if b == 0x0A {
                line += 1; column = 1; inComment = false; lineStart = true; dashes = 0
                if quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") { /* multi-line quoted scalars are legal */ }
                continue
            }
            if b < 0x20 && b != 0x09 && b != 0x0D {
                return fail(line, column, "file contains control byte 0x\(String(b, radix: 16)): this is binary data, not YAML text")
            }
            defer { column += (b & 0xC0) == 0x80 ? 0 : 1 }
            if inComment { continue }
            if let q = quote { if b == q { quote = nil }; continue }
            switch b {
            case UInt8(ascii: "#"): inComment = true
            case UInt8(ascii: "*") where previous == nil || previous == UInt8(ascii: " ") || previous == UInt8(ascii: "[") || previous == UInt8(ascii: ",") || previous == UInt8(ascii: ":") || previous == UInt8(ascii: "-") || previous == UInt8(ascii: "?") || previous == UInt8(ascii: "{"):
                aliases += 1
                if aliases > maxAliases {
                    return fail(line, column, "more than \(maxAliases) YAML aliases (*name): a site file never needs this many")
                }
            case UInt8(ascii: "'"), UInt8(ascii: "\""): quote = b
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maxDepth { return fail(line, column, "nesting deeper than \(maxDepth) levels: a site file never needs this") }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth = max(0, depth - 1)
            case UInt8(ascii: "-") where lineStart:
                dashes += 1
                if dashes > maxDepth { return fail(line, column, "nesting deeper than \(maxDepth) levels: a site file never needs this") }
            case UInt8(ascii: " "):
                if lineStart && column > maxIndent {
                    return fail(line, column, "indented more than \(maxIndent) columns: a site file never needs this")
                }
            default: lineStart = false
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let (l, c) = firstInvalidUTF8(bytes)
            return fail(l, c, "file is not UTF-8 text (invalid byte here): save it as UTF-8")
        }
        return .success(text)
    }

    /// Line and column of the first byte that breaks UTF-8.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> (Int, Int) {
        var line = 1, column = 1, i = 0
        while i < bytes.count {
            let b = bytes[i]
            let need: Int
            // Second-byte ranges per RFC 3629 exclude overlongs, surrogates and code points past U+10FFFF.
            var second: ClosedRange<UInt8> = 0x80...0xBF
            switch b {
            case 0x00...0x7F: need = 0
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; second = 0xA0...0xBF
            case 0xED: need = 2; second = 0x80...0x9F
            case 0xE1...0xEF: need = 2
            case 0xF0: need = 3; second = 0x90...0xBF
            case 0xF4: need = 3; second = 0x80...0x8F
            case 0xF1...0xF3: need = 3
            default: return (line, column)
            }
            if i + need >= bytes.count && need > 0 { return (line, column) }
            if need > 0 && !second.contains(bytes[i + 1]) { return (line, column) }
            for k in 0..<need where bytes[i + 1 + k] & 0xC0 != 0x80 { return (line, column) }
            if b == 0x0A { line += 1; column = 1 } else { column += 1 }
            i += need + 1
        }
        return (line, column)
    }
}

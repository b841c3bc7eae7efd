/// Walks a composed YAML tree against a schema, collecting every problem with its line, column
/// and field path instead of stopping at the first.
final class NodeReader {
    let file: String
    private(set) var diagnostics: [ConfigDiagnostic] = []

    init(file: String) { self.file = file }

    /// Records a problem at `node`'s start, or at the top of the file when there is no node.
    func report(_ node: YAMLNode?, _ path: String, _ message: String) {
        let mark = node?.mark ?? YAMLNode.Mark(line: 1, column: 1)
        diagnostics.append(ConfigDiagnostic(file: file, line: mark.line, column: mark.column, path: path, message: message))
    }

    /// A mapping's fields, checked against the keys the schema allows.
    final class Fields {
        let reader: NodeReader
        let node: YAMLNode
        let path: String
        private(set) var pairs: [(key: String, keyNode: YAMLNode, value: YAMLNode)] = []

        init(reader: NodeReader, node: YAMLNode, path: String, allowed: [String]) {
            self.reader = reader
            self.node = node
            self.path = path
            guard case .mapping(let mapping) = node else { return }
            for (k, v) in mapping {
                guard case .scalar(let s) = k else {
                    reader.report(k, path, "a key must be plain text")
                    continue
                }
                if !allowed.contains(s.string) {
                    var message = "unknown key '\(s.string)'"
                    if let near = Spelling.nearest(s.string, in: allowed) { message += " — did you mean '\(near)'?" }
                    else { message += " (allowed here: \(allowed.joined(separator: ", ")))" }
                    reader.report(k, Fields.join(path, s.string), message)
                    continue
                }
                pairs.append((s.string, k, v))
            }
        }

        static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

        func node(_ key: String) -> YAMLNode? { pairs.first { $0.key == key }?.value }
        func has(_ key: String) -> Bool { node(key) != nil }
        func sub(_ key: String) -> String { Fields.join(path, key) }

        func missing(_ key: String, _ hint: String = "") {
            reader.report(node, path, "missing field '\(key)'" + (hint.isEmpty ? "" : " — \(hint)"))
        }

        func string(_ key: String, required: Bool = false, hint: String = "") -> String? {
            guard let n = node(key) else { if required { missing(key, hint) }; return nil }
            guard case .scalar(let s) = n else { reader.report(n, sub(key), "'\(key)' must be text, not \(kind(n))"); return nil }
            if required && s.string.isEmpty { reader.report(n, sub(key), "'\(key)' must not be empty"); return nil }
            return s.string
        }

        func int(_ key: String, required: Bool = false, range: ClosedRange<Int>? = nil) -> Int? {
            guard let n = node(key) else { if required { missing(key) }; return nil }
            guard case .scalar(let s) = n, s.style == .plain, let v = Self.parseInt(s.string) else {
                reader.report(n, sub(key), "'\(key)' must be a whole number, not \(describe(n))")
                return nil
            }
            if let range, !range.contains(v) {
                reader.report(n, sub(key), "'\(key)' is \(v); it must be between \(range.lowerBound) and \(range.upperBound)")
                return nil
            }
            return v
        }

        func double(_ key: String, required: Bool = false) -> Double? {
            guard let n = node(key) else { if required { missing(key) }; return nil }
            return reader.double(n, sub(key), key)
        }

        func bool(_ key: String) -> Bool? {
            guard let n = node(key) else { return nil }
            guard case .scalar(let s) = n, s.style == .plain else {
                reader.report(n, sub(key), "'\(key)' must be true or false, not \(describe(n))"); return nil
            }
            switch s.string.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: reader.report(n, sub(key), "'\(key)' must be true or false, not '\(s.string)'"); return nil
            }
        }

        /// A duration: `500ms`, `10s`, `15m`, `2h`, `1d`, or a plain number of seconds.
        func duration(_ key: String, required: Bool = false) -> Double? {
            guard let n = node(key) else { if required { missing(key) }; return nil }
            guard case .scalar(let s) = n, let v = Self.parseDuration(s.string) else {
                reader.report(n, sub(key), "'\(key)' must be a duration such as 500ms, 10s, 15m or 1h (at most a year), not \(describe(n))")
                return nil
            }
            return v
        }

        func choice<T: RawRepresentable>(_ key: String, _ type: T.Type, required: Bool = false) -> T? where T.RawValue == String, T: CaseIterable {
            guard let raw = string(key, required: required) else { return nil }
            if let v = T(rawValue: raw) ?? T(rawValue: raw.uppercased()) ?? T(rawValue: raw.lowercased()) { return v }
            let options = T.allCases.map(\.rawValue)
            var message = "'\(key)' is '\(raw)'; it must be one of \(options.joined(separator: ", "))"
            if let near = Spelling.nearest(raw, in: options) { message += " — did you mean '\(near)'?" }
            reader.report(node(key), sub(key), message)
            return nil
        }

        func mapping(_ key: String, required: Bool = false, allowed: [String]) -> Fields? {
            guard let n = node(key) else { if required { missing(key) }; return nil }
            return reader.mapping(n, sub(key), allowed: allowed)
        }

        func sequence(_ key: String, required: Bool = false) -> [YAMLNode]? {
            guard let n = node(key) else { if required { missing(key) }; return nil }
            guard case .sequence(let seq) = n else {
                reader.report(n, sub(key), "'\(key)' must be a list, not \(kind(n))"); return nil
            }
            return Array(seq)
        }

        static func parseInt(_ s: String) -> Int? {
            let t = s.filter { $0 != "_" }
            if t.hasPrefix("0x") || t.hasPrefix("0X") { return Int(t.dropFirst(2), radix: 16) }
            return Int(t)
        }

        /// `s` without leading and trailing spaces and tabs (Foundation's `.whitespaces`).
        static func trimmed(_ s: some StringProtocol) -> String {
            func blank(_ c: Character) -> Bool { c.isWhitespace && !c.isNewline }
            guard let first = s.firstIndex(where: { !blank($0) }), let last = s.lastIndex(where: { !blank($0) }) else { return "" }
            return String(s[first...last])
        }

        static func parseDuration(_ s: String) -> Double? {
            let t = trimmed(s)
            let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
            // Anything beyond a year is a typo, and would overflow when turned into milliseconds.
            let limit = 366.0 * 86_400
            for (suffix, factor) in units where t.hasSuffix(suffix) {
                let number = trimmed(t.dropLast(suffix.count))
                if let v = Double(number), v.isFinite, v >= 0, v * factor <= limit { return v * factor }
                return nil
            }
            if let v = Double(t), v.isFinite, v >= 0, v <= limit { return v }
            return nil
        }
    }

    func mapping(_ node: YAMLNode, _ path: String, allowed: [String]) -> Fields? {
        guard case .mapping = node else {
            report(node, path, "'\(path.split(separator: ".").last.map(String.init) ?? "document")' must be a mapping of key: value, not \(kind(node))")
            return nil
        }
        return Fields(reader: self, node: node, path: path, allowed: allowed)
    }

    func double(_ n: YAMLNode, _ path: String, _ name: String) -> Double? {
        guard case .scalar(let s) = n, s.style == .plain else {
            report(n, path, "'\(name)' must be a number, not \(describe(n))"); return nil
        }
        let text = s.string.filter { $0 != "_" }
        if let i = Fields.parseInt(text) { return Double(i) }
        guard let v = Double(text), v.isFinite else {
            report(n, path, "'\(name)' must be a number, not '\(s.string)'"); return nil
        }
        return v
    }
}

func kind(_ node: YAMLNode) -> String {
    switch node {
    case .scalar: "text"
    case .mapping: "a mapping"
    case .sequence: "a list"
    }
}

func describe(_ node: YAMLNode) -> String {
    if case .scalar(let s) = node {
        let v = s.string.count > 40 ? String(s.string.prefix(40)) + "…" : s.string
        return "'\(v)'"
    }
    return kind(node)
}

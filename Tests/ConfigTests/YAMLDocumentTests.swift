import Testing
@testable import Config

/// The YAML composer on libyaml's event parser: the tree it builds, where it says each node starts,
/// and what it refuses.
@Suite("YAML document")
struct YAMLDocumentTests {
    /// The tree without marks, in flow style: plain scalars bare, quoted ones quoted, block scalars
    /// as `|"…"` and `>"…"`, a tag as `!<tag>`. Two texts with equal shapes mean the same data.
    static func shape(_ node: YAMLNode) -> String {
        switch node {
        case .scalar(let s):
            let tag = s.tag.map { "!<\($0)> " } ?? ""
            let text = switch s.style {
            case .plain: s.string
            case .singleQuoted: "'\(s.string)'"
            case .doubleQuoted: "\"\(s.string)\""
            case .literal: "|\(s.string.debugDescription)"
            case .folded: ">\(s.string.debugDescription)"
            }
            return tag + text
        case .sequence(let items):
            return "[" + items.map(shape).joined(separator: ", ") + "]"
        case .mapping(let pairs):
            return "{" + pairs.map { "\(shape($0.key)): \(shape($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    static func compose(_ text: String) throws(YAMLError) -> YAMLNode? { try YAMLDocument.compose(text) }

    /// The error `text` is refused with.
    static func failure(_ text: String, maxAliasExpansion: Int = YAMLDocument.maxAliasExpansion) -> YAMLError? {
        do {
            _ = try YAMLDocument.compose(text, maxAliasExpansion: maxAliasExpansion)
            return nil
        } catch {
            return error
        }
    }

    /// What the loader reports for a whole file, as `Located`.
    static func diagnostics(_ text: String) -> [Located] {
        diagnostics(Array(text.utf8))
    }

    static func diagnostics(_ bytes: [UInt8]) -> [Located] {
        var found: [ConfigDiagnostic] = []
        _ = ConfigLoader.compose(bytes: bytes, file: "f.yaml", diagnostics: &found)
        return found.map(Located.init)
    }

    func mapping(_ node: YAMLNode?) throws -> YAMLNode.Mapping {
        guard case .mapping(let m) = try #require(node) else { throw Failure("not a mapping: \(String(describing: node))") }
        return m
    }

    struct Failure: Error, CustomStringConvertible { var description: String; init(_ d: String) { description = d } }

    @Test("block and flow styles compose to the same tree, keys in file order")
    func blockAndFlow() throws {
        let block = try Self.compose("""
            coop: example
            buses:
              - name: warehouse
                tcp:
                  host: 127.0.0.1
                  port: 1502
              - name: shed
            empty:
            """)
        let flow = try Self.compose("{coop: example, buses: [{name: warehouse, tcp: {host: 127.0.0.1, port: 1502}}, {name: shed}], empty: }")
        let expected = "{coop: example, buses: [{name: warehouse, tcp: {host: 127.0.0.1, port: 1502}}, {name: shed}], empty: }"
        #expect(try Self.shape(#require(block)) == expected)
        #expect(try Self.shape(#require(flow)) == expected)
    }

    @Test("every node starts where libyaml says: 1-based line and column, columns in Unicode scalars")
    func marks() throws {
        let m = try mapping(Self.compose("""
            # a comment
            coop: example
            devices:
              - name: é-room
                slave: [1, 2]
            """))
        #expect(m.mark == YAMLNode.Mark(line: 2, column: 1))
        #expect(m[0].key.mark == YAMLNode.Mark(line: 2, column: 1))
        #expect(m[0].value.mark == YAMLNode.Mark(line: 2, column: 7))
        guard case .sequence(let devices) = m[1].value, case .mapping(let device) = devices[0] else { throw Failure("devices") }
        #expect(devices.mark == YAMLNode.Mark(line: 4, column: 3))
        #expect(device.mark == YAMLNode.Mark(line: 4, column: 5))  // a block mapping starts at its first key
        guard case .sequence(let slave) = device[1].value else { throw Failure("slave") }
        #expect(slave.mark == YAMLNode.Mark(line: 5, column: 12))
        #expect(slave[1].mark == YAMLNode.Mark(line: 5, column: 16))
        // é is two bytes but one column.
        let accented = try mapping(Self.compose("é: [x, y]"))
        guard case .sequence(let xy) = accented[0].value else { throw Failure("xy") }
        #expect(xy[1].mark == YAMLNode.Mark(line: 1, column: 8))
    }

    @Test("quoted, block and tagged scalars keep their style; only plain ones are numbers to the reader")
    func scalarStyles() throws {
        let m = try mapping(Self.compose("""
            plain: 3
            double: "3"
            single: '3'
            literal: |
              line one
              line two
            folded: >
              one
              two
            tagged: !!str 3
            nul: "a\\0b"
            """))
        #expect(m.map { Self.shape($0.value) } == [
            "3", "\"3\"", "'3'", "|\"line one\\nline two\\n\"", ">\"one two\\n\"", "!<tag:yaml.org,2002:str> 3", "\"a\u{0}b\"",
        ])
        guard case .scalar(let nul) = m[6].value else { throw Failure("nul") }
        #expect(Array(nul.string.utf8) == [0x61, 0, 0x62])

        let r = NodeReader(file: "f.yaml")
        let fields = NodeReader.Fields(reader: r, node: .mapping(m), path: "", allowed: m.compactMap {
            if case .scalar(let s) = $0.key { s.string } else { nil }
        })
        #expect(fields.int("plain") == 3)
        #expect(fields.int("double") == nil)
        #expect(fields.int("single") == nil)
        #expect(r.diagnostics.map(Located.init) == [
            Located(2, 9, "double", "'double' must be a whole number, not '3'"),
            Located(3, 9, "single", "'single' must be a whole number, not '3'"),
        ])
    }

    @Test("an alias is the node its anchor names, mark included")
    func aliases() throws {
        let m = try mapping(Self.compose("""
            defaults: &tcp { host: 127.0.0.1, port: 502 }
            name: &n warehouse
            bus: *tcp
            again: *n
            """))
        #expect(m[2].value == m[0].value)
        #expect(m[3].value == m[1].value)
        #expect(m[2].value.mark == YAMLNode.Mark(line: 1, column: 11))
        // A later anchor of the same name replaces the earlier one.
        let shadow = try mapping(Self.compose("a: &x 1\nb: &x 2\nc: *x\n"))
        #expect(Self.shape(shadow[2].value) == "2")
    }

    @Test("an alias with no anchor before it, or to a node still open, is refused where it stands")
    func undefinedAlias() {
        let e = Self.failure("coop: *nope\n")
        #expect(e?.code == .undefinedAlias)
        #expect(e?.mark == YAMLNode.Mark(line: 1, column: 7))
        #expect(e?.message == "not valid YAML: found undefined alias '*nope' (no node anchored &nope ends before it)")
        // A node cannot contain itself.
        #expect(Self.failure("a: &loop [1, *loop]\n")?.code == .undefinedAlias)
    }

    @Test("an alias bomb is refused with a clear error before its tree grows")
    func aliasBomb() throws {
        // Four levels of ten: 30 aliases (under TextGuard's 32) that expand to over 12 000 nodes.
        var text = "l0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...3 { text += "l\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let e = try #require(Self.failure(text))
        #expect(e.code == .aliasExpansion)
        #expect(e.mark.line == 4)
        let message = "YAML aliases (*name) expand this file by more than 10000 nodes: a site file never needs this"
        #expect(e.message == message)
        #expect(Self.diagnostics(text) == [Located(e.mark.line, e.mark.column, "", message)])
        // The first three levels (1 220 nodes from aliases) are fine; a lower cap refuses them too.
        let small = text.split(separator: "\n").prefix(3).joined(separator: "\n")
        #expect(Self.failure(small) == nil)
        #expect(Self.failure(small, maxAliasExpansion: 1_000)?.code == .aliasExpansion)
        // The classic nine levels of nine: refused at its fifth line instead of walking 387 million nodes.
        var laughs = "lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...9 { laughs += "lol\(i): &l\(i) [" + Array(repeating: "*l\(i - 1)", count: 9).joined(separator: ", ") + "]\n" }
        #expect(Self.failure(laughs)?.code == .aliasExpansion)
        #expect(Self.failure(laughs)?.mark.line == 5)
    }

    @Test("a repeated key is refused at the repeat, naming the first")
    func duplicateKeys() throws {
        let message = "duplicate key 'a': each key may appear once in a mapping"
        #expect(Self.diagnostics("a: 1\nb: 2\na: 3\n") == [Located(3, 1, "", message + " (first at line 1)")])
        // In a flow mapping the repeat is on the same line: its column says which.
        #expect(Self.diagnostics("x: {a: 1, b: 2, a: 3}\n") == [Located(1, 17, "", message)])
        // Nested, quoted and aliased keys compare as text; every repeated key is named.
        #expect(Self.diagnostics("top:\n  b: 1\n  \"a\": 2\n  b: 3\n  'a': 4\n")
                == [Located(5, 3, "", "duplicate key 'a', 'b': each key may appear once in a mapping (first at line 3)")])
        #expect(Self.diagnostics("k: &k a\nm:\n  a: 1\n  *k : 2\n") == [Located(4, 3, "", message + " (first at line 3)")])
        // Equal keys in different mappings are fine.
        #expect(Self.diagnostics("x: {a: 1}\ny: {a: 1}\n") == [])
    }

    @Test("a syntax error is reported with libyaml's words at its line and column")
    func syntaxError() throws {
        let unclosed = try #require(Self.failure("coop: x\nbuses: [a, b\nsite: y\n"))
        #expect(unclosed.code == .syntax)
        #expect(Self.diagnostics("coop: x\nbuses: [a, b\nsite: y\n") == [Located(unclosed.mark.line, unclosed.mark.column, "", unclosed.message)])
        #expect(unclosed.message.hasPrefix("not valid YAML: "))
        let colon = try #require(Self.failure("coop: x\nsite: y: z\n"))
        #expect(colon == YAMLError(.syntax, YAMLNode.Mark(line: 2, column: 8),
                                   "not valid YAML: mapping values are not allowed in this context"))
    }

    @Test("a tab used for indentation is refused at the tab")
    func tabIndentation() throws {
        let e = try #require(Self.failure("coop: x\nbroker:\n\turl: mqtt://h\n"))
        #expect(e.code == .syntax)
        #expect(e.mark == YAMLNode.Mark(line: 3, column: 1))
        #expect(e.message == "not valid YAML: found character that cannot start any token (while scanning for the next token at line 3)")
    }

    @Test("empty files, comments only and bare document markers")
    func emptyDocuments() throws {
        #expect(try Self.compose("") == nil)
        #expect(try Self.compose("# only a comment\n\n# and another\n") == nil)
        #expect(Self.diagnostics("") == [Located(1, 1, "", "file is empty")])
        #expect(Self.diagnostics("# only a comment\n") == [Located(1, 1, "", "file holds no YAML document")])
        // `---` alone is a document holding one empty plain scalar.
        #expect(try Self.compose("---\n...\n") == .scalar(YAMLNode.Scalar(string: "", style: .plain, mark: YAMLNode.Mark(line: 2, column: 1))))
    }

    @Test("a second document is refused at its start")
    func multipleDocuments() throws {
        let e = try #require(Self.failure("coop: a\n---\ncoop: b\n"))
        #expect(e.code == .multipleDocuments)
        #expect(e.mark == YAMLNode.Mark(line: 2, column: 1))
        #expect(Self.diagnostics("coop: a\n---\ncoop: b\n") == [Located(2, 1, "", e.message)])
        #expect(e.message.contains("a second YAML document starts here"))
        // One explicit document is fine.
        #expect(Self.failure("---\ncoop: a\n...\n") == nil)
    }

    @Test("bytes that are not UTF-8 text stop at TextGuard; characters libyaml refuses are located")
    func unreadable() throws {
        #expect(Self.diagnostics(Array("coop: caf".utf8) + [0xE9, 0x0A])
                == [Located(1, 10, "", "file is not UTF-8 text (invalid byte here): save it as UTF-8")])
        // DEL is UTF-8, but YAML does not allow it.
        let e = try #require(Self.failure("coop: é\nsite: a\u{7F}b\n"))
        #expect(e == YAMLError(.unreadable, YAMLNode.Mark(line: 2, column: 8), "file cannot be read as text: control characters are not allowed"))
    }

    @Test("nesting is refused past 64 levels, however it is written; the composer itself is not recursive", .timeLimit(.minutes(1)))
    func deepNesting() throws {
        let message = "nesting deeper than 64 levels: a site file never needs this"
        #expect(try Self.compose(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)) != nil)
        #expect(Self.failure(String(repeating: "[", count: 65) + String(repeating: "]", count: 65))
                == YAMLError(.tooDeep, YAMLNode.Mark(line: 1, column: 65), message))
        // Block mappings, which TextGuard's bracket count does not see.
        let block = (0..<70).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " v\n"
        #expect(Self.diagnostics(block) == [Located(65, 65, "", message)])
        // An apostrophe hides the brackets from TextGuard; libyaml 0.2.5 alone took minutes on this.
        let hidden = "coop: it's\nsite: " + String(repeating: "[", count: 200_000) + "\n"
        #expect(Self.diagnostics(hidden) == [Located(2, 70, "", message)])
        // Raised, the limit lets 2 000 levels through without overflowing the stack.
        let depth = 2_000
        let node = try #require(try YAMLDocument.compose(String(repeating: "[", count: depth) + String(repeating: "]", count: depth), maxDepth: depth))
        var level = 1
        var current = node
        while case .sequence(let s) = current, let first = s.first { current = first; level += 1 }
        #expect(level == depth)
    }
}

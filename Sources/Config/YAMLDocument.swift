internal import CYAML

/// Composes YAML text into one `YAMLNode` tree on libyaml's event parser (`yaml_parser_parse`), the
/// only place in Config that talks to libyaml.
///
/// Each event is copied into Swift values and freed (`yaml_event_delete`) before the next is read,
/// and the parser is freed on every exit path. The tree is built with an explicit stack, so deep
/// nesting cannot overflow the thread's stack. Refused, with the position to fix:
/// - what libyaml's reader, scanner or parser refuses (`not valid YAML: …` with libyaml's words);
/// - a mapping that repeats a key (compared as text), marked at the repeat;
/// - an alias with no complete anchored node before it;
/// - aliases that expand the tree by more than `maxAliasExpansion` nodes ("billion laughs": a few
///   hundred bytes that expand to gigabytes for whoever walks the tree);
/// - collections nested more than `maxDepth` deep;
/// - a second document.
/// An alias shares its anchored node's storage (and its mark); only walking the tree pays for it.
enum YAMLDocument {
    /// Nodes that aliases may add to a document, counting each alias as the whole subtree it names.
    /// A site file that reuses a few anchored settings stays far below; a bomb passes it within a
    /// few levels.
    static let maxAliasExpansion = 10_000
    /// Collections inside collections. libyaml 0.2.5 has no limit of its own, and its scanner takes
    /// time quadratic in the depth (200 000 `[` took minutes): stopping here stops it reading on.
    static let maxDepth = 64

    /// The document's root, or nil when the text holds no document (only comments, or nothing).
    static func compose(_ text: String, maxAliasExpansion: Int = maxAliasExpansion, maxDepth: Int = maxDepth) throws(YAMLError) -> YAMLNode? {
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) == 1 else {
            throw YAMLError(.outOfMemory, YAMLNode.Mark(line: 1, column: 1), "libyaml could not allocate its parser")
        }
        defer { yaml_parser_delete(parser) }
        // The text is valid UTF-8 (TextGuard); saying so keeps libyaml from guessing from a BOM.
        yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
        let bytes = Array(text.utf8)
        let result = bytes.withUnsafeBufferPointer { buffer -> Result<YAMLNode?, YAMLError> in
            // yaml_parser_set_input_string asserts a non-null pointer; an empty stream has no document.
            guard let base = buffer.baseAddress else { return .success(nil) }
            // libyaml reads from `buffer` until the parser is deleted: every parse happens in here.
            yaml_parser_set_input_string(parser, base, buffer.count)
            var composer = Composer(parser: parser, bytes: buffer, maxAliasExpansion: maxAliasExpansion, maxDepth: maxDepth)
            return Result { () throws(YAMLError) -> YAMLNode? in try composer.document() }
        }
        return try result.get()
    }
}

/// One libyaml event, copied out of C memory.
private enum Event {
    case streamStart, streamEnd
    case documentStart(YAMLNode.Mark), documentEnd
    case alias(anchor: String, YAMLNode.Mark)
    case scalar(YAMLNode.Scalar, anchor: String?)
    case sequenceStart(anchor: String?, YAMLNode.Mark), sequenceEnd
    case mappingStart(anchor: String?, YAMLNode.Mark), mappingEnd
}

/// A collection being composed: its children so far and where it started.
private struct Frame {
    var isMapping: Bool
    var anchor: String?
    var mark: YAMLNode.Mark
    var items: [YAMLNode] = []
    var pairs: [(key: YAMLNode, value: YAMLNode)] = []
    /// Where each key appears in the text (for an alias key, the alias, not its anchor).
    var keyMarks: [YAMLNode.Mark] = []
    var pendingKey: (node: YAMLNode, at: YAMLNode.Mark)? = nil
    /// Nodes in this subtree, each alias counted as the subtree it names.
    var size = 1
}

private struct Composer {
    let parser: UnsafeMutablePointer<yaml_parser_t>
    /// The text libyaml reads, for locating reader errors.
    let bytes: UnsafeBufferPointer<UInt8>
    let maxAliasExpansion: Int
    let maxDepth: Int
    /// Complete anchored nodes and their sizes; a later anchor of the same name replaces an earlier one.
    var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    /// Nodes added by aliases so far.
    var expansion = 0

    init(parser: UnsafeMutablePointer<yaml_parser_t>, bytes: UnsafeBufferPointer<UInt8>, maxAliasExpansion: Int, maxDepth: Int) {
        self.parser = parser
        self.bytes = bytes
        self.maxAliasExpansion = maxAliasExpansion
        self.maxDepth = maxDepth
    }

    mutating func document() throws(YAMLError) -> YAMLNode? {
        _ = try next()  // STREAM-START
        guard case .documentStart = try next() else { return nil }  // STREAM-END: comments only
        let root = try node(try next())
        _ = try next()  // DOCUMENT-END; a syntax error after the root surfaces here
        if case .documentStart(let mark) = try next() {
            throw YAMLError(.multipleDocuments, mark,
                            "a second YAML document starts here: a configuration file holds exactly one (is a '---' line left over from joining two files?)")
        }
        return root
    }

    /// The node that starts with `first`, read to its end.
    mutating func node(_ first: Event) throws(YAMLError) -> YAMLNode {
        var stack: [Frame] = []
        var event = first
        while true {
            // A node completed by this event, where it appears, and its size.
            let done: (node: YAMLNode, at: YAMLNode.Mark, size: Int)
            switch event {
            case .scalar(let scalar, let anchor):
                let node = YAMLNode.scalar(scalar)
                if let anchor { anchors[anchor] = (node, 1) }
                done = (node, scalar.mark, 1)
            case .alias(let anchor, let mark):
                guard let target = anchors[anchor] else {
                    throw YAMLError(.undefinedAlias, mark, "not valid YAML: found undefined alias '*\(anchor)' (no node anchored &\(anchor) ends before it)")
                }
                expansion += target.size
                if expansion > maxAliasExpansion {
                    throw YAMLError(.aliasExpansion, mark,
                                    "YAML aliases (*name) expand this file by more than \(maxAliasExpansion) nodes: a site file never needs this")
                }
                done = (target.node, mark, target.size)
            case .sequenceStart(let anchor, let mark), .mappingStart(let anchor, let mark):
                guard stack.count < maxDepth else {
                    throw YAMLError(.tooDeep, mark, "nesting deeper than \(maxDepth) levels: a site file never needs this")
                }
                let isMapping = if case .mappingStart = event { true } else { false }
                stack.append(Frame(isMapping: isMapping, anchor: anchor, mark: mark))
                event = try next()
                continue
            case .sequenceEnd, .mappingEnd:
                guard let frame = stack.popLast() else { throw unexpected(event) }
                let node: YAMLNode
                if frame.isMapping {
                    try Self.checkUniqueKeys(frame)
                    node = .mapping(YAMLNode.Mapping(pairs: frame.pairs, mark: frame.mark))
                } else {
                    node = .sequence(YAMLNode.Sequence(items: frame.items, mark: frame.mark))
                }
                if let anchor = frame.anchor { anchors[anchor] = (node, frame.size) }
                done = (node, frame.mark, frame.size)
            case .streamStart, .streamEnd, .documentStart, .documentEnd:
                throw unexpected(event)
            }
            guard !stack.isEmpty else { return done.node }
            let top = stack.count - 1
            stack[top].size += done.size
            if !stack[top].isMapping {
                stack[top].items.append(done.node)
            } else if let key = stack[top].pendingKey {
                stack[top].pairs.append((key.node, done.node))
                stack[top].keyMarks.append(key.at)
                stack[top].pendingKey = nil
            } else {
                stack[top].pendingKey = (done.node, done.at)
            }
            event = try next()
        }
    }

    /// Refuses a mapping whose keys repeat, as text. Like Yams, it names every repeated key (sorted)
    /// and points at the second occurrence of the first, the one the installer has to remove.
    static func checkUniqueKeys(_ frame: Frame) throws(YAMLError) {
        var seen: [String: [YAMLNode.Mark]] = [:]
        for (i, pair) in frame.pairs.enumerated() {
            guard case .scalar(let key) = pair.key else { continue }  // the reader refuses non-text keys
            seen[key.string, default: []].append(frame.keyMarks[i])
        }
        let repeated = seen.filter { $0.value.count > 1 }.keys.sorted()
        guard let first = repeated.first, let marks = seen[first] else { return }
        let names = repeated.map { "'\($0)'" }.joined(separator: ", ")
        let earlier = marks[0].line != marks[1].line ? " (first at line \(marks[0].line))" : ""
        throw YAMLError(.duplicateKey, marks[1], "duplicate key \(names): each key may appear once in a mapping\(earlier)")
    }

    func unexpected(_ event: Event) -> YAMLError {
        YAMLError(.syntax, YAMLNode.Mark(line: 1, column: 1), "not valid YAML: unexpected parser event \(event)")
    }

    /// The next event, copied out of libyaml and freed; libyaml's error, located, when it refuses the text.
    mutating func next() throws(YAMLError) -> Event {
        var raw = yaml_event_t()
        guard yaml_parser_parse(parser, &raw) == 1 else { throw parserError() }
        defer { yaml_event_delete(&raw) }
        let mark = YAMLNode.Mark(line: raw.start_mark.line + 1, column: raw.start_mark.column + 1)
        switch raw.type {
        case YAML_STREAM_START_EVENT: return .streamStart
        case YAML_DOCUMENT_START_EVENT: return .documentStart(mark)
        case YAML_DOCUMENT_END_EVENT: return .documentEnd
        case YAML_ALIAS_EVENT: return .alias(anchor: Self.string(raw.data.alias.anchor) ?? "", mark)
        case YAML_SCALAR_EVENT:
            let s = raw.data.scalar
            // A scalar may hold U+0000 ("\0" in double quotes): copy by length, not up to a NUL.
            var text = UnsafeBufferPointer(start: s.value, count: s.value == nil ? 0 : s.length)
            // A byte-order mark inside the file (two files joined) is never meant as text. Yams, which
            // decoded scalars with Foundation, dropped it at a scalar's start; so does this.
            if text.starts(with: [0xEF, 0xBB, 0xBF]) { text = UnsafeBufferPointer(rebasing: text.dropFirst(3)) }
            let value = String(decoding: text, as: UTF8.self)
            let style: YAMLNode.Scalar.Style = switch s.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: .literal
            case YAML_FOLDED_SCALAR_STYLE: .folded
            default: .plain
            }
            return .scalar(YAMLNode.Scalar(string: value, style: style, tag: Self.string(s.tag), mark: mark), anchor: Self.string(s.anchor))
        case YAML_SEQUENCE_START_EVENT: return .sequenceStart(anchor: Self.string(raw.data.sequence_start.anchor), mark)
        case YAML_SEQUENCE_END_EVENT: return .sequenceEnd
        case YAML_MAPPING_START_EVENT: return .mappingStart(anchor: Self.string(raw.data.mapping_start.anchor), mark)
        case YAML_MAPPING_END_EVENT: return .mappingEnd
        default: return .streamEnd  // YAML_NO_EVENT, which libyaml gives only after STREAM-END
        }
    }

    static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    /// libyaml's error as Yams reported it: the problem, libyaml's context with its line, at the
    /// problem's position.
    func parserError() -> YAMLError {
        let p = parser.pointee
        let problem = p.problem.map { String(cString: $0) } ?? "unknown problem"
        switch p.error {
        case YAML_MEMORY_ERROR:
            return YAMLError(.outOfMemory, YAMLNode.Mark(line: 1, column: 1), "libyaml ran out of memory reading this file")
        case YAML_READER_ERROR:
            // The reader reports a byte offset; the editor wants line and column.
            return YAMLError(.unreadable, location(ofByte: p.problem_offset), "file cannot be read as text: \(problem)")
        default:
            let context = p.context.map { " (\(String(cString: $0)) at line \(p.context_mark.line + 1))" } ?? ""
            return YAMLError(.syntax, YAMLNode.Mark(line: p.problem_mark.line + 1, column: p.problem_mark.column + 1),
                             "not valid YAML: \(problem)\(context)")
        }
    }

    /// Line and column (in Unicode scalars, as libyaml counts) of byte `offset`; line breaks are
    /// LF, CR LF and CR.
    func location(ofByte offset: Int) -> YAMLNode.Mark {
        var line = 1, column = 1
        var i = 0
        while i < min(offset, bytes.count) {
            let b = bytes[i]
            if b == 0x0A || (b == 0x0D && (i + 1 >= bytes.count || bytes[i + 1] != 0x0A)) {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 && b != 0x0D {
                column += 1
            }
            i += 1
        }
        return YAMLNode.Mark(line: line, column: column)
    }
}

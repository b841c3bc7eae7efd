/// One node of a YAML document as `YAMLDocument` composes it: what the schema readers (`NodeReader`,
/// the site and profile parsers) walk. Aliases are already resolved to the node they name, so a tree
/// has only these three kinds. Every node keeps where it starts in the file, for diagnostics.
enum YAMLNode: Sendable, Equatable {
    case scalar(Scalar)
    case mapping(Mapping)
    case sequence(Sequence)

    /// A position in the file, 1-based; columns count Unicode scalars, as libyaml does.
    struct Mark: Sendable, Equatable, CustomStringConvertible {
        var line: Int
        var column: Int
        var description: String { "\(line):\(column)" }
    }

    /// Text, exactly as libyaml delivers it: no YAML 1.1 or 1.2 type resolution. Readers that want
    /// numbers or booleans accept only `.plain` scalars, so `"3"` stays text.
    struct Scalar: Sendable, Equatable {
        enum Style: Sendable, Equatable {
            case plain, singleQuoted, doubleQuoted, literal, folded
        }

        var string: String
        var style: Style
        /// The explicit tag, resolved to its full name (`!!str` → `tag:yaml.org,2002:str`); nil when none.
        var tag: String?
        var mark: Mark
    }

    /// Key–value pairs in file order. Keys are unique when compared as text (`YAMLDocument` refuses a
    /// repeat); a key that is not a scalar is kept for the reader to refuse.
    struct Mapping: Sendable, Equatable, RandomAccessCollection {
        var pairs: [(key: YAMLNode, value: YAMLNode)]
        var mark: Mark

        var startIndex: Int { pairs.startIndex }
        var endIndex: Int { pairs.endIndex }
        subscript(position: Int) -> (key: YAMLNode, value: YAMLNode) { pairs[position] }

        static func == (a: Mapping, b: Mapping) -> Bool {
            a.mark == b.mark && a.pairs.elementsEqual(b.pairs, by: ==)
        }
    }

    /// Items in file order.
    struct Sequence: Sendable, Equatable, RandomAccessCollection {
        var items: [YAMLNode]
        var mark: Mark

        var startIndex: Int { items.startIndex }
        var endIndex: Int { items.endIndex }
        subscript(position: Int) -> YAMLNode { items[position] }
    }

    /// Where the node starts: its anchor, tag or first character (for a block mapping, its first key).
    var mark: Mark {
        switch self {
        case .scalar(let s): s.mark
        case .mapping(let m): m.mark
        case .sequence(let s): s.mark
        }
    }
}

/// Text for alert reasons and messages, written with ordinary string interpolation but assembled in one
/// byte buffer sized up front and turned into a `String` once: `compose("\(name) is \(x) higher")`.
/// The standard interpolation appends to a `String` piece by piece and grows it as it goes, which cost
/// about 350 instructions a piece; here a piece is a copy. Only strings can be interpolated, so every
/// number goes through `NumberText` on purpose.
struct MessageText: ExpressibleByStringInterpolation {
    fileprivate var bytes: [UInt8]

    init(stringLiteral value: String) { bytes = Array(value.utf8) }
    init(stringInterpolation: Interpolation) { bytes = stringInterpolation.bytes }

    struct Interpolation: StringInterpolationProtocol {
        fileprivate var bytes: [UInt8] = []

        init(literalCapacity: Int, interpolationCount: Int) {
            bytes.reserveCapacity(literalCapacity + 24 * interpolationCount)
        }

        mutating func appendLiteral(_ literal: String) { append(literal) }
        mutating func appendInterpolation(_ piece: String) { append(piece) }

        /// A native string hands over its UTF-8 bytes in one piece (a copy); others go byte by byte.
        private mutating func append(_ piece: String) {
            let copied: Void? = piece.utf8.withContiguousStorageIfAvailable { bytes.append(contentsOf: $0) }
            if copied == nil { bytes.append(contentsOf: piece.utf8) }
        }
    }
}

/// The text of `message` as a `String`.
func compose(_ message: MessageText) -> String {
    String(decoding: message.bytes, as: UTF8.self)
}

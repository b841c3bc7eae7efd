/// A small, allocation-light JSON writer for the payloads we publish. Output is compact UTF-8 with
/// keys in the order written, so payloads are stable and easy to diff.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    private var needsComma: [Bool] = [false]

    public init(reserve: Int = 256) { bytes.reserveCapacity(reserve) }

    public mutating func beginObject(_ key: String? = nil) { prefix(key); bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    public mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma.removeLast() }
    public mutating func beginArray(_ key: String? = nil) { prefix(key); bytes.append(UInt8(ascii: "[")); needsComma.append(false) }
    public mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma.removeLast() }

    public mutating func string(_ key: String?, _ value: String) { prefix(key); appendString(value) }
    public mutating func bool(_ key: String?, _ value: Bool) { prefix(key); bytes.append(contentsOf: Array((value ? "true" : "false").utf8)) }
    public mutating func null(_ key: String?) { prefix(key); bytes.append(contentsOf: Array("null".utf8)) }
    public mutating func int(_ key: String?, _ value: some BinaryInteger) { prefix(key); bytes.append(contentsOf: Array(String(value).utf8)) }

    /// Non-finite numbers are not JSON: they are written as null.
    public mutating func number(_ key: String?, _ value: Double?) {
        guard let value, value.isFinite else { null(key); return }
        prefix(key)
        if value == value.rounded(), abs(value) < 1e15 {
            bytes.append(contentsOf: Array(String(Int64(value)).utf8))
        } else {
            bytes.append(contentsOf: Array(value.description.utf8))
        }
    }

    private mutating func prefix(_ key: String?) {
        if needsComma[needsComma.count - 1] { bytes.append(UInt8(ascii: ",")) }
        needsComma[needsComma.count - 1] = true
        if let key { appendString(key); bytes.append(UInt8(ascii: ":")) }
    }

    private mutating func appendString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [92, 92])
            case 0x0A: bytes.append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

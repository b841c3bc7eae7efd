@testable import EdgeCore

/// A seeded generator (SplitMix64), so every random test sees the same values on every run.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func hex(_ words: [UInt16]) -> String {
    "[" + words.map { "0x" + String($0, radix: 16, uppercase: true) }.joined(separator: ", ") + "]"
}

/// A register channel for codec tests.
func channel(_ type: ValueType, _ order: ByteOrder = .abcd, scale: Double = 1, offset: Double = 0,
             function: RegisterFunction = .holding, address: Int = 0, name: String = "x") -> ChannelSpec {
    ChannelSpec(name: name, function: function, address: address, type: type, order: order, scale: scale, offset: offset)
}

/// An independent model of the four byte orders, written from the datasheet convention rather
/// than from `RegisterCodec`: the big-endian bytes A, B, C, … of the value are laid out in the
/// order the name spells, extended to eight bytes for 64-bit values.
func layout(bigEndianBytes b: [UInt8], order: ByteOrder) -> [UInt16] {
    let pattern: [Int]
    switch (b.count, order) {
    case (2, .abcd), (2, .cdab): pattern = [0, 1]
    case (2, .badc), (2, .dcba): pattern = [1, 0]
    case (4, .abcd): pattern = [0, 1, 2, 3]
    case (4, .cdab): pattern = [2, 3, 0, 1]
    case (4, .badc): pattern = [1, 0, 3, 2]
    case (4, .dcba): pattern = [3, 2, 1, 0]
    case (8, .abcd): pattern = [0, 1, 2, 3, 4, 5, 6, 7]
    case (8, .cdab): pattern = [6, 7, 4, 5, 2, 3, 0, 1]
    case (8, .badc): pattern = [1, 0, 3, 2, 5, 4, 7, 6]
    case (8, .dcba): pattern = [7, 6, 5, 4, 3, 2, 1, 0]
    default: preconditionFailure("unsupported width \(b.count)")
    }
    let bytes = pattern.map { b[$0] }
    return stride(from: 0, to: bytes.count, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
}

func bigEndianBytes<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
    (0..<(T.bitWidth / 8)).reversed().map { UInt8(truncatingIfNeeded: v >> ($0 * 8)) }
}

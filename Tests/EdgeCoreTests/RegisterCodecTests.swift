import Foundation
import Testing
@testable import EdgeCore

/// A register image and the raw value it holds, computed by hand (not by the codec).
struct Vector: Sendable, CustomTestStringConvertible {
    var type: ValueType
    var order: ByteOrder
    var words: [UInt16]
    var value: Double
    /// False when several register images decode to `value` and `encodeRaw` writes another one.
    var canonical = true

    var testDescription: String { "\(type.rawValue) \(order.rawValue) \(hex(words)) = \(value)" }
}

/// Hand-computed vectors: every type in every word order. The 32-bit layouts follow the names
/// (A = most significant byte); the 64-bit ones extend them to eight bytes: CDAB reverses the
/// four words (GH EF CD AB), BADC swaps the bytes of each word, DCBA is fully little-endian.
let vectors: [Vector] = [
    // bool: any non-zero register is true.
    Vector(type: .bool, order: .abcd, words: [0x0000], value: 0),
    Vector(type: .bool, order: .abcd, words: [0x0001], value: 1),
    Vector(type: .bool, order: .abcd, words: [0xFF00], value: 1, canonical: false),
    Vector(type: .bool, order: .cdab, words: [0x0001], value: 1),
    Vector(type: .bool, order: .badc, words: [0x0100], value: 1),
    Vector(type: .bool, order: .dcba, words: [0x0100], value: 1),
    Vector(type: .bool, order: .dcba, words: [0x0000], value: 0),

    // u16 4660 = 0x1234. One word: only the byte swap matters.
    Vector(type: .u16, order: .abcd, words: [0x1234], value: 4660),
    Vector(type: .u16, order: .cdab, words: [0x1234], value: 4660),
    Vector(type: .u16, order: .badc, words: [0x3412], value: 4660),
    Vector(type: .u16, order: .dcba, words: [0x3412], value: 4660),
    Vector(type: .u16, order: .abcd, words: [0xFFFF], value: 65535),
    Vector(type: .u16, order: .abcd, words: [0x0000], value: 0),

    // i16 -123 = 0xFF85.
    Vector(type: .i16, order: .abcd, words: [0xFF85], value: -123),
    Vector(type: .i16, order: .cdab, words: [0xFF85], value: -123),
    Vector(type: .i16, order: .badc, words: [0x85FF], value: -123),
    Vector(type: .i16, order: .dcba, words: [0x85FF], value: -123),
    Vector(type: .i16, order: .abcd, words: [0x8000], value: -32768),
    Vector(type: .i16, order: .abcd, words: [0x7FFF], value: 32767),
    Vector(type: .i16, order: .abcd, words: [0xFFFF], value: -1),

    // u32 305419896 = 0x12345678.
    Vector(type: .u32, order: .abcd, words: [0x1234, 0x5678], value: 305_419_896),
    Vector(type: .u32, order: .cdab, words: [0x5678, 0x1234], value: 305_419_896),
    Vector(type: .u32, order: .badc, words: [0x3412, 0x7856], value: 305_419_896),
    Vector(type: .u32, order: .dcba, words: [0x7856, 0x3412], value: 305_419_896),
    Vector(type: .u32, order: .abcd, words: [0xFFFF, 0xFFFF], value: 4_294_967_295),

    // i32 -2 = 0xFFFFFFFE.
    Vector(type: .i32, order: .abcd, words: [0xFFFF, 0xFFFE], value: -2),
    Vector(type: .i32, order: .cdab, words: [0xFFFE, 0xFFFF], value: -2),
    Vector(type: .i32, order: .badc, words: [0xFFFF, 0xFEFF], value: -2),
    Vector(type: .i32, order: .dcba, words: [0xFEFF, 0xFFFF], value: -2),
    // i32 -123456789 = 0xF8A432EB.
    Vector(type: .i32, order: .abcd, words: [0xF8A4, 0x32EB], value: -123_456_789),
    Vector(type: .i32, order: .cdab, words: [0x32EB, 0xF8A4], value: -123_456_789),
    Vector(type: .i32, order: .badc, words: [0xA4F8, 0xEB32], value: -123_456_789),
    Vector(type: .i32, order: .dcba, words: [0xEB32, 0xA4F8], value: -123_456_789),
    Vector(type: .i32, order: .abcd, words: [0x8000, 0x0000], value: -2_147_483_648),
    Vector(type: .i32, order: .abcd, words: [0x7FFF, 0xFFFF], value: 2_147_483_647),

    // f32 123.456 = 0x42F6E979.
    Vector(type: .f32, order: .abcd, words: [0x42F6, 0xE979], value: 123.456),
    Vector(type: .f32, order: .cdab, words: [0xE979, 0x42F6], value: 123.456),
    Vector(type: .f32, order: .badc, words: [0xF642, 0x79E9], value: 123.456),
    Vector(type: .f32, order: .dcba, words: [0x79E9, 0xF642], value: 123.456),
    // f32 -4.1 = 0xC0833333: decodes to the shortest decimal, -4.1, not -4.099999904.
    Vector(type: .f32, order: .abcd, words: [0xC083, 0x3333], value: -4.1),
    Vector(type: .f32, order: .cdab, words: [0x3333, 0xC083], value: -4.1),
    Vector(type: .f32, order: .badc, words: [0x83C0, 0x3333], value: -4.1),
    Vector(type: .f32, order: .dcba, words: [0x3333, 0x83C0], value: -4.1),
    Vector(type: .f32, order: .abcd, words: [0x3F80, 0x0000], value: 1),
    Vector(type: .f32, order: .abcd, words: [0x0000, 0x0000], value: 0),
    Vector(type: .f32, order: .abcd, words: [0x7F80, 0x0000], value: .infinity),
    Vector(type: .f32, order: .abcd, words: [0xFF80, 0x0000], value: -.infinity),

    // u64 281483566841860 = 0x0001_0002_0003_0004 (exact in a Double).
    Vector(type: .u64, order: .abcd, words: [0x0001, 0x0002, 0x0003, 0x0004], value: 281_483_566_841_860),
    Vector(type: .u64, order: .cdab, words: [0x0004, 0x0003, 0x0002, 0x0001], value: 281_483_566_841_860),
    Vector(type: .u64, order: .badc, words: [0x0100, 0x0200, 0x0300, 0x0400], value: 281_483_566_841_860),
    Vector(type: .u64, order: .dcba, words: [0x0400, 0x0300, 0x0200, 0x0100], value: 281_483_566_841_860),
    Vector(type: .u64, order: .abcd, words: [0x0000, 0x0000, 0x0000, 0x0000], value: 0),
    // 2^64 - 1 is not a Double: it reads as 2^64, which encodes back clamped to UInt64.max.
    Vector(type: .u64, order: .abcd, words: [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF], value: 18_446_744_073_709_551_616),

    // i64 -1234567890123 = 0xFFFF_FEE0_8E04_FB35.
    Vector(type: .i64, order: .abcd, words: [0xFFFF, 0xFEE0, 0x8E04, 0xFB35], value: -1_234_567_890_123),
    Vector(type: .i64, order: .cdab, words: [0xFB35, 0x8E04, 0xFEE0, 0xFFFF], value: -1_234_567_890_123),
    Vector(type: .i64, order: .badc, words: [0xFFFF, 0xE0FE, 0x048E, 0x35FB], value: -1_234_567_890_123),
    Vector(type: .i64, order: .dcba, words: [0x35FB, 0x048E, 0xE0FE, 0xFFFF], value: -1_234_567_890_123),
    Vector(type: .i64, order: .abcd, words: [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE], value: -2),
    Vector(type: .i64, order: .abcd, words: [0x8000, 0x0000, 0x0000, 0x0000], value: -9_223_372_036_854_775_808),

    // f64 123.456 = 0x405E_DD2F_1A9F_BE77.
    Vector(type: .f64, order: .abcd, words: [0x405E, 0xDD2F, 0x1A9F, 0xBE77], value: 123.456),
    Vector(type: .f64, order: .cdab, words: [0xBE77, 0x1A9F, 0xDD2F, 0x405E], value: 123.456),
    Vector(type: .f64, order: .badc, words: [0x5E40, 0x2FDD, 0x9F1A, 0x77BE], value: 123.456),
    Vector(type: .f64, order: .dcba, words: [0x77BE, 0x9F1A, 0x2FDD, 0x5E40], value: 123.456),
    // f64 -0.1 = 0xBFB9_9999_9999_999A.
    Vector(type: .f64, order: .abcd, words: [0xBFB9, 0x9999, 0x9999, 0x999A], value: -0.1),
    Vector(type: .f64, order: .dcba, words: [0x9A99, 0x9999, 0x9999, 0xB9BF], value: -0.1),
]

@Suite("RegisterCodec")
struct RegisterCodecTests {
    @Test("decodeRaw matches the hand-computed vector", arguments: vectors)
    func decodesVector(_ v: Vector) {
        #expect(RegisterCodec.decodeRaw(v.words, type: v.type, order: v.order) == v.value)
    }

    @Test("encodeRaw writes the hand-computed vector", arguments: vectors.filter(\.canonical))
    func encodesVector(_ v: Vector) {
        #expect(RegisterCodec.encodeRaw(v.value, type: v.type, order: v.order) == v.words)
    }

    @Test("the hand-computed vectors agree with an independent byte layout", arguments: vectors.filter(\.canonical))
    func vectorsAgreeWithIndependentLayout(_ v: Vector) {
        let bytes: [UInt8]
        switch v.type {
        case .bool, .u16: bytes = bigEndianBytes(UInt16(v.value))
        case .i16: bytes = bigEndianBytes(Int16(v.value))
        case .u32: bytes = bigEndianBytes(UInt32(v.value))
        case .i32: bytes = bigEndianBytes(Int32(v.value))
        case .f32: bytes = bigEndianBytes(Float(v.value).bitPattern)
        case .u64: bytes = bigEndianBytes(v.value >= 0x1p64 ? UInt64.max : UInt64(v.value))
        case .i64: bytes = bigEndianBytes(Int64(v.value))
        case .f64: bytes = bigEndianBytes(v.value.bitPattern)
        }
        #expect(layout(bigEndianBytes: bytes, order: v.order) == v.words)
    }

    @Test("f32 in every order against Float.bitPattern", arguments: ByteOrder.allCases)
    func f32AgainstBitPattern(_ order: ByteOrder) {
        for x: Float in [123.456, -4.1, 0.1, 1e-30, 3.4e38, -0.5, 65504, Float.leastNormalMagnitude] {
            let words = layout(bigEndianBytes: bigEndianBytes(x.bitPattern), order: order)
            #expect(RegisterCodec.encodeRaw(Double(x), type: .f32, order: order) == words, "\(x)")
            let decoded = RegisterCodec.decodeRaw(words, type: .f32, order: order)
            #expect(Float(decoded) == x, "\(x)")
            #expect(decoded == Double(x.description), "\(x) decodes through its shortest decimal")
        }
    }

    @Test("f64 in every order against Double.bitPattern", arguments: ByteOrder.allCases)
    func f64AgainstBitPattern(_ order: ByteOrder) {
        for x in [123.456, -0.1, 1e300, -2.5e-300, Double.pi, 0] {
            let words = layout(bigEndianBytes: bigEndianBytes(x.bitPattern), order: order)
            #expect(RegisterCodec.encodeRaw(x, type: .f64, order: order) == words, "\(x)")
            #expect(RegisterCodec.decodeRaw(words, type: .f64, order: order) == x, "\(x)")
        }
    }

    @Test("f32 NaN decodes to NaN, whatever its payload")
    func f32NaN() {
        #expect(RegisterCodec.decodeRaw([0x7FC0, 0x0000], type: .f32, order: .abcd).isNaN)
        #expect(RegisterCodec.decodeRaw([0xFFFF, 0xFFFF], type: .f32, order: .abcd).isNaN)
        #expect(RegisterCodec.decodeRaw([0x7FF8, 0, 0, 0], type: .f64, order: .abcd).isNaN)
    }

    // MARK: Scale, offset and rounding

    @Test("i16 0xFF85 × 0.1 is -12.3")
    func negativeScaled() {
        #expect(RegisterCodec.decode([0xFF85], channel: channel(.i16, scale: 0.1)) == -12.3)
        #expect(RegisterCodec.decode([0x85FF], channel: channel(.i16, .badc, scale: 0.1)) == -12.3)
    }

    @Test("41 × 0.1 is exactly 4.1, not 4.1000000000000005")
    func roundsToScalePrecision() {
        #expect(41 * 0.1 != 4.1)  // the floating-point product the codec must correct
        #expect(RegisterCodec.decode([41], channel: channel(.u16, scale: 0.1)) == 4.1)
        #expect(RegisterCodec.decode([3], channel: channel(.u16, scale: 0.1)) == 0.3)
        #expect(RegisterCodec.decode([7], channel: channel(.u16, scale: 0.01)) == 0.07)
        #expect(RegisterCodec.decode([3], channel: channel(.u16, scale: 0.25)) == 0.75)
        #expect(RegisterCodec.decode([12345], channel: channel(.u16, scale: 0.001)) == 12.345)
        #expect(RegisterCodec.decode([0x0000, 0x3039], channel: channel(.i32, .abcd, scale: 0.01)) == 123.45)
    }

    @Test("offset is added after scaling, rounded to the finer of the two")
    func offset() {
        #expect(RegisterCodec.decode([1000], channel: channel(.u16, scale: 0.01, offset: -5)) == 5)
        #expect(RegisterCodec.decode([2731], channel: channel(.u16, scale: 0.1, offset: -273.15)) == -0.05)
        #expect(RegisterCodec.decode([2732], channel: channel(.u16, scale: 0.1, offset: -273.15)) == 0.05)
        #expect(RegisterCodec.decode([2981], channel: channel(.u16, scale: 0.1, offset: -273.15)) == 24.95)
        #expect(RegisterCodec.decode([10], channel: channel(.u16, scale: 2, offset: 0.5)) == 20.5)
        #expect(RegisterCodec.decode([0xFFFF], channel: channel(.i16, scale: -1)) == 1)
    }

    @Test("a negative zero is never produced")
    func noNegativeZero() {
        let v = RegisterCodec.decode([0xFFFF], channel: channel(.i16, scale: 0.1, offset: 0.1))
        #expect(v == 0)
        #expect(v.sign == .plus)
    }

    @Test("f32 and f64 keep their own precision at scale 1 and round to 6 places otherwise")
    func floatScaling() {
        let c = channel(.f32, .cdab)
        #expect(RegisterCodec.decode([0xE979, 0x42F6], channel: c) == 123.456)
        #expect(RegisterCodec.decode(RegisterCodec.encodeRaw(1e-9, type: .f64, order: .abcd), channel: channel(.f64)) == 1e-9)
        #expect(RegisterCodec.decode([0x42F6, 0xE979], channel: channel(.f32, scale: 2)) == 246.912)
        #expect(RegisterCodec.decode([0x42F6, 0xE979], channel: channel(.f32, scale: 1, offset: 0.5)) == 123.956)
    }

    @Test("decimals(of:) gives the places a scale implies")
    func decimalsOfScale() {
        #expect(RegisterCodec.decimals(of: 1) == 0)
        #expect(RegisterCodec.decimals(of: 10) == 0)
        #expect(RegisterCodec.decimals(of: 0.1) == 1)
        #expect(RegisterCodec.decimals(of: 0.25) == 2)
        #expect(RegisterCodec.decimals(of: 0.01) == 2)
        #expect(RegisterCodec.decimals(of: -0.001) == 3)
        #expect(RegisterCodec.decimals(of: 1e-6) == 6)
        #expect(RegisterCodec.decimals(of: 1e-7) == 6)
        #expect(RegisterCodec.decimals(of: 1.0 / 3.0) == 6)
    }

    @Test("a scale below 1e-9 is not mistaken for a whole number")
    func tinyScale() {
        // Bug: decimals(of: 1e-9) is 0 because |1e-9 − 0| is not > 1e-9, so the value is rounded to an integer.
        #expect(RegisterCodec.decimals(of: 1e-9) == 6)
        #expect(RegisterCodec.decode([0x4996, 0x02D2], channel: channel(.u32, scale: 1e-9)) == 1.234568)
    }

    @Test("engineering passes non-finite values through")
    func engineeringNonFinite() {
        #expect(RegisterCodec.engineering(raw: .nan, channel: channel(.u16, scale: 0.1)).isNaN)
        #expect(RegisterCodec.engineering(raw: .infinity, channel: channel(.f32, scale: 0.1)) == .infinity)
    }

    // MARK: Short frames

    @Test("short input returns NaN, never crashes", arguments: ValueType.allCases)
    func shortInput(_ type: ValueType) {
        for order in ByteOrder.allCases {
            for n in 0..<type.registerCount {
                let words = [UInt16](repeating: 0x4142, count: n)
                #expect(RegisterCodec.decodeRaw(words, type: type, order: order).isNaN, "\(n) words")
                #expect(RegisterCodec.decode(words, channel: channel(type, order, scale: 0.1, offset: 3)).isNaN)
                #expect(RegisterCodec.decodeRaw(words[...], type: type, order: order).isNaN)
            }
        }
    }

    @Test("extra registers beyond the type's width are ignored")
    func longInput() {
        #expect(RegisterCodec.decodeRaw([0x1234, 0x5678, 0xDEAD], type: .u32, order: .abcd) == 305_419_896)
        #expect(RegisterCodec.decodeRaw([0xFF85, 0x0001], type: .i16, order: .abcd) == -123)
        // Any collection works, e.g. a slice of a block read.
        let block: [UInt16] = [0, 0x42F6, 0xE979, 0]
        #expect(RegisterCodec.decodeRaw(block[1...], type: .f32, order: .abcd) == 123.456)
    }

    // MARK: Encoding edge cases

    @Test("encodeRaw clamps values that do not fit")
    func clamps() {
        #expect(RegisterCodec.encodeRaw(70_000, type: .u16, order: .abcd) == [0xFFFF])
        #expect(RegisterCodec.encodeRaw(-1, type: .u16, order: .abcd) == [0x0000])
        #expect(RegisterCodec.encodeRaw(-40_000, type: .i16, order: .abcd) == [0x8000])
        #expect(RegisterCodec.encodeRaw(40_000, type: .i16, order: .abcd) == [0x7FFF])
        #expect(RegisterCodec.encodeRaw(5e9, type: .u32, order: .abcd) == [0xFFFF, 0xFFFF])
        #expect(RegisterCodec.encodeRaw(-5e9, type: .i32, order: .abcd) == [0x8000, 0x0000])
        #expect(RegisterCodec.encodeRaw(1e30, type: .i64, order: .abcd) == [0x7FFF, 0xFFFF, 0xFFFF, 0xFFFF])
        #expect(RegisterCodec.encodeRaw(-1e30, type: .i64, order: .abcd) == [0x8000, 0, 0, 0])
        #expect(RegisterCodec.encodeRaw(1e30, type: .u64, order: .abcd) == [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF])
        #expect(RegisterCodec.encodeRaw(-3, type: .u64, order: .abcd) == [0, 0, 0, 0])
        #expect(RegisterCodec.encodeRaw(.infinity, type: .i32, order: .abcd) == [0x7FFF, 0xFFFF])
        #expect(RegisterCodec.encodeRaw(-.infinity, type: .u16, order: .abcd) == [0])
    }

    @Test("encodeRaw rounds to the nearest integer")
    func encodeRounds() {
        #expect(RegisterCodec.encodeRaw(41.4999, type: .u16, order: .abcd) == [41])
        #expect(RegisterCodec.encodeRaw(40.5, type: .u16, order: .abcd) == [41])
        #expect(RegisterCodec.encodeRaw(-12.6, type: .i16, order: .abcd) == [0xFFF3])
        #expect(RegisterCodec.encodeRaw(0.3, type: .bool, order: .abcd) == [1])
    }

    @Test("encodeRaw of NaN gives 0 for every integer type", arguments: [ValueType.u16, .i16, .u32, .i32, .i64])
    func encodeNaNInteger(_ type: ValueType) {
        #expect(RegisterCodec.encodeRaw(.nan, type: type, order: .abcd) == [UInt16](repeating: 0, count: type.registerCount))
    }

    // Was a trap: `.u64` tested `raw <= 0` and `raw >= …`, both false for NaN, then `UInt64(raw.rounded())`.
    // Run in a child process so a regression fails this test instead of killing the run.
    @Test("encodeRaw of NaN for u64 does not trap (the simulator can be fed NaN)")
    func encodeNaNU64() async {
        await #expect(processExitsWith: .success) {
            let words = RegisterCodec.encodeRaw(.nan, type: .u64, order: .abcd)
            if words != [0, 0, 0, 0] { exit(1) }
        }
    }

    @Test("u64 encodes exactly up to the largest Double below 2^64")
    func encodeNearU64Limit() {
        // 2^64 − 2048 fits a UInt64; it was clamped to UInt64.max before the one-line fix above.
        #expect(RegisterCodec.encodeRaw(18_446_744_073_709_549_568, type: .u64, order: .abcd) == [0xFFFF, 0xFFFF, 0xFFFF, 0xF800])
        #expect(RegisterCodec.encodeRaw(0x1p64, type: .u64, order: .abcd) == [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF])
    }

    // Bug: `roundedInt` clamps at ±9.2e18, short of Int64's ±9.223e18.
    @Test("i64 encodes exactly up to ±2^63, not clamped at ±9.2e18")
    func encodeNearI64Limit() {
        let big = 9.22e18  // fits an Int64 and is an exact Double
        #expect(RegisterCodec.encodeRaw(big, type: .i64, order: .abcd) == layout(bigEndianBytes: bigEndianBytes(Int64(big)), order: .abcd))
        #expect(RegisterCodec.encodeRaw(-big, type: .i64, order: .abcd) == layout(bigEndianBytes: bigEndianBytes(Int64(-big)), order: .abcd))
        #expect(RegisterCodec.encodeRaw(-0x1p63, type: .i64, order: .abcd) == [0x8000, 0, 0, 0])
        #expect(RegisterCodec.encodeRaw(0x1p63, type: .i64, order: .abcd) == [0x7FFF, 0xFFFF, 0xFFFF, 0xFFFF])
    }

    @Test("encode divides out scale and offset")
    func encodeScaled() {
        #expect(RegisterCodec.encode(-12.3, channel: channel(.i16, scale: 0.1)) == [0xFF85])
        #expect(RegisterCodec.encode(4.1, channel: channel(.u16, scale: 0.1)) == [41])
        #expect(RegisterCodec.encode(5, channel: channel(.u16, scale: 0.01, offset: -5)) == [1000])
        #expect(RegisterCodec.encode(-20, channel: channel(.i32, .cdab, scale: 0.01)) == [0xF830, 0xFFFF])
        // A zero scale (refused by the loader) does not divide by zero.
        #expect(RegisterCodec.encode(7, channel: channel(.u16, scale: 0)) == [7])
    }

    // MARK: Round trips

    @Test("integer values round-trip through every order", arguments: [ValueType.u16, .i16, .u32, .i32, .u64, .i64])
    func integerRoundTrip(_ type: ValueType) {
        var rng = SeededGenerator(seed: 0xC0FFEE &+ UInt64(ValueType.allCases.firstIndex(of: type)!))
        let range: ClosedRange<Double>
        switch type {
        case .u16: range = 0...65535
        case .i16: range = -32768...32767
        case .u32: range = 0...4_294_967_295
        case .i32: range = -2_147_483_648...2_147_483_647
        case .u64: range = 0...9_007_199_254_740_992  // exact Doubles only
        default: range = -9_007_199_254_740_992...9_007_199_254_740_992
        }
        for order in ByteOrder.allCases {
            var values = [range.lowerBound, range.upperBound, 0, 1]
            for _ in 0..<500 { values.append(Double(Int64.random(in: Int64(range.lowerBound)...Int64(range.upperBound), using: &rng))) }
            for value in values where range.contains(value) {
                let words = RegisterCodec.encodeRaw(value, type: type, order: order)
                #expect(words.count == type.registerCount)
                let back = RegisterCodec.decodeRaw(words, type: type, order: order)
                if back != value { Issue.record("\(type) \(order) \(value) → \(hex(words)) → \(back)"); return }
                if RegisterCodec.encodeRaw(back, type: type, order: order) != words {
                    Issue.record("\(type) \(order) \(hex(words)) does not re-encode"); return
                }
            }
        }
    }

    @Test("random register images round-trip: decode then encode gives the same words", arguments: ValueType.allCases)
    func registerRoundTrip(_ type: ValueType) {
        var rng = SeededGenerator(seed: 0xBADC0DE &+ UInt64(ValueType.allCases.firstIndex(of: type)!))
        for order in ByteOrder.allCases {
            var checked = 0
            while checked < 600 {
                var words = (0..<type.registerCount).map { _ in UInt16.random(in: 0...UInt16.max, using: &rng) }
                switch type {
                case .bool: words = RegisterCodec.encodeRaw(Double(checked % 2), type: .bool, order: order)
                // Integers beyond 2^53 have no exact Double (see wide64): draw 64-bit images inside ±2^53.
                case .u64: words = layout(bigEndianBytes: bigEndianBytes(UInt64.random(in: 0...(1 << 53), using: &rng)), order: order)
                case .i64: words = layout(bigEndianBytes: bigEndianBytes(Int64.random(in: -(1 << 53)...(1 << 53), using: &rng)), order: order)
                default: break
                }
                let raw = RegisterCodec.decodeRaw(words, type: type, order: order)
                if raw.isNaN { continue }  // NaN payloads are not preserved, by design
                checked += 1
                let back = RegisterCodec.encodeRaw(raw, type: type, order: order)
                if back != words {
                    Issue.record("\(type) \(order) \(hex(words)) → \(raw) → \(hex(back))")
                    return
                }
            }
        }
    }

    @Test("u64/i64 images beyond 2^53 decode to the nearest Double")
    func wide64() {
        var rng = SeededGenerator(seed: 64)
        for _ in 0..<500 {
            let bits = UInt64.random(in: 0...UInt64.max, using: &rng)
            for order in ByteOrder.allCases {
                let words = layout(bigEndianBytes: bigEndianBytes(bits), order: order)
                #expect(RegisterCodec.decodeRaw(words, type: .u64, order: order) == Double(bits))
                #expect(RegisterCodec.decodeRaw(words, type: .i64, order: order) == Double(Int64(bitPattern: bits)))
                #expect(RegisterCodec.decodeRaw(words, type: .f64, order: order).bitPattern == bits
                        || Double(bitPattern: bits).isNaN)
            }
        }
    }

    @Test("scaled decimal values round-trip exactly: i16 × 0.1 over the whole range")
    func scaledRoundTrip() {
        for order in ByteOrder.allCases {
            let c = channel(.i16, order, scale: 0.1)
            for k in stride(from: -32768, through: 32767, by: 3) {
                // The decimal as a person writes it, e.g. -12.3: independent of the codec's arithmetic.
                let text = (k < 0 ? "-" : "") + "\(abs(k) / 10).\(abs(k) % 10)"
                let value = Double(text)!
                let words = RegisterCodec.encode(value, channel: c)
                if words != RegisterCodec.encodeRaw(Double(k), type: .i16, order: order) {
                    Issue.record("encode \(text) → \(hex(words))"); return
                }
                let back = RegisterCodec.decode(words, channel: c)
                if back != value { Issue.record("\(text) → \(back)"); return }
            }
        }
    }

    @Test("scaled u32 values with an offset round-trip in CDAB")
    func scaledOffsetRoundTrip() {
        var rng = SeededGenerator(seed: 2)
        let c = channel(.i32, .cdab, scale: 0.01, offset: -100)
        for _ in 0..<2000 {
            let k = Int.random(in: -2_000_000...2_000_000, using: &rng)
            let text = (k < 0 ? "-" : "") + "\(abs(k) / 100)." + String(format: "%02d", abs(k) % 100)
            let value = Double(text)!
            let back = RegisterCodec.decode(RegisterCodec.encode(value, channel: c), channel: c)
            if back != value { Issue.record("\(text) → \(back)"); return }
        }
    }

    @Test("random finite f32 values round-trip bit for bit", arguments: ByteOrder.allCases)
    func f32RoundTrip(_ order: ByteOrder) {
        var rng = SeededGenerator(seed: 32)
        for _ in 0..<3000 {
            let f = Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng))
            guard f.isFinite else { continue }
            let words = RegisterCodec.encodeRaw(Double(f), type: .f32, order: order)
            #expect(words == layout(bigEndianBytes: bigEndianBytes(f.bitPattern), order: order))
            let back = RegisterCodec.decodeRaw(words, type: .f32, order: order)
            if Float(back).bitPattern != f.bitPattern {
                Issue.record("\(f) (0x\(String(f.bitPattern, radix: 16))) → \(back)"); return
            }
        }
    }

    @Test("random finite f64 values round-trip bit for bit", arguments: ByteOrder.allCases)
    func f64RoundTrip(_ order: ByteOrder) {
        var rng = SeededGenerator(seed: 6464)
        for _ in 0..<3000 {
            let d = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng))
            guard d.isFinite else { continue }
            let back = RegisterCodec.decodeRaw(RegisterCodec.encodeRaw(d, type: .f64, order: order), type: .f64, order: order)
            if back.bitPattern != d.bitPattern { Issue.record("\(d) → \(back)"); return }
        }
    }
}

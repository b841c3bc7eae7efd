/// Turns raw 16-bit registers into numbers and back, for every `ValueType` and `ByteOrder`.
///
/// Pure and allocation-free on the decode path. `encode` is the exact inverse and serves the
/// simulator and the tests.
public enum RegisterCodec {
    /// Assembles the raw bit pattern of a value of `type` from `registers` (which must hold at
    /// least `type.registerCount` words) in the given order, most significant byte first.
    static func rawBits(_ registers: UnsafeBufferPointer<UInt16>, count: Int, order: ByteOrder) -> UInt64 {
        var bits: UInt64 = 0
        for i in 0..<count {
            let wordIndex = order.swapsWords ? count - 1 - i : i
            var word = registers[wordIndex]
            if order.swapsBytes { word = word.byteSwapped }
            bits = (bits << 16) | UInt64(word)
        }
        return bits
    }

    /// The value in raw units (before scale and offset).
    public static func decodeRaw(_ registers: some Collection<UInt16>, type: ValueType, order: ByteOrder) -> Double {
        let words = Array(registers.prefix(type.registerCount))
        return words.withUnsafeBufferPointer { decodeRaw($0, type: type, order: order) }
    }

    /// The poll's path: a slice of the words read, decoded in place (no copy, no generic code at run
    /// time).
    public static func decodeRaw(_ registers: ArraySlice<UInt16>, type: ValueType, order: ByteOrder) -> Double {
        registers.withUnsafeBufferPointer { decodeRaw($0, type: type, order: order) }
    }

    public static func decodeRaw(_ registers: UnsafeBufferPointer<UInt16>, type: ValueType, order: ByteOrder) -> Double {
        guard registers.count >= type.registerCount else { return .nan }  // short frame: never a crash
        let bits = rawBits(registers, count: type.registerCount, order: order)
        switch type {
        case .bool: return bits != 0 ? 1 : 0
        case .u16: return Double(UInt16(truncatingIfNeeded: bits))
        case .i16: return Double(Int16(bitPattern: UInt16(truncatingIfNeeded: bits)))
        case .u32: return Double(UInt32(truncatingIfNeeded: bits))
        case .i32: return Double(Int32(bitPattern: UInt32(truncatingIfNeeded: bits)))
        case .f32:
            // Through the shortest decimal form of the Float, so 4.1f reads as 4.1, not 4.099999904.
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: bits))
            return f.isFinite ? Double(f.description) ?? Double(f) : Double(f)
        case .u64: return Double(bits)
        case .i64: return Double(Int64(bitPattern: bits))
        case .f64: return Double(bitPattern: bits)
        }
    }

    /// The value in engineering units: `raw * scale + offset`, rounded to the precision the scale
    /// implies (a 0.1 scale yields one decimal), so 41 × 0.1 publishes as 4.1.
    public static func decode(_ registers: some Collection<UInt16>, channel: ChannelSpec) -> Double {
        let raw = decodeRaw(registers, type: channel.type, order: channel.order)
        return engineering(raw: raw, channel: channel)
    }

    /// Applies scale and offset to a raw value and rounds to the channel's precision.
    public static func engineering(raw: Double, channel: ChannelSpec) -> Double {
        let value = raw * channel.scale + channel.offset
        guard value.isFinite else { return value }
        if channel.type == .f32 || channel.type == .f64 { 
            return channel.scale == 1 && channel.offset == 0 ? value : roundTo(value, decimals: 6)
        }
        return roundTo(value, decimals: max(decimals(of: channel.scale), decimals(of: channel.offset)))
    }

    /// Registers that decode back to `value` (engineering units) for this channel. Values that do
    /// not fit the type are clamped to its range.
    public static func encode(_ value: Double, channel: ChannelSpec) -> [UInt16] {
        let raw = (value - channel.offset) / (channel.scale == 0 ? 1 : channel.scale)
        return encodeRaw(raw, type: channel.type, order: channel.order)
    }

    /// Registers holding `raw` (unscaled) as `type`, in `order`.
    public static func encodeRaw(_ raw: Double, type: ValueType, order: ByteOrder) -> [UInt16] {
        let bits: UInt64
        switch type {
        case .bool: bits = raw != 0 ? 1 : 0
        case .u16: bits = UInt64(UInt16(clamping: roundedInt(raw)))
        case .i16: bits = UInt64(UInt16(bitPattern: Int16(clamping: roundedInt(raw))))
        case .u32: bits = UInt64(UInt32(clamping: roundedInt(raw)))
        case .i32: bits = UInt64(UInt32(bitPattern: Int32(clamping: roundedInt(raw))))
        case .f32: bits = UInt64(Float(raw).bitPattern)
        case .u64: bits = !(raw > 0) ? 0 : (raw >= 0x1p64 ? UInt64.max : UInt64(raw.rounded()))  // NaN → 0, like the other integer types
        case .i64: bits = UInt64(bitPattern: Int64(roundedInt(raw)))
        case .f64: bits = raw.bitPattern
        }
        let count = type.registerCount
        var words = [UInt16](repeating: 0, count: count)
        for i in 0..<count {
            var word = UInt16(truncatingIfNeeded: bits >> UInt64(16 * (count - 1 - i)))
            if order.swapsBytes { word = word.byteSwapped }
            words[order.swapsWords ? count - 1 - i : i] = word
        }
        return words
    }

    private static func roundedInt(_ x: Double) -> Int {
        guard x.isFinite else { return x > 0 ? Int.max : (x < 0 ? Int.min : 0) }
        if x >= 0x1p63 { return Int.max }
        if x < -0x1p63 { return Int.min }
        return Int(x.rounded())
    }

    /// Decimal places needed to show multiples of `x` exactly (0.1 → 1, 0.25 → 2, 10 → 0, 1e-9 → 6), at most 6: the precision a reading can carry.
    static func decimals(of x: Double) -> Int {
        var d = 0
        var v = abs(x)
        while d < 6 && v > 0 && abs(v - v.rounded()) > 1e-9 * v {
            v *= 10
            d += 1
        }
        return d
    }

    static func roundTo(_ x: Double, decimals: Int) -> Double {
        var p = 1.0
        for _ in 0..<decimals { p *= 10 }
        let r = (x * p).rounded() / p
        return r == 0 ? 0 : r  // never publish -0
    }
}

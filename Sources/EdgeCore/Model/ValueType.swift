/// How a channel's raw registers are interpreted.
public enum ValueType: String, Sendable, CaseIterable, Codable {
    case bool, u16, i16, u32, i32, f32, u64, i64, f64

    /// Number of 16-bit registers (or bits, for `bool`) the value occupies.
    public var registerCount: Int {
        switch self {
        case .bool, .u16, .i16: 1
        case .u32, .i32, .f32: 2
        case .u64, .i64, .f64: 4
        }
    }
}

/// Byte and word order of a multi-register value, named by where bytes A (most significant) to
/// D/H land, as most datasheets and Telegraf's modbus input do. `abcd` is Modbus's own big-endian
/// order; `cdab` swaps 16-bit words (common on meters); `badc` swaps bytes inside each word;
/// `dcba` is fully little-endian. For 64-bit values the same swap applies to all four words.
public enum ByteOrder: String, Sendable, CaseIterable, Codable {
    case abcd = "ABCD"
    case cdab = "CDAB"
    case badc = "BADC"
    case dcba = "DCBA"

    var swapsWords: Bool { self == .cdab || self == .dcba }
    var swapsBytes: Bool { self == .badc || self == .dcba }
}

/// The Modbus table a channel lives in, and the function code that reads it.
public enum RegisterFunction: String, Sendable, CaseIterable, Codable {
    case coil          // FC 01, 1 bit
    case discrete      // FC 02, 1 bit, read-only
    case holding       // FC 03, 16-bit registers
    case input         // FC 04, 16-bit registers, read-only

    /// Bit tables (coils, discrete inputs) hold one bit per address.
    public var isBit: Bool { self == .coil || self == .discrete }

    /// The Modbus function code used to read this table.
    public var readFunctionCode: UInt8 {
        switch self {
        case .coil: 1
        case .discrete: 2
        case .holding: 3
        case .input: 4
        }
    }

    /// The largest quantity one read request may ask for (Modbus spec, 6.1–6.4).
    public var maxPerRequest: Int { isBit ? 2000 : 125 }
}

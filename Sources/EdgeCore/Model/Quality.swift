/// How far a reading can be trusted. Published with every value so dashboards can grey it out.
public enum Quality: String, Sendable, Codable, CaseIterable {
    /// Read and decoded, inside the profile's valid range.
    case good
    /// Decoded, but outside the valid range the datasheet gives: a wiring fault or a broken probe.
    case outOfRange = "out_of_range"
    /// The firmware's own "no reading" marker (for example 0x7FFF); `value` is nil.
    case sentinel
    /// The bus or the device failed (timeout, CRC, exception); `value` is nil and `fault` says why.
    case commFault = "comm_fault"
}

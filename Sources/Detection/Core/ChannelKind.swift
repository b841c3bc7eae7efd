/// What a channel physically measures. Picks the default detector settings (`DetectorConfig.defaults(for:)`),
/// because a cold room, a soil probe and a scale misbehave in different ways.
public enum ChannelKind: String, Sendable, Codable, CaseIterable, Hashable {
    /// Air temperature of a cold store (°C): compressor cycling, defrost every few hours, door openings.
    case coldRoom = "cold_room"
    /// Volumetric soil water content (%): slow drying, diurnal wiggle, steps up on irrigation or rain.
    case soilMoisture = "soil_moisture"
    /// A platform or silo scale (kg): flat between loading steps.
    case weight
    /// Anything else: only unit-free, noise-relative checks are on.
    case generic

    /// Infers the kind from a file or folder name: `cold_room`, `soil_moisture`, `scale`/`weight`.
    /// Returns nil when the name says nothing. Pure string matching, O(name length).
    public static func infer(fromName name: some StringProtocol) -> ChannelKind? {
        let lower = name.lowercased()
        if lower.contains("cold_room") || lower.contains("cold-room") || lower.contains("coldroom") { return .coldRoom }
        if lower.contains("soil_moisture") || lower.contains("soil-moisture") || lower.contains("soil") { return .soilMoisture }
        if lower.contains("scale") || lower.contains("weight") { return .weight }
        if lower.contains("generic") { return .generic }
        return nil
    }
}

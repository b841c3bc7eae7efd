public import Detection

/// Draws labelled channel-weeks of any kind, each from its own random stream `(seed, kind, index)`,
/// so one trace can be regenerated alone and a sweep is the same on every run for a seed.
///
/// Each trace gets two or three of the faults `FaultKind.injected(for:)` lists for its kind, rotated
/// by index so every fault kind appears about as often; cold rooms also get a compressor failure in
/// every other room. Costs: O(rows) per trace (a cold room at 10 s: 60 480 rows, a few ms).
public enum TraceGenerator {
    /// 2026-03-01 00:00:00 UTC: every trace starts at midnight, so working hours are the same clock hours.
    public static let epoch = 1_772_323_200.0

    public static func trace(kind: ChannelKind, seed: UInt64, index: Int, days: Double = 7) -> LabelledTrace {
        var rng = TraceRandom(seed: seed, stream: UInt64(ChannelKind.allCases.firstIndex(of: kind) ?? 0) + 1, index: UInt64(index))
        let faults = faultsFor(kind: kind, index: index, rng: &rng)
        let name = "\(kind == .weight ? "scale" : kind.rawValue)_\(index)"
        switch kind {
        case .coldRoom: return ColdRoomTrace.make(&rng, name: name, start: epoch, days: days, faults: faults)
        case .soilMoisture: return SoilTrace.make(&rng, name: name, start: epoch, days: days, faults: faults)
        case .weight: return ScaleTrace.make(&rng, name: name, start: epoch, days: days, faults: faults)
        case .generic: return GenericTrace.make(&rng, name: name, start: epoch, days: days, faults: faults)
        }
    }

    static func faultsFor(kind: ChannelKind, index: Int, rng: inout TraceRandom) -> [FaultKind] {
        let all = FaultKind.injected(for: kind).filter { $0 != .compressor }
        var out: [FaultKind] = []
        if kind == .coldRoom && index % 2 == 0 { out.append(.compressor) }
        out.append(all[index % all.count])
        let second = all[(index / all.count + index + 1) % all.count]
        if !out.contains(second) { out.append(second) }
        if rng.chance(0.5) {
            let third = rng.pick(all)
            if !out.contains(third) { out.append(third) }
        }
        return out
    }
}

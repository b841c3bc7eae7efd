public import Detection

/// A sweep over many generated channel-weeks per kind: each trace is generated, replayed through a
/// fresh `ChannelDetector` with its kind's defaults, and scored (`TraceScore`); scores are summed per
/// kind, per (band family, band) and per fault kind.
///
/// Costs: generation plus the detector, O(rows); about a second per hundred thousand rows in a debug
/// build, a few ms per room-week in release. Single-threaded (the machine it runs on has 2 cores that
/// a build may be using).
public struct Sweep: Sendable {
    public struct Key: Hashable, Sendable, Comparable {
        public var kind: ChannelKind
        public var family: String
        public var band: String
        public static func < (a: Key, b: Key) -> Bool {
            (a.kind.rawValue, a.family, a.band) < (b.kind.rawValue, b.family, b.band)
        }
    }

    public var seeds: [UInt64]
    public var rooms: Int
    public var days: Double
    public private(set) var perKind: [ChannelKind: TraceScore] = [:]
    public private(set) var perBand: [Key: TraceScore] = [:]
    public private(set) var traces = 0
    public private(set) var rows = 0

    /// Runs `rooms` traces of each of `kinds` for every seed.
    public init(kinds: [ChannelKind] = ChannelKind.allCases, rooms: Int, seeds: [UInt64], days: Double = 7,
                config: (LabelledTrace) -> DetectorConfig = { $0.config }) {
        self.seeds = seeds
        self.rooms = rooms
        self.days = days
        for seed in seeds {
            for kind in kinds {
                for index in 0..<rooms {
                    let trace = TraceGenerator.trace(kind: kind, seed: seed, index: index, days: days)
                    let score = TraceScore(trace: trace, alert: trace.alertRows(config: config(trace)))
                    perKind[kind, default: TraceScore()].add(score)
                    for (family, band) in Bands.of(trace) {
                        perBand[Key(kind: kind, family: family, band: band), default: TraceScore()].add(score)
                    }
                    traces += 1
                    rows += trace.count
                }
            }
        }
    }

    /// The worst band's false alerts per channel-week for `kind`.
    public func worstFalsePerWeek(_ kind: ChannelKind) -> Double {
        perBand.filter { $0.key.kind == kind }.map(\.value.falsePerWeek).max() ?? 0
    }

    /// The table the bench prints: per kind, per band, per fault kind.
    public var table: String {
        var s = "seeds \(seeds.map(String.init).joined(separator: ",")), \(rooms) channel-weeks per kind and seed, \(traces) traces, \(rows) rows\n"
        let header = Text.pad("", 30, left: true) + Text.pad("weeks", 7) + Text.pad("false/wk", 10) + Text.pad("recall", 8)
            + Text.pad("detected", 11) + Text.pad("med min", 9) + Text.pad("<8°C", 10) + Text.pad("<8°C feas", 11)
        func line(_ name: String, _ t: TraceScore) -> String {
            let b8 = t.before8.of > 0 ? "\(t.before8.caught)/\(t.before8.of)" : "-"
            let bf = t.before8Feasible.of > 0 ? "\(t.before8Feasible.caught)/\(t.before8Feasible.of)" : "-"
            return Text.pad(name, 30, left: true) + Text.pad(Text.fixed(t.weeks, 1), 7) + Text.pad(Text.fixed(t.falsePerWeek, 3), 10)
                + Text.pad(Text.fixed(t.recall, 3), 8) + Text.pad("\(t.detected)/\(t.windows)", 11)
                + Text.pad(Text.fixed(t.medianDelay, 1), 9) + Text.pad(b8, 10) + Text.pad(bf, 11) + "\n"
        }
        for kind in ChannelKind.allCases {
            guard let k = perKind[kind] else { continue }
            s += "\n" + header + "\n" + line(kind.rawValue, k)
            for (key, t) in perBand.sorted(by: { $0.key < $1.key }) where key.kind == kind {
                s += line("  \(key.family): \(key.band)", t)
            }
            for (fault, f) in k.byFault.sorted(by: { $0.key < $1.key }) {
                let r = f.windows > 0 ? Double(f.detected) / Double(f.windows) : 1
                s += Text.pad("  fault \(fault.rawValue)", 30, left: true) + Text.pad("", 17) + Text.pad(Text.fixed(r, 3), 8)
                    + Text.pad("\(f.detected)/\(f.windows)", 11) + Text.pad(Text.fixed(TraceScore.median(f.delays), 1), 9) + "\n"
            }
        }
        return s
    }
}

/// Turns a score stream into alert episodes that cannot flap.
///
/// An episode opens once the score has stayed at or above `raiseLevel` for `raiseAfter` seconds,
/// and closes once it has stayed below `clearLevel` (lower than `raiseLevel`) for `clearAfter`
/// seconds — or, with `clearAfterSamples` set, for that many samples or `clearAfter` seconds,
/// whichever comes first (a delay counted in samples means the same at any sampling rate). After a
/// clear, an optional refractory period (`refractorySamples` samples or `refractory` seconds, whichever
/// comes first) lets no new episode open. A score between the two levels keeps whatever state the
/// gate is in. O(1), no allocation.
public struct HysteresisGate: Sendable, Codable, Hashable {
    public enum Transition: Sendable, Hashable {
        case none
        case raised
        case cleared
    }

    public var raiseLevel: Double
    public var clearLevel: Double
    public var raiseAfter: Double
    public var clearAfter: Double
    /// 0: the clear delay is `clearAfter` seconds only.
    public var clearAfterSamples: Int
    public var refractory: Double
    public var refractorySamples: Int

    public private(set) var active = false
    /// When the open episode was raised.
    public private(set) var activeSince: Double?
    private var pendingSince: Double?
    /// Samples below the clear level so far (while active).
    private var pendingCount = 0
    /// When the last episode cleared, and samples since, while its refractory period runs.
    private var clearedAt: Double?
    private var sinceClear = 0

    /// A clear level at or above the raise level (a mistyped setting) would let the gate flap;
    /// it is lowered to half the raise level rather than trapping.
    public init(
        raiseLevel: Double = 0.8, clearLevel: Double = 0.3, raiseAfter: Double = 0, clearAfter: Double = 600,
        clearAfterSamples: Int = 0, refractory: Double = 0, refractorySamples: Int = 0
    ) {
        self.raiseLevel = raiseLevel
        self.clearLevel = clearLevel < raiseLevel ? clearLevel : raiseLevel / 2
        self.raiseAfter = raiseAfter
        self.clearAfter = clearAfter
        self.clearAfterSamples = max(0, clearAfterSamples)
        self.refractory = refractory
        self.refractorySamples = max(0, refractorySamples)
    }

    @inline(__always)
    public mutating func update(time: Double, score: Double) -> Transition {
        if !active {
            if let cleared = clearedAt {
                sinceClear += 1
                if sinceClear <= refractorySamples && time - cleared < refractory {
                    pendingSince = nil
                    return .none
                }
                clearedAt = nil
            }
            guard score >= raiseLevel else { pendingSince = nil; return .none }
            let since = pendingSince ?? time
            pendingSince = since
            guard time - since >= raiseAfter else { return .none }
            active = true
            activeSince = time
            pendingSince = nil
            pendingCount = 0
            return .raised
        }
        guard score < clearLevel else { pendingSince = nil; pendingCount = 0; return .none }
        let since = pendingSince ?? time
        pendingSince = since
        pendingCount += 1
        let waited = time - since >= clearAfter
        guard waited || (clearAfterSamples > 0 && pendingCount >= clearAfterSamples) else { return .none }
        active = false
        activeSince = nil
        pendingSince = nil
        pendingCount = 0
        if refractorySamples > 0 && refractory > 0 {
            clearedAt = time
            sinceClear = 0
        }
        return .cleared
    }

    /// Re-opens an episode after a restart (from a snapshot), without emitting a raise.
    public mutating func restore(activeSince: Double?) {
        active = activeSince != nil
        self.activeSince = activeSince
        pendingSince = nil
        pendingCount = 0
        clearedAt = nil
    }

    /// Forgets any open episode without emitting a clear (e.g. after an operator reset).
    public mutating func reset() {
        active = false
        activeSince = nil
        pendingSince = nil
        pendingCount = 0
        clearedAt = nil
    }
}

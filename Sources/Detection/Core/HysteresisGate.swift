/// Turns a score stream into alert episodes that cannot flap.
///
/// An episode opens once the score has stayed at or above `raiseLevel` for `raiseAfter` seconds,
/// and closes once it has stayed below `clearLevel` (lower than `raiseLevel`) for `clearAfter`
/// seconds. A score between the two levels keeps whatever state the gate is in. O(1), no allocation.
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

    public private(set) var active = false
    /// When the open episode was raised.
    public private(set) var activeSince: Double?
    private var pendingSince: Double?

    /// A clear level at or above the raise level (a mistyped setting) would let the gate flap;
    /// it is lowered to half the raise level rather than trapping.
    public init(raiseLevel: Double = 0.8, clearLevel: Double = 0.3, raiseAfter: Double = 0, clearAfter: Double = 600) {
        self.raiseLevel = raiseLevel
        self.clearLevel = clearLevel < raiseLevel ? clearLevel : raiseLevel / 2
        self.raiseAfter = raiseAfter
        self.clearAfter = clearAfter
    }

    @inline(__always)
    public mutating func update(time: Double, score: Double) -> Transition {
        if !active {
            guard score >= raiseLevel else { pendingSince = nil; return .none }
            let since = pendingSince ?? time
            pendingSince = since
            guard time - since >= raiseAfter else { return .none }
            active = true
            activeSince = time
            pendingSince = nil
            return .raised
        }
        guard score < clearLevel else { pendingSince = nil; return .none }
        let since = pendingSince ?? time
        pendingSince = since
        guard time - since >= clearAfter else { return .none }
        active = false
        activeSince = nil
        pendingSince = nil
        return .cleared
    }

    /// Re-opens an episode after a restart (from a snapshot), without emitting a raise.
    public mutating func restore(activeSince: Double?) {
        active = activeSince != nil
        self.activeSince = activeSince
        pendingSince = nil
    }

    /// Forgets any open episode without emitting a clear (e.g. after an operator reset).
    public mutating func reset() {
        active = false
        activeSince = nil
        pendingSince = nil
    }
}

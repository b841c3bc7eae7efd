/// One injected fault: its kind and the window [start, end] (seconds since the epoch, both inclusive)
/// in which an alert counts as catching it. The window ends when the process is back to normal (a
/// repaired room has pulled down again), not when the cause stops, so an alert still open while the
/// room recovers is not a false one.
public struct FaultLabel: Sendable, Hashable {
    public var kind: FaultKind
    public var start: Double
    public var end: Double

    public init(kind: FaultKind, start: Double, end: Double) {
        self.kind = kind
        self.start = start
        self.end = end
    }
}

/// The strongest component so far for the current reading: a channel's score is the largest of its
/// components' scores, and its kind is the one that gave it. A value type on the stack; no allocation.
struct Strongest: Sendable {
    var score = 0.0
    var kind: AlertKind? = nil

    @inline(__always) mutating func offer(_ s: Double, _ k: AlertKind) {
        if s > score { score = s; kind = k }
    }
}

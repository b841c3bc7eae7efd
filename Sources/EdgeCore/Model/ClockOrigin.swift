/// A demo's simulated clock: it reads `simulated` when the wall clock reads `wall`, and runs `speed`
/// times faster from there. The simulator and the agent given the same origin agree on the simulated
/// time of every moment, so a defrost declared for 06:00 happens at 06:00 for both of them.
public struct ClockOrigin: Sendable, Equatable {
    public var wall: Double
    public var simulated: Double

    public init(wall: Double, simulated: Double) {
        self.wall = wall
        self.simulated = simulated
    }

    /// Parses `SIMULATED@WALL`, two Unix times in seconds (e.g. `1764630000@1764701234`).
    public init?(_ text: String) {
        let parts = text.split(separator: "@")
        guard parts.count == 2, let s = Double(parts[0]), let w = Double(parts[1]), s.isFinite, w.isFinite else { return nil }
        self.init(wall: w, simulated: s)
    }

    /// The simulated time at wall time `wall` on a clock running `speed` times faster.
    public func simulated(atWall wall: Double, speed: Double) -> Double {
        simulated + (wall - self.wall) * speed
    }
}

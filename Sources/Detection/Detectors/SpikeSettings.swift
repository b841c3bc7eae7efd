/// Settings for the spike detector: a sample that jumps away from both neighbours and comes back.
public struct SpikeSettings: Sendable, Codable, Hashable {
    /// Smallest jump (in the channel's unit) that can count as a spike, on both sides of the sample.
    public var minJump: Double
    /// The jump must also exceed this many robust standard deviations (1.4826 × MAD of the window).
    public var sigmas: Double
    /// How many spikes inside `memory` seconds make an alert; 1 would alert on every glitch.
    public var count: Int
    /// Seconds a spike is remembered.
    public var memory: Double

    public init(minJump: Double, sigmas: Double = 8, count: Int = 2, memory: Double = 1800) {
        self.minJump = minJump
        self.sigmas = sigmas
        self.count = max(1, count)
        self.memory = memory
    }
}

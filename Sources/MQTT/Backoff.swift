/// Exponential backoff, with "full jitter" when `jitter` is on: the n-th wait (from 0) is drawn
/// uniformly from [0, min(cap, base·2ⁿ)] (the AWS Architecture Blog's "Exponential Backoff And
/// Jitter"). Without jitter it is exactly min(cap, base·2ⁿ).
///
/// Why jitter: 40 agents whose broker restarted, all waiting 1, 2, 4 … s, came back in the same
/// second, every time (libmosquitto's `mosquitto_reconnect_delay_set` has no jitter). Full jitter
/// spreads a herd over the whole window while keeping the expected wait at half the ceiling.
/// Pure: the random source is passed in, so tests check the bounds without a network.
public struct Backoff: Sendable, Equatable {
    /// The first ceiling.
    public var base: Duration
    /// No wait is ever longer than this.
    public var cap: Duration
    public var jitter: Bool
    /// How many waits were drawn since the last `reset()`.
    public private(set) var attempt = 0

    public init(base: Duration = .seconds(1), cap: Duration = .seconds(30), jitter: Bool = true) {
        self.base = max(base, .zero)
        self.cap = max(cap, self.base)
        self.jitter = jitter
    }

    /// min(cap, base·2ⁿ): the longest the n-th wait can be (what it is without jitter).
    public func ceiling(attempt n: Int) -> Duration {
        let capSeconds = Self.seconds(cap)
        // 2^n overflows nothing below the cap: stop doubling once the cap is reached.
        var value = Self.seconds(base)
        var i = 0
        while i < n && value < capSeconds { value *= 2; i += 1 }
        return .seconds(min(value, capSeconds))
    }

    /// The next wait, and counts the attempt.
    public mutating func next<R: RandomNumberGenerator>(using random: inout R) -> Duration {
        let ceiling = Self.seconds(ceiling(attempt: attempt))
        if attempt < 64 { attempt += 1 }
        guard jitter, ceiling > 0 else { return .seconds(ceiling) }
        return .seconds(Double.random(in: 0...ceiling, using: &random))
    }

    /// The next wait drawn from the system's random source.
    public mutating func next() -> Duration {
        var random = SystemRandomNumberGenerator()
        return next(using: &random)
    }

    /// Starts again from `base` (after a success).
    public mutating func reset() { attempt = 0 }

    static func seconds(_ d: Duration) -> Double {
        let (s, atto) = d.components
        return Double(s) + Double(atto) * 1e-18
    }
}

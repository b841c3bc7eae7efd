public import EdgeCore
internal import Synchronization

/// Hands samples from the bus threads to the recorder. Pushing never blocks a bus thread; the
/// recorder takes everything waiting at once and holds it until its commit delay is up, so one
/// transaction holds every poll of that delay.
///
/// Bounded: if the recorder cannot keep up (the card stalls), the oldest samples beyond
/// `capacity` are dropped and counted rather than exhausting memory.
public final class SampleQueue: Sendable {
    private struct State {
        var items: [DeviceSample] = []
        var dropped = 0
        /// When the oldest sample still waiting was pushed (nil while empty).
        var waitingSince: ContinuousClock.Instant? = nil
    }
    private let state = Mutex(State())
    private let wake: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation
    public let capacity: Int

    public init(capacity: Int = 100_000) {
        self.capacity = capacity
        (wake, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func push(_ sample: DeviceSample) {
        let now = ContinuousClock.now
        state.withLock { s in
            if s.items.isEmpty { s.waitingSince = now }
            s.items.append(sample)
            if s.items.count > capacity {
                s.items.removeFirst(s.items.count - capacity)
                s.dropped += 1
            }
        }
        wakeContinuation.yield()
    }

    /// No more samples will come; the consumer's loop ends after draining.
    public func finish() { wakeContinuation.finish() }

    /// Everything waiting, oldest first, and how many were dropped since the last call.
    public func drain() -> (samples: [DeviceSample], dropped: Int) {
        state.withLock { s in
            let out = (s.items, s.dropped)
            s.items.removeAll(keepingCapacity: true)
            s.dropped = 0
            s.waitingSince = nil
            return out
        }
    }

    /// How long the oldest sample not yet taken by the recorder has waited; nil when none waits.
    /// It grows only while the recorder is busy with an earlier batch (a commit that does not return).
    public func waitingFor(at now: ContinuousClock.Instant = .now) -> Duration? {
        state.withLock { $0.waitingSince }.map { $0.duration(to: now) }
    }

    /// Calls `body` with each batch until `finish()` and the queue is empty. With `tick`, `body` is
    /// also called about every `tick` while nothing arrives (with an empty batch), so the consumer can
    /// act on a deadline of its own (the recorder's commit delay) without a timer per sample.
    public func consume(tick: Duration? = nil, _ body: ([DeviceSample], Int) async -> Void) async {
        let ticker: Task<Void, Never>? = tick.map { interval in
            let wake = wakeContinuation
            return Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    wake.yield()
                }
            }
        }
        defer { ticker?.cancel() }
        for await _ in wake {
            let (batch, dropped) = drain()
            if tick != nil || !batch.isEmpty || dropped > 0 { await body(batch, dropped) }
        }
        let (batch, dropped) = drain()
        if !batch.isEmpty || dropped > 0 { await body(batch, dropped) }
    }
}

public import EdgeCore
internal import Synchronization

/// Hands samples from the bus threads to the recorder. Pushing never blocks a bus thread and wakes
/// the recorder only when it waits for a first sample; while polls wait for their commit the
/// recorder sleeps on a deadline of its own and takes everything that gathered at once, so a
/// commit delay of 2 s costs a few wake-ups, not one per poll.
///
/// Bounded: if the recorder cannot keep up (the card stalls), the oldest samples beyond
/// `capacity` are dropped and counted rather than exhausting memory.
public final class SampleQueue: Sendable {
    private struct State {
        var items: [DeviceSample] = []
        var dropped = 0
        /// When the oldest sample still waiting was pushed (nil while empty).
        var waitingSince: ContinuousClock.Instant? = nil
        var finished = false
        /// The consumer, parked until a push (or `finish`).
        var waiter: CheckedContinuation<Void, Never>? = nil
    }
    private let state = Mutex(State())
    public let capacity: Int

    public init(capacity: Int = 100_000) {
        self.capacity = capacity
    }

    public func push(_ sample: DeviceSample) {
        let now = ContinuousClock.now
        let waiter = state.withLock { s in
            if s.items.isEmpty { s.waitingSince = now }
            s.items.append(sample)
            if s.items.count > capacity {
                s.items.removeFirst(s.items.count - capacity)
                s.dropped += 1
            }
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    /// No more samples will come; the consumer's loop ends after draining.
    public func finish() {
        let waiter = state.withLock { s in
            s.finished = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    /// Everything waiting, oldest first; when the oldest was pushed; how many were dropped since
    /// the last call; and whether `finish()` was called (then nothing more will come).
    public func drain() -> (samples: [DeviceSample], oldest: ContinuousClock.Instant?, dropped: Int, finished: Bool) {
        state.withLock { s in
            let out = (s.items, s.waitingSince, s.dropped, s.finished)
            s.items.removeAll(keepingCapacity: true)
            s.dropped = 0
            s.waitingSince = nil
            return out
        }
    }

    /// How long the oldest sample not yet taken by the recorder has waited; nil when none waits.
    /// At most the recorder's look-again interval while it keeps up; it grows while the recorder is
    /// stuck in an earlier batch (a commit that does not return).
    public func waitingFor(at now: ContinuousClock.Instant = .now) -> Duration? {
        state.withLock { $0.waitingSince }.map { $0.duration(to: now) }
    }

    /// Parks the consumer until something is pushed or the queue is finished.
    private func waitForPush() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s in
                if !s.items.isEmpty || s.dropped > 0 || s.finished { return true }
                s.waiter = c
                return false
            }
            if ready { c.resume() }
        }
    }

    /// Calls `body` with each batch (samples, when the oldest was pushed, how many were dropped)
    /// until `finish()` and the queue is empty. `body` returns how long to let samples gather before
    /// it is called again, or nil to be called as soon as the next sample arrives.
    public func consume(_ body: ([DeviceSample], ContinuousClock.Instant?, Int) async -> Duration?) async {
        var gather: Duration? = nil
        while true {
            if let gather {
                try? await Task.sleep(for: gather)
            } else {
                await waitForPush()
            }
            let (batch, oldest, dropped, finished) = drain()
            if !batch.isEmpty || dropped > 0 || !finished { gather = await body(batch, oldest, dropped) }
            if finished { return }
        }
    }
}

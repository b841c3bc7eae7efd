internal import Foundation

/// A serial executor that runs every job on one dedicated OS thread.
///
/// Actors that own a blocking C handle (a libmodbus context, an sqlite3 connection) use it as their
/// `unownedExecutor`, so their blocking calls never occupy a thread of Swift's cooperative pool
/// (ARCHITECTURE.md, invariant 2). One executor per serial bus and per database connection.
///
/// Cost: one thread (default stack 512 KiB) that sleeps on a condition variable when idle.
public final class IOThreadExecutor: SerialExecutor, @unchecked Sendable {
    // @unchecked Sendable: `jobs` and `stopped` are only touched while holding `condition`, and
    // `thread` is written once in init before any other thread can see `self`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false
    private var thread: Thread?
    public let name: String

    /// Starts the thread. `name` shows in `top -H` and in crash reports.
    public init(name: String, stackSize: Int = 512 * 1024) {
        self.name = name
        let thread = Thread { self.drain() }  // retained until shutdown() ends the loop
        thread.name = name
        thread.stackSize = stackSize
        self.thread = thread
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Stops the thread after the jobs already queued have run. Jobs enqueued later never run, so
    /// call it only once the owning actor is done.
    public func shutdown() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func drain() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty && stopped {
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch {
                job.runSynchronously(on: asUnownedSerialExecutor())
            }
        }
    }

    /// True when called on this executor's thread: a cheap check for tests and assertions.
    public var isCurrentThread: Bool { Thread.current === thread }
}

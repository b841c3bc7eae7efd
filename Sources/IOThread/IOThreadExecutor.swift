#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A serial executor that runs every job on one dedicated OS thread.
///
/// Actors that own a blocking C handle (a libmodbus context, an sqlite3 connection) use it as their
/// `unownedExecutor`, so their blocking calls never occupy a thread of Swift's cooperative pool
/// (ARCHITECTURE.md, invariant 2). One executor per serial bus and per database connection.
///
/// Built on pthreads directly (no Foundation `Thread`), so the agent links without Foundation.
/// Cost: one thread (default stack 512 KiB) that sleeps on a condition variable when idle.
public final class IOThreadExecutor: SerialExecutor, @unchecked Sendable {
    // @unchecked Sendable: `jobs`, `stopped` and `thread` are only touched while holding `mutex`.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var jobs: [UnownedJob] = []
    private var stopped = false
    private var thread = pthread_t()
    public let name: String

    /// Starts the thread. `name` shows in `top -H` (the kernel keeps its first 15 bytes) and in crash
    /// reports.
    public init(name: String, stackSize: Int = 512 * 1024) {
        self.name = name
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        // The thread holds a strong reference until drain() returns, as Foundation's Thread did.
        OSThread.start(name: name, stackSize: stackSize) { self.drain() }
    }

    deinit {
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(mutex)
        wake.deallocate()
        mutex.deallocate()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        pthread_mutex_lock(mutex)
        jobs.append(unowned)
        pthread_cond_signal(wake)
        pthread_mutex_unlock(mutex)
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Stops the thread after the jobs already queued have run. Jobs enqueued later never run, so
    /// call it only once the owning actor is done.
    public func shutdown() {
        pthread_mutex_lock(mutex)
        stopped = true
        pthread_cond_signal(wake)
        pthread_mutex_unlock(mutex)
    }

    private func drain() {
        pthread_mutex_lock(mutex)
        thread = pthread_self()
        pthread_mutex_unlock(mutex)
        var batch: [UnownedJob] = []
        while true {
            pthread_mutex_lock(mutex)
            while jobs.isEmpty && !stopped { pthread_cond_wait(wake, mutex) }
            if jobs.isEmpty && stopped {
                pthread_mutex_unlock(mutex)
                return
            }
            swap(&batch, &jobs)
            pthread_mutex_unlock(mutex)
            for job in batch {
                job.runSynchronously(on: asUnownedSerialExecutor())
            }
            batch.removeAll(keepingCapacity: true)
        }
    }

    /// True when called on this executor's thread: a cheap check for tests and assertions.
    public var isCurrentThread: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return pthread_equal(pthread_self(), thread) != 0
    }
}

import Foundation
import IOThread
import Testing

/// The pthread-based executor and thread helpers that replaced Foundation's `Thread` and `NSLock`.
@Suite("IOThread")
struct IOThreadTests {
    actor Counter {
        let executor: IOThreadExecutor
        nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
        var values: [Int] = []
        var onOwnThread = true
        init(executor: IOThreadExecutor) { self.executor = executor }
        func add(_ v: Int) {
            onOwnThread = onOwnThread && executor.isCurrentThread
            values.append(v)
        }
    }

    @Test("an actor on the executor runs every job on its own named thread, in order")
    func runsJobsOnItsThread() async throws {
        let executor = IOThreadExecutor(name: "test-io-thread")
        defer { executor.shutdown() }
        let counter = Counter(executor: executor)
        for i in 0..<500 { await counter.add(i) }
        #expect(await counter.values == Array(0..<500))
        #expect(await counter.onOwnThread)
        #expect(!executor.isCurrentThread)
        // The kernel shows the thread by name (top -H, /proc/PID/task/TID/comm).
        #expect(Self.threadNames().contains("test-io-thread"))
    }

    @Test("a started thread runs its closure; the lock keeps a shared counter exact")
    func threadAndLock() async throws {
        final class Box: @unchecked Sendable { var n = 0; var done = 0 }
        let box = Box()
        let lock = PlainLock()
        for t in 0..<4 {
            OSThread.start(name: "test-worker-\(t)") {
                for _ in 0..<10_000 { lock.withLock { box.n += 1 } }
                lock.withLock { box.done += 1 }
            }
        }
        try await waitUntil(timeout: .seconds(20), "four worker threads done") { lock.withLock { box.done } == 4 ? true : nil }
        #expect(lock.withLock { box.n } == 40_000)
    }

    @Test("OSThread.sleep waits at least as long as asked")
    func sleeps() {
        let start = Date()
        OSThread.sleep(seconds: 0.05)
        #expect(Date().timeIntervalSince(start) >= 0.049)
    }

    static func threadNames() -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    }
}

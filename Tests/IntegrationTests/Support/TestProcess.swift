import Foundation
import Synchronization

/// A child process a test owns: its output is collected line by line, and it is killed when the
/// test ends (`stop`, or deinit on every exit path).
final class TestProcess: Sendable {
    let name: String
    private let process: Process
    private let stdin: Pipe
    private let buffer = OutputBuffer()

    /// `unblockSignals`: start the child with SIGHUP, SIGINT, SIGTERM, SIGUSR1 and SIGUSR2 unblocked.
    /// A child inherits the spawning thread's signal mask, and this test process has those blocked:
    /// mosquitto, which waits for its signals with that inherited mask, then never sees a SIGHUP
    /// (no ACL reload) nor a SIGTERM. On a real board it starts with none blocked.
    init(_ executable: String, _ arguments: [String], name: String? = nil, environment: [String: String]? = nil,
         currentDirectory: String? = nil, unblockSignals: Bool = false) throws {
        self.name = name ?? (executable as NSString).lastPathComponent
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let out = Pipe()
        stdin = Pipe()
        process.standardOutput = out
        process.standardError = out
        process.standardInput = stdin
        let buffer = self.buffer
        let tag = self.name
        if unblockSignals {
            var signals = sigset_t()
            var previous = sigset_t()
            sigemptyset(&signals)
            for signal in [SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2] { sigaddset(&signals, signal) }
            pthread_sigmask(SIG_UNBLOCK, &signals, &previous)
            defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }  // this thread is the pool's: leave it as it was
            try process.run()
        } else {
            try process.run()
        }
        // A thread of its own reads the output with plain blocking reads until the end of file. (With
        // a readabilityHandler, the last lines of a short-lived child were sometimes never seen under
        // load; a reader that stops only at read() == 0 cannot miss any.) The thread holds the pipe,
        // so its descriptor outlives the reads.
        Thread {
            let fd = out.fileHandleForReading.fileDescriptor
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && (errno == EINTR || errno == EAGAIN) {
                    var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    _ = poll(&pfd, 1, 100)
                    continue
                }
                if n <= 0 { break }
                let complete: [String] = buffer.state.withLock { st in
                    st.partial.append(contentsOf: chunk[..<n])
                    var result: [String] = []
                    while let nl = st.partial.firstIndex(of: 0x0A) {
                        result.append(String(decoding: st.partial[..<nl], as: UTF8.self))
                        st.partial.removeSubrange(...nl)
                    }
                    st.lines.append(contentsOf: result)
                    return result
                }
                if !complete.isEmpty, ProcessInfo.processInfo.environment["COOP_EDGE_TEST_VERBOSE"] != nil {
                    for l in complete { print("[\(tag)] \(l)") }
                }
            }
            buffer.state.withLock { $0.eof = true }
            withExtendedLifetime(out) {}
        }.start()
    }

    deinit { stop(signal: SIGKILL) }

    var output: [String] { buffer.state.withLock { $0.lines } }
    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    /// The process exited and all it wrote has been collected.
    var finished: Bool { !process.isRunning && buffer.state.withLock { $0.eof } }

    /// Writes one line to the process's standard input.
    func send(_ line: String) {
        stdin.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// Sends `signal` and waits (up to `timeout`) for the process to exit; returns its status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(15)) -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, signal)
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal ? -process.terminationStatus : process.terminationStatus
    }

    /// Waits until a line satisfies `predicate`; returns it, or throws with the output so far.
    @discardableResult
    func waitForLine(timeout: Duration = .seconds(20), _ what: String = "line", where predicate: (String) -> Bool) async throws -> String {
        try await waitUntil(timeout: timeout, "\(name): \(what)\n--- output ---\n\(output.suffix(30).joined(separator: "\n"))") {
            output.first(where: predicate)
        }
    }
}

/// What a child wrote, shared with the pipe's reader thread.
final class OutputBuffer: Sendable {
    struct State {
        var lines: [String] = []
        var partial: [UInt8] = []
        var eof = false
    }
    let state = Mutex(State())
}

struct TimeoutError: Error, CustomStringConvertible {
    let description: String
}

@discardableResult
/// Polls `probe` every 20 ms until it returns a value or the deadline passes.
func waitUntil<T>(timeout: Duration = .seconds(20), _ what: @autoclosure () -> String, _ probe: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while true {
        if let v = try await probe() { return v }
        if ContinuousClock.now >= deadline { throw TimeoutError(description: "timed out waiting for \(what())") }
        try await Task.sleep(for: .milliseconds(20))  // poll interval of a deadline-bound wait
    }
}

/// Runs a command to completion without holding a thread of the tests' cooperative pool (two
/// threads on a two-core runner: a test that blocks one stalls every other test's waits); returns
/// its exit status.
func runAsync(_ path: String, _ args: [String]) async throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    p.standardOutput = FileHandle.nullDevice
    return try await withCheckedThrowingContinuation { (done: CheckedContinuation<Int32, any Error>) in
        p.terminationHandler = { done.resume(returning: $0.terminationStatus) }
        do { try p.run() } catch {
            p.terminationHandler = nil
            done.resume(throwing: error)
        }
    }
}

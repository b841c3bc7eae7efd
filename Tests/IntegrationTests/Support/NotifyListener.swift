import Foundation
import Glibc
import Synchronization

/// A datagram socket where `$NOTIFY_SOCKET` points, as systemd binds it: collects what the agent
/// sends, with the time each message arrived. A path starting with `@` is an abstract socket.
final class NotifyListener: Sendable {
    struct Message: Sendable {
        let time: ContinuousClock.Instant
        let text: String
    }

    /// What the reading thread shares with the listener (the thread holds this, not the listener,
    /// so dropping the listener stops it).
    private final class Shared: Sendable {
        let fd: Int32
        let received = Mutex<[Message]>([])
        let stopping = Mutex(false)
        let started = Mutex(false)
        init(fd: Int32) { self.fd = fd }

        func readLoop() {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !stopping.withLock({ $0 }) {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 {
                    let text = String(decoding: buffer[..<n], as: UTF8.self)
                    received.withLock { $0.append(Message(time: .now, text: text)) }
                }
            }
            // The thread closes the socket itself: closed earlier, its number could be reused by
            // another test's descriptor while a recv is still to come.
            close(fd)
        }
    }

    let path: String
    private let fd: Int32
    private let shared: Shared

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TimeoutError(description: "socket: errno \(errno)") }
        shared = Shared(fd: fd)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var name = Array(path.utf8)
        if name.first == UInt8(ascii: "@") { name[0] = 0 }
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: name) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + name.count)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw TimeoutError(description: "bind \(path): errno \(errno)") }  // deinit closes fd
        // A receive timeout, so the reading thread notices `stop()`.
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let shared = self.shared
        shared.started.withLock { $0 = true }
        Thread { shared.readLoop() }.start()
    }

    deinit {
        stop()
        if !shared.started.withLock({ $0 }) { close(fd) }
        if path.hasPrefix("/") { unlink(path) }
    }

    /// Stops the reading thread: it ends within its 100 ms receive timeout and closes the socket.
    /// Does not wait (a test's thread must not block).
    func stop() {
        shared.stopping.withLock { $0 = true }
    }

    var messages: [Message] { shared.received.withLock { $0 } }

    /// Messages received after `index` (an earlier `messages.count`).
    func messages(after index: Int) -> [Message] { Array(messages.dropFirst(index)) }
}

internal import FoundationEssentials
internal import Glibc

/// The receive side of one RS-485 line: reads the serial port's bytes itself (libmodbus only opens the
/// port and sends), so that a value published as good is always the answer to the request it is
/// stored for.
///
/// RTU replies carry no transaction id, and libmodbus's own recovery waits once and flushes once: a
/// reply later than that is read as the answer to the next request of the same shape. Here:
/// - before every request, bytes already on the line are read and accounted for, then flushed;
/// - a frame is accepted only if its CRC, slave id, function and length fit the request in flight;
///   any other complete frame is a late reply, counted against the slave that sent it, and the wait
///   for the real answer goes on;
/// - after a timeout the line is drained until it has stayed silent for `guardSilence`, so a late
///   reply arrives while nothing is asked rather than inside the next request's window. A late reply
///   caught there teaches the line how long that slave really takes: its own response timeout grows
///   (up to `maxTimeout`), and the next answers are read in time instead of timing out.
/// Costs: one `poll` + `read` per burst of bytes; a timeout costs the response timeout plus the guard.
struct RTULine {
    struct Settings {
        var bus: String
        var responseTimeout: Duration
        var byteTimeout: Duration
        /// Silence required after a timeout before the next request.
        var guardSilence: Duration
        /// The most a learned per-slave timeout may grow to.
        var maxTimeout: Duration
    }

    let settings: Settings
    /// Per slave: the response timeout learned from its late replies (absent: the configured one).
    private(set) var learnedTimeout: [UInt8: Duration] = [:]
    /// Per slave: when its last unanswered request was sent; a frame from it later is that reply.
    private var unanswered: [UInt8: ContinuousClock.Instant] = [:]
    /// Late replies discarded, per slave; frames nobody asked for, per slave id.
    private(set) var lateReplies: [UInt8: Int] = [:]
    private(set) var unexpectedFrames: [UInt8: Int] = [:]
    /// Bytes that fitted no frame (noise, a frame cut short).
    private(set) var garbageBytes = 0
    /// Log lines for the bus's owner: each new fact once (a slave found late, a timeout learned).
    private(set) var notes: [String] = []
    /// Bytes read after the answer of the last request: accounted for before the next one.
    private var leftover: [UInt8] = []

    init(settings: Settings) { self.settings = settings }

    /// The response timeout used for `slave` now.
    func timeout(for slave: UInt8) -> Duration {
        learnedTimeout[slave] ?? settings.responseTimeout
    }

    mutating func takeNotes() -> [String] {
        defer { notes.removeAll(keepingCapacity: true) }
        return notes
    }

    // MARK: Requests

    /// Reads what is already on the line (a late reply that came while nothing was asked) and
    /// accounts for it; the caller flushes the port afterwards.
    mutating func absorbPending(fd: Int32) throws(ModbusError) {
        var bytes = leftover
        leftover.removeAll(keepingCapacity: true)
        _ = try readAvailable(fd: fd, into: &bytes, waitingUpTo: .zero)
        account(&bytes, at: .now)
    }

    /// Waits for the answer to the request sent at `sentAt`. Returns its data bytes, or throws
    /// `.timeout`, `.exception`, `.badCRC` (the line was drained behind it either way).
    mutating func receive(fd: Int32, expecting expected: RTUFrame.Expectation,
                          sentAt: ContinuousClock.Instant) throws(ModbusError) -> [UInt8] {
        let deadline = sentAt + timeout(for: expected.slave)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(256)
        var lastByte = sentAt
        var badCRCFromSlave = false
        while true {
            // Take every complete frame off the front of the buffer.
            parsing: while !buffer.isEmpty {
                switch RTUFrame.head(buffer[...]) {
                case .needMore:
                    break parsing
                case .unframeable:
                    buffer.removeFirst()
                    garbageBytes += 1
                case .length(let n):
                    guard buffer.count >= n else { break parsing }
                    let frame = buffer[0..<n]
                    guard RTUFrame.crc16(frame) == 0 else {
                        // Noise, or a frame we joined halfway: slide one byte and look again.
                        if frame.first == expected.slave { badCRCFromSlave = true }
                        buffer.removeFirst()
                        garbageBytes += 1
                        continue parsing
                    }
                    let match = RTUFrame.match(frame, expected)
                    buffer.removeFirst(n)
                    switch match {
                    case .answer(let data):
                        leftover = buffer
                        unanswered[expected.slave] = nil
                        return data
                    case .exception(let code):
                        leftover = buffer
                        unanswered[expected.slave] = nil
                        throw ModbusError(.exception, "slave \(expected.slave) refused the request: exception \(code) (\(ModbusError.exceptionName(code)))", exception: code)
                    case .stray(let slave):
                        noteFrame(from: slave, at: lastByte, asking: expected.slave)
                    }
                }
            }
            // Wait for more: for the first byte until the deadline, inside a frame for the byte timeout.
            let now = ContinuousClock.now
            let limit = buffer.isEmpty ? deadline : lastByte + settings.byteTimeout
            if now >= limit {
                if buffer.isEmpty { break }
                // A frame stopped halfway: what is there cannot be completed; resync past its first byte.
                if buffer.first == expected.slave, buffer.count >= 5 { badCRCFromSlave = true }
                buffer.removeFirst()
                garbageBytes += 1
                continue
            }
            if try readAvailable(fd: fd, into: &buffer, waitingUpTo: now.duration(to: limit)) {
                lastByte = .now
            }
        }
        // Nothing that answers the request came in time.
        unanswered[expected.slave] = sentAt
        if badCRCFromSlave {
            try drain(fd: fd, silence: settings.byteTimeout * 2)
            throw ModbusError(.badCRC, "bad CRC from slave \(expected.slave) on bus \(settings.bus): check baud rate, wiring and termination")
        }
        try drain(fd: fd, silence: max(settings.guardSilence, timeout(for: expected.slave) + settings.responseTimeout))
        throw ModbusError(.timeout, "slave \(expected.slave) on bus \(settings.bus) did not answer within \(Self.text(timeout(for: expected.slave)))")
    }

    /// Reads until the line has been silent for `silence`, and accounts for every frame read.
    mutating func drain(fd: Int32, silence: Duration) throws(ModbusError) {
        var bytes: [UInt8] = []
        var quietSince = ContinuousClock.now
        while true {
            let now = ContinuousClock.now
            let end = quietSince + silence
            if now >= end { break }
            if try readAvailable(fd: fd, into: &bytes, waitingUpTo: now.duration(to: end)) {
                quietSince = .now
                account(&bytes, at: quietSince)
            }
        }
        garbageBytes += bytes.count
    }

    // MARK: Accounting

    /// Takes complete frames with a good CRC off `bytes` and attributes each to its sender; what fits
    /// no frame is counted as garbage. Leaves an unfinished frame in `bytes`.
    private mutating func account(_ bytes: inout [UInt8], at time: ContinuousClock.Instant) {
        while !bytes.isEmpty {
            switch RTUFrame.head(bytes[...]) {
            case .needMore:
                return
            case .unframeable:
                bytes.removeFirst()
                garbageBytes += 1
            case .length(let n):
                guard bytes.count >= n else { return }
                if RTUFrame.crc16(bytes[0..<n]) == 0 {
                    noteFrame(from: bytes[0], at: time, asking: nil)
                    bytes.removeFirst(n)
                } else {
                    bytes.removeFirst()
                    garbageBytes += 1
                }
            }
        }
    }

    /// A complete frame that answers nothing in flight. From a slave whose request timed out, it is
    /// that late reply: counted, and the slave's timeout learned from how late it was.
    private mutating func noteFrame(from slave: UInt8, at time: ContinuousClock.Instant, asking current: UInt8?) {
        guard let sent = unanswered.removeValue(forKey: slave) else {
            unexpectedFrames[slave, default: 0] += 1
            if unexpectedFrames[slave] == 1 {
                notes.append("bus \(settings.bus): a frame from slave \(slave) that answers no request in flight was discarded"
                    + (slave == current ? " (a late reply of another shape)" : " — is a second master on this line, or two devices with one slave id?"))
            }
            return
        }
        lateReplies[slave, default: 0] += 1
        let lateness = sent.duration(to: time)
        let configured = settings.responseTimeout
        let wanted = min(settings.maxTimeout, max(configured, lateness * 1.25 + settings.byteTimeout))
        if wanted > timeout(for: slave) {
            learnedTimeout[slave] = wanted
            notes.append("bus \(settings.bus): slave \(slave) answered \(Self.text(lateness)) after its request, later than the \(Self.text(configured)) response timeout; "
                + "the late reply was discarded and the agent now waits up to \(Self.text(wanted)) for slave \(slave) — raise response_timeout_ms if the line is long or the sensor slow")
        } else if lateReplies[slave] == 1 {
            notes.append("bus \(settings.bus): slave \(slave) answered \(Self.text(lateness)) after its request, later than its timeout; the late reply was discarded")
        }
    }

    // MARK: I/O

    /// Waits up to `wait` for bytes and appends what is there. True if any arrived. Throws
    /// `.connection` when the port is gone (a USB adapter pulled: `read` fails with EIO/ENXIO).
    private func readAvailable(fd: Int32, into buffer: inout [UInt8], waitingUpTo wait: Duration) throws(ModbusError) -> Bool {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let (s, a) = wait.components
        let ms = Int32(clamping: s * 1000 + (a + 999_999_999_999_999) / 1_000_000_000_000_000)
        let ready = poll(&pfd, 1, max(0, ms))
        if ready < 0 {
            let e = errno
            if e == EINTR { return false }
            throw ModbusError(.connection, "bus \(settings.bus): waiting on the serial port failed: \(String(cString: strerror(e)))")
        }
        guard ready > 0 else { return false }
        if pfd.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 && pfd.revents & Int16(POLLIN) == 0 {
            throw ModbusError(.connection, "bus \(settings.bus): the serial port went away — was the USB adapter unplugged?")
        }
        var chunk = [UInt8](repeating: 0, count: 256)
        var got = false
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
                got = true
                if n < chunk.count { return got }
                continue
            }
            if n == 0 { return got }
            let e = errno
            if e == EAGAIN || e == EWOULDBLOCK || e == EINTR { return got }
            throw ModbusError(.connection, "bus \(settings.bus): reading the serial port failed (\(String(cString: strerror(e)))) — was the USB adapter unplugged?")
        }
    }

    static func text(_ d: Duration) -> String {
        let (s, a) = d.components
        let ms = s * 1000 + a / 1_000_000_000_000_000
        return ms >= 10_000 ? "\(ms / 1000) s" : ms >= 1000 ? "\(Double(ms / 10) / 100) s" : "\(ms) ms"
    }
}

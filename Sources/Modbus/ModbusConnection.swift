internal import CModbus
internal import CPlatform
public import EdgeCore
internal import IOThread
internal import FoundationEssentials
internal import Glibc

/// One Modbus master connection (TCP, or an RTU serial line) and the only owner of its libmodbus
/// context. Every call blocks the connection's own thread, never Swift's cooperative pool
/// (ARCHITECTURE.md, invariant 2), and calls run one at a time, so requests on a bus never overlap
/// (invariant 3).
public actor ModbusConnection {
    private let executor: IOThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public nonisolated let config: BusConfig
    /// The libmodbus context, freed when the connection goes away.
    private var handle: ModbusContext?
    private var ctx: OpaquePointer? {
        get { handle?.raw }
        set { handle = newValue.map(ModbusContext.init) }
    }
    private var connected = false
    private var lastRequestEnd: ContinuousClock.Instant?
    /// Timeouts in a row on this connection. A TCP link whose peer vanished without a reset (a NAT
    /// entry expired, a gateway lost power) times out forever; reopening it is the cure.
    private var consecutiveTimeouts = 0
    static let reopenAfterTimeouts = 3
    /// RTU only: the line's own receive side (libmodbus opens the port and sends; see `RTULine`).
    private var line: RTULine?

    public init(config: BusConfig) {
        self.config = config
        self.executor = IOThreadExecutor(name: "modbus-\(config.name)")
    }

    // Not an `isolated deinit`: with cross-module optimisation (release builds) Swift 6.3 fails
    // with "circular reference" on one here. The context is freed by its owner class instead.
    deinit {
        executor.shutdown()
    }

    public var isConnected: Bool { connected }

    /// Opens the TCP connection or the serial port. Blocks up to the response timeout (TCP connect).
    /// Wraps `modbus_new_tcp_pi` / `modbus_new_rtu` and `modbus_connect`.
    public func connect() throws(ModbusError) {
        if connected { return }
        if ctx == nil {
            switch config.transport {
            case .tcp(let host, let port):
                ctx = modbus_new_tcp_pi(host, String(port))
            case .rtu(let device, let serial, _):
                let parity = CChar(UInt8(ascii: serial.parity == .even ? "E" : serial.parity == .odd ? "O" : "N"))
                ctx = modbus_new_rtu(device, Int32(serial.baud), parity, Int32(serial.dataBits), Int32(serial.stopBits))
            }
            guard let ctx else {
                throw ModbusError(.invalidRequest, "bus \(config.name): cannot create a Modbus context: \(Self.errnoText(errno))")
            }
            if case .tcp = config.transport {
                // Late replies must never be read as the answer to the next request (FIELD-NOTES.md).
                modbus_set_error_recovery(ctx, modbus_error_recovery_mode(
                    rawValue: MODBUS_ERROR_RECOVERY_LINK.rawValue | MODBUS_ERROR_RECOVERY_PROTOCOL.rawValue))
            } else {
                // RTU: `RTULine` reads every reply itself and libmodbus only sends. Its link recovery
                // must stay off: when a send fails (EIO from a USB adapter that was pulled) it sleeps
                // and retries in a loop that never ends, and the bus thread with it.
                modbus_set_error_recovery(ctx, MODBUS_ERROR_RECOVERY_NONE)
            }
            modbus_set_response_timeout(ctx, UInt32(config.responseTimeoutMS / 1000), UInt32(config.responseTimeoutMS % 1000) * 1000)
            modbus_set_byte_timeout(ctx, UInt32(config.byteTimeoutMS / 1000), UInt32(config.byteTimeoutMS % 1000) * 1000)
        }
        guard let ctx else { return }
        if modbus_connect(ctx) == -1 {
            let e = errno
            throw connectError(e)
        }
        if case .rtu(_, _, let rs485) = config.transport, rs485 {
            if modbus_rtu_set_serial_mode(ctx, Int32(MODBUS_RTU_RS485)) == -1 {
                let e = errno
                modbus_close(ctx)
                throw ModbusError(.connection, "bus \(config.name): the port refused RS-485 mode (\(Self.errnoText(e))); set rs485: false — most USB adapters switch direction themselves")
            }
        }
        modbus_flush(ctx)
        if case .rtu = config.transport, line == nil {
            line = RTULine(settings: .init(
                bus: config.name,
                responseTimeout: .milliseconds(config.responseTimeoutMS),
                byteTimeout: .milliseconds(config.byteTimeoutMS),
                guardSilence: .milliseconds(config.effectiveLateReplyGuardMS),
                maxTimeout: .milliseconds(min(10_000, max(1_000, 8 * config.responseTimeoutMS)))))
        }
        connected = true
    }

    /// RTU: log lines about the line since the last call (a slave found late and the timeout learned
    /// for it, frames nobody asked for). Empty for TCP.
    public func takeLineNotes() -> [String] {
        line?.takeNotes() ?? []
    }

    /// RTU: late replies discarded so far, per slave id.
    public var lateReplies: [Int: Int] {
        Dictionary(uniqueKeysWithValues: (line?.lateReplies ?? [:]).map { (Int($0.key), $0.value) })
    }

    /// RTU: the response timeout used for `slave` now (the configured one, or what its late replies taught).
    public func responseTimeoutMS(slave: Int) -> Int {
        guard let line else { return config.responseTimeoutMS }
        let (s, a) = line.timeout(for: UInt8(clamping: slave)).components
        return Int(s * 1000 + a / 1_000_000_000_000_000)
    }

    /// Closes the connection; the next `connect()` reopens it (for example after a USB adapter
    /// came back as a new device).
    public func close() {
        if let ctx, connected { modbus_close(ctx) }
        connected = false
    }

    /// Reads `count` 16-bit registers (`holding` or `input`) or bits (`coil`, `discrete`, one per
    /// element, 0 or 1) from `slave`. Blocks the bus thread up to the response timeout, plus the
    /// bus's inter-frame delay. Wraps `modbus_read_registers`, `modbus_read_input_registers`,
    /// `modbus_read_bits`, `modbus_read_input_bits`.
    public func read(slave: Int, function: RegisterFunction, address: Int, count: Int) throws(ModbusError) -> [UInt16] {
        guard count > 0, count <= function.maxPerRequest, address >= 0, address + count <= 65536 else {
            throw ModbusError(.invalidRequest, "read of \(count) at \(address) is outside the Modbus address space")
        }
        try connect()
        guard let ctx else { throw ModbusError(.connection, "bus \(config.name) is not open") }
        if line != nil {
            let fn: UInt8 = switch function { case .coil: 1; case .discrete: 2; case .holding: 3; case .input: 4 }
            let data = try rtuTransact(ctx, slave: slave, function: fn,
                                       [UInt8(address >> 8), UInt8(address & 0xFF), UInt8(count >> 8), UInt8(count & 0xFF)],
                                       expecting: .read(slave: UInt8(slave), function: fn, count: count))
            if fn <= 2 {
                return (0..<count).map { UInt16((data[$0 / 8] >> ($0 % 8)) & 1) }
            }
            return (0..<count).map { UInt16(data[2 * $0]) << 8 | UInt16(data[2 * $0 + 1]) }
        }
        waitInterFrameDelay()
        defer { lastRequestEnd = .now }
        modbus_set_slave(ctx, Int32(slave))
        var words = [UInt16](repeating: 0, count: count)
        let rc: Int32
        switch function {
        case .holding: rc = modbus_read_registers(ctx, Int32(address), Int32(count), &words)
        case .input: rc = modbus_read_input_registers(ctx, Int32(address), Int32(count), &words)
        case .coil, .discrete:
            var bits = [UInt8](repeating: 0, count: count)
            rc = function == .coil ? modbus_read_bits(ctx, Int32(address), Int32(count), &bits)
                                   : modbus_read_input_bits(ctx, Int32(address), Int32(count), &bits)
            if rc == count { return bits.map { $0 != 0 ? 1 : 0 } }
        }
        if rc == -1 {
            let e = errno
            throw requestError(e, slave: slave)
        }
        consecutiveTimeouts = 0
        guard Int(rc) == count else {
            modbus_flush(ctx)
            throw ModbusError(.badData, "slave \(slave) answered \(rc) values, \(count) were asked for")
        }
        return words
    }

    /// Writes one holding register. Refused unless `channel.writable` (ARCHITECTURE.md, invariant 4).
    public func write(slave: Int, channel: ChannelSpec, value: Double) throws(ModbusError) {
        guard channel.writable else {
            throw ModbusError(.invalidRequest, "channel \(channel.name) is not marked writable; the agent only reads")
        }
        guard channel.function == .holding || channel.function == .coil else {
            throw ModbusError(.invalidRequest, "channel \(channel.name) is a read-only \(channel.function.rawValue)")
        }
        try connect()
        guard let ctx else { throw ModbusError(.connection, "bus \(config.name) is not open") }
        var words = RegisterCodec.encode(value, channel: channel)
        if line != nil {
            let a = [UInt8(channel.address >> 8), UInt8(channel.address & 0xFF)]
            if channel.function == .coil {
                let on: [UInt8] = value != 0 ? [0xFF, 0x00] : [0x00, 0x00]
                _ = try rtuTransact(ctx, slave: slave, function: 5, a + on, expecting: .write(slave: UInt8(slave), function: 5, echo: a + on))
            } else {
                let n = [UInt8(words.count >> 8), UInt8(words.count & 0xFF)]
                let body = words.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
                _ = try rtuTransact(ctx, slave: slave, function: 16, a + n + [UInt8(body.count)] + body,
                                    expecting: .write(slave: UInt8(slave), function: 16, echo: a + n))
            }
            return
        }
        waitInterFrameDelay()
        defer { lastRequestEnd = .now }
        modbus_set_slave(ctx, Int32(slave))
        let rc = channel.function == .coil
            ? modbus_write_bit(ctx, Int32(channel.address), value != 0 ? 1 : 0)
            : modbus_write_registers(ctx, Int32(channel.address), Int32(words.count), &words)
        if rc == -1 {
            let e = errno
            throw requestError(e, slave: slave)
        }
    }

    /// One RTU request and its answer: what is already on the line is accounted for and flushed, the
    /// request is sent by libmodbus (`modbus_send_raw_request`, which adds the CRC and drives RTS), and
    /// `RTULine` reads the reply. Blocks the bus thread up to the slave's response timeout, plus the
    /// late-reply guard after a timeout.
    private func rtuTransact(_ ctx: OpaquePointer, slave: Int, function: UInt8, _ data: [UInt8],
                             expecting expected: RTUFrame.Expectation) throws(ModbusError) -> [UInt8] {
        guard var line else { throw ModbusError(.connection, "bus \(config.name) is not open") }
        defer { self.line = line; lastRequestEnd = .now }
        let fd = modbus_get_socket(ctx)
        do throws(ModbusError) {
            waitInterFrameDelay()
            try line.absorbPending(fd: fd)
            modbus_flush(ctx)
            let raw = [UInt8(slave), function] + data
            let sent = raw.withUnsafeBufferPointer { modbus_send_raw_request(ctx, $0.baseAddress, Int32($0.count)) }
            if sent == -1 {
                let e = errno
                close()
                throw ModbusError(.connection, "bus \(config.name): sending to the serial port failed (\(Self.errnoText(e))) — was the USB adapter unplugged?")
            }
            return try line.receive(fd: fd, expecting: expected, sentAt: .now)
        } catch {
            if error.code == .connection { close() }
            throw error
        }
    }

    /// Keeps the bus silent for the configured inter-frame delay since the previous request ended.
    private func waitInterFrameDelay() {
        guard config.interFrameDelayMS > 0, let last = lastRequestEnd else { return }
        let due = last.advanced(by: .milliseconds(config.interFrameDelayMS))
        let remaining = ContinuousClock.now.duration(to: due)
        if remaining > .zero {
            let (s, a) = remaining.components
            var ts = timespec(tv_sec: Int(s), tv_nsec: Int(a / 1_000_000_000))
            nanosleep(&ts, nil)  // this is the bus's own thread: blocking here is the point
        }
    }

    /// The single place where libmodbus's errno values become `ModbusError`s.
    private func requestError(_ e: Int32, slave: Int) -> ModbusError {
        let base = CModbus_ENOBASE()
        if e == ETIMEDOUT {
            if let ctx { modbus_flush(ctx) }
            consecutiveTimeouts += 1
            if case .tcp = config.transport, consecutiveTimeouts >= Self.reopenAfterTimeouts {
                consecutiveTimeouts = 0
                close()  // the next request reconnects
            }
            return ModbusError(.timeout, "slave \(slave) on bus \(config.name) did not answer within \(config.responseTimeoutMS) ms")
        }
        if e == CModbus_EMBBADCRC() {
            if let ctx { modbus_flush(ctx) }
            return ModbusError(.badCRC, "bad CRC from slave \(slave) on bus \(config.name): check baud rate, wiring and termination")
        }
        if e > base && e <= base + 11 {
            let code = UInt8(e - base)
            return ModbusError(.exception, "slave \(slave) refused the request: exception \(code) (\(ModbusError.exceptionName(code)))", exception: code)
        }
        if e == CModbus_EMBBADDATA() || e == CModbus_EMBBADSLAVE() || e == CModbus_EMBMDATA() || e == CModbus_EMBBADEXC() {
            if let ctx { modbus_flush(ctx) }
            return ModbusError(.badData, "invalid reply from slave \(slave) on bus \(config.name): \(Self.errnoText(e))")
        }
        // Anything else is the link itself: drop it so the next request reconnects.
        close()
        return ModbusError(.connection, "bus \(config.name) lost: \(Self.errnoText(e))")
    }

    private func connectError(_ e: Int32) -> ModbusError {
        switch config.transport {
        case .rtu(let device, _, _):
            if e == EACCES {
                return ModbusError(.permission, "permission denied on \(device) — add the user to the dialout group (or use the systemd unit, which grants the device)")
            }
            if e == ENOENT || e == ENODEV || e == ENXIO {
                return ModbusError(.connection, "serial port \(device) does not exist — is the USB adapter plugged in? prefer /dev/serial/by-id/… names")
            }
            return ModbusError(.connection, "cannot open \(device): \(Self.errnoText(e))")
        case .tcp(let host, let port):
            if e == ECONNREFUSED {
                return ModbusError(.connection, "connection refused by \(host):\(port) — is the Modbus gateway running and listening on that port?")
            }
            return ModbusError(.connection, "cannot connect to \(host):\(port): \(Self.errnoText(e))")
        }
    }

    static func errnoText(_ e: Int32) -> String {
        guard let s = modbus_strerror(e) else { return "error \(e)" }
        return String(cString: s)
    }
}

/// Owns one `modbus_t*`: closes and frees it when the last reference goes, which is the
/// connection actor's own deinit, so no other thread can be using it then.
final class ModbusContext {
    let raw: OpaquePointer
    init(_ raw: OpaquePointer) { self.raw = raw }
    deinit {
        modbus_close(raw)
        modbus_free(raw)
    }
}

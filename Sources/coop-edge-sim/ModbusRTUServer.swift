import CPlatform
import EdgeCore
import Modbus
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Modbus RTU slaves on a pseudo-terminal, for commissioning and tests without an RS-485 adapter:
/// the simulator opens a pty, links `link` to its serial end, and answers requests for the site
/// bus's slave ids on it, as the devices on a real line would.
///
/// Written from the Modbus over serial line spec (frames `slave, function, data, CRC-16` separated
/// by silence), not with libmodbus's server, which answers one slave id per context. The line's
/// settings are checked as a device's UART would: a master whose port is set to another baud rate
/// or stop-bit count (read from the pty, where the master's `tcsetattr` lands) gets no answer, so
/// `coop-edge scan` has something real to find. (Parity cannot be checked: a pty drops it.)
final class ModbusRTUServer {
    struct Failure: Error, CustomStringConvertible { let description: String }

    private let master: Int32
    /// The serial end, held open so the line stays up between the master's opens.
    private let serialEnd: Int32
    let path: String
    private let serial: SerialSettings
    private let model: SimulationModel
    private var tables: [Int: [RegisterFunction: [UInt16]]] = [:]

    init(link: String, serial: SerialSettings, model: SimulationModel) throws {
        self.serial = serial
        self.model = model
        var name = [CChar](repeating: 0, count: 64)
        let m = CPlatform_open_pty(&name, name.count)
        guard m >= 0 else { throw Failure(description: "cannot open a pseudo-terminal: \(String(cString: strerror(errno)))") }
        master = m
        path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        serialEnd = open(path, O_RDWR | O_NOCTTY)
        guard serialEnd >= 0 else { throw Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        var t = termios()
        tcgetattr(serialEnd, &t)
        cfmakeraw(&t)
        tcsetattr(serialEnd, TCSANOW, &t)
        // The link the site file names: replaced if it is a stale link from an earlier run.
        var st = stat()
        if lstat(link, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFLNK else { throw Failure(description: "\(link) exists and is not a symbolic link: not replacing it") }
            unlink(link)
        }
        guard symlink(path, link) == 0 else { throw Failure(description: "cannot link \(link) to \(path): \(String(cString: strerror(errno)))") }
        for slave in model.slaves {
            var t: [RegisterFunction: [UInt16]] = [:]
            for (function, size) in model.tableSizes(slave: slave) { t[function] = [UInt16](repeating: 0, count: size) }
            tables[slave] = t
        }
    }

    /// Serves until the process ends.
    func serve() -> Never {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while true {
            // A frame ends with silence: wait for bytes, then for a gap of a few character times.
            var pfd = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, buffer.isEmpty ? -1 : 5)
            if ready < 0 { if errno == EINTR { continue }; perror("poll"); exit(1) }
            if ready > 0 {
                let n = read(master, &chunk, chunk.count)
                if n > 0 { buffer.append(contentsOf: chunk[0..<n]); continue }
                if n < 0 && errno != EAGAIN && errno != EINTR && errno != EIO { perror("read"); exit(1) }
                if n <= 0 { usleep(5000) }
                continue
            }
            let frame = buffer
            buffer.removeAll(keepingCapacity: true)
            guard lineMatches() else { continue }  // a UART at another speed or framing hears noise
            if let reply = answer(frame) { _ = reply.withUnsafeBytes { write(master, $0.baseAddress, $0.count) } }
        }
    }

    /// Whether the master set the line as this bus's devices expect it.
    private func lineMatches() -> Bool {
        var t = termios()
        guard tcgetattr(master, &t) == 0 else { return false }
        // Linux's pty driver clears PARENB and forces CS8 whatever the master sets, so a pty carries
        // the speed and the stop bits, not the parity: those two are what is checked.
        let stopBits = t.c_cflag & tcflag_t(CSTOPB) != 0 ? 2 : 1
        return Self.baud(cfgetospeed(&t)) == serial.baud && stopBits == serial.stopBits
    }

    static func baud(_ s: speed_t) -> Int {
        switch Int32(s) {
        case B1200: 1200
        case B2400: 2400
        case B4800: 4800
        case B9600: 9600
        case B19200: 19200
        case B38400: 38400
        case B57600: 57600
        case B115200: 115200
        default: 0
        }
    }

    /// The reply to one request frame, or nil (not for a slave here, a bad CRC, or a silent slave).
    private func answer(_ frame: [UInt8]) -> [UInt8]? {
        guard frame.count >= 4, RTUFrame.crc16(frame) == 0 else { return nil }
        let slave = Int(frame[0]), function = frame[1]
        guard tables[slave] != nil else { return nil }
        let kind: RegisterFunction
        switch function {
        case 1: kind = .coil
        case 2: kind = .discrete
        case 3: kind = .holding
        case 4: kind = .input
        default: return Self.withCRC([frame[0], function | 0x80, 1])
        }
        guard frame.count == 8 else { return Self.withCRC([frame[0], function | 0x80, 3]) }
        let address = Int(frame[2]) << 8 | Int(frame[3]), count = Int(frame[4]) << 8 | Int(frame[5])
        guard let plan = model.prepare(slave: slave, write: { f, a, words in
            for (i, w) in words.enumerated() where a + i < (tables[slave]?[f]?.count ?? 0) { tables[slave]?[f]?[a + i] = w }
        }) else { return nil }
        guard plan.answer else { return nil }
        if plan.delayMS > 0 { usleep(UInt32(plan.delayMS) * 1000) }
        let table = tables[slave]?[kind] ?? []
        guard count >= 1, count <= (kind.isBit ? 2000 : 125), address + count <= table.count else {
            return Self.withCRC([frame[0], function | 0x80, 2])
        }
        var pdu: [UInt8] = [frame[0], function]
        if kind.isBit {
            var bytes = [UInt8](repeating: 0, count: (count + 7) / 8)
            for i in 0..<count where table[address + i] != 0 { bytes[i / 8] |= 1 << (i % 8) }
            pdu.append(UInt8(bytes.count))
            pdu.append(contentsOf: bytes)
        } else {
            pdu.append(UInt8(count * 2))
            for w in table[address..<(address + count)] { pdu.append(UInt8(w >> 8)); pdu.append(UInt8(w & 0xFF)) }
        }
        return Self.withCRC(pdu)
    }

    static func withCRC(_ pdu: [UInt8]) -> [UInt8] {
        let crc = RTUFrame.crc16(pdu)
        return pdu + [UInt8(crc & 0xFF), UInt8(crc >> 8)]
    }
}

/// Modbus RTU framing, pure: the CRC, how long the frame that starts a buffer is, and whether a
/// complete frame answers a given request.
///
/// RTU has no transaction id: the only ways to tell a reply from a stray frame are its slave id, its
/// function code, its length and its CRC. `RTULine` uses these to refuse frames that cannot belong to
/// the request in flight; what they cannot tell apart (a late reply of the same shape from the same
/// slave) it prevents by timing, see there.
public enum RTUFrame {
    /// CRC-16/MODBUS (reflected 0xA001, initial 0xFFFF). Sent low byte first, so a frame with a good CRC
    /// has a CRC of 0 over all its bytes, CRC included.
    public static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0xFFFF
        for b in bytes {
            crc ^= UInt16(b)
            for _ in 0..<8 {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xA001 : crc >> 1
            }
        }
        return crc
    }

    /// What the bytes at the start of a receive buffer are.
    enum Head: Equatable {
        /// Not enough bytes yet to know the frame's length.
        case needMore
        /// A frame of this many bytes (CRC included) starts here; it may not all have arrived yet.
        case length(Int)
        /// No reply frame can start with these bytes (an unknown function code, a byte count too large).
        case unframeable
    }

    /// The length of the reply frame at the start of `buffer`, judged by its function code: what a
    /// master can receive from a slave (read replies carry a byte count, write replies echo 4 bytes,
    /// exceptions carry one code).
    static func head(_ buffer: ArraySlice<UInt8>) -> Head {
        guard buffer.count >= 2 else { return .needMore }
        let function = buffer[buffer.startIndex + 1]
        if function & 0x80 != 0 {
            return function & 0x7F >= 1 && function & 0x7F <= 0x2B ? .length(5) : .unframeable
        }
        switch function {
        case 1, 2, 3, 4:
            guard buffer.count >= 3 else { return .needMore }
            let byteCount = Int(buffer[buffer.startIndex + 2])
            // 2000 bits (250 bytes) or 125 registers (250 bytes) at most; 0 is never a valid reply.
            return byteCount > 0 && byteCount <= 250 ? .length(3 + byteCount + 2) : .unframeable
        case 5, 6, 15, 16:
            return .length(8)
        default:
            return .unframeable
        }
    }

    /// What a master expects back for one request.
    struct Expectation: Equatable, Sendable {
        var slave: UInt8
        var function: UInt8
        /// For reads: the byte count the reply must carry. For writes: the 4 bytes it must echo.
        var byteCount: Int?
        var echo: [UInt8]?

        static func read(slave: UInt8, function: UInt8, count: Int) -> Expectation {
            let bytes = function <= 2 ? (count + 7) / 8 : count * 2
            return Expectation(slave: slave, function: function, byteCount: bytes, echo: nil)
        }
        static func write(slave: UInt8, function: UInt8, echo: [UInt8]) -> Expectation {
            Expectation(slave: slave, function: function, byteCount: nil, echo: echo)
        }
    }

    /// How a complete frame (good CRC) relates to the request in flight.
    enum Match: Equatable {
        /// The reply: its data bytes (for reads, after the byte count).
        case answer([UInt8])
        /// The slave refused the request with this exception code.
        case exception(UInt8)
        /// A frame that cannot be the answer: from another slave, or of another function or length
        /// (a late reply to an earlier request). `slave` is who sent it.
        case stray(slave: UInt8)
    }

    /// Classifies a complete frame with a good CRC against `expected`.
    static func match(_ frame: ArraySlice<UInt8>, _ expected: Expectation) -> Match {
        let s = frame.startIndex
        let slave = frame[s], function = frame[s + 1]
        guard slave == expected.slave else { return .stray(slave: slave) }
        if function == expected.function | 0x80 { return .exception(frame[s + 2]) }
        guard function == expected.function else { return .stray(slave: slave) }
        if let byteCount = expected.byteCount {
            guard Int(frame[s + 2]) == byteCount, frame.count == 3 + byteCount + 2 else { return .stray(slave: slave) }
            return .answer(Array(frame[(s + 3)..<(s + 3 + byteCount)]))
        }
        guard let echo = expected.echo, frame.count == 8, Array(frame[(s + 2)..<(s + 6)]) == echo else {
            return .stray(slave: slave)
        }
        return .answer([])
    }
}

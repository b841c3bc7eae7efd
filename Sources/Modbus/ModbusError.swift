/// A Modbus request or connection failed. `code` says what kind of failure, `message` says what
/// to do about it in words an installer understands.
public struct ModbusError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public var description: String { rawValue }
        /// The device did not answer within the response timeout.
        public static let timeout = Code(rawValue: "timeout")
        /// A reply arrived with a bad checksum (RTU): noise, a missing terminator, a baud mismatch.
        public static let badCRC = Code(rawValue: "bad_crc")
        /// The device answered with a Modbus exception (`exception` holds its number).
        public static let exception = Code(rawValue: "exception")
        /// The reply did not match the request (wrong slave, wrong length, wrong transaction).
        public static let badData = Code(rawValue: "bad_data")
        /// The port or the TCP peer could not be opened or was lost.
        public static let connection = Code(rawValue: "connection")
        /// The serial port exists but this user may not open it.
        public static let permission = Code(rawValue: "permission")
        /// The request was refused before it was sent (invalid address, count, or not writable).
        public static let invalidRequest = Code(rawValue: "invalid_request")
    }

    public var code: Code
    /// The Modbus exception number (1 illegal function, 2 illegal data address, …) for `.exception`.
    public var exception: UInt8?
    public var message: String

    public init(_ code: Code, _ message: String, exception: UInt8? = nil) {
        self.code = code
        self.message = message
        self.exception = exception
    }

    public var description: String { message }

    /// The short reason published with a missing reading.
    public var reason: String {
        switch code {
        case .timeout: "timeout"
        case .badCRC: "CRC error"
        case .exception: "exception \(exception ?? 0): \(ModbusError.exceptionName(exception ?? 0))"
        case .badData: "bad reply"
        case .permission: "permission denied"
        case .connection: "not connected"
        default: code.rawValue
        }
    }

    public static func exceptionName(_ code: UInt8) -> String {
        switch code {
        case 1: "illegal function"
        case 2: "illegal data address"
        case 3: "illegal data value"
        case 4: "slave device failure"
        case 5: "acknowledge"
        case 6: "slave device busy"
        case 8: "memory parity error"
        case 10: "gateway path unavailable"
        case 11: "gateway target failed to respond"
        default: "unknown exception"
        }
    }
}

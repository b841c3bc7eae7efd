/// A libmosquitto call failed. `message` says what to check.
public struct MQTTError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable {
        public let rawValue: String
        public static let notConnected = Code(rawValue: "not_connected")
        public static let tls = Code(rawValue: "tls")
        public static let invalid = Code(rawValue: "invalid")
        public static let connect = Code(rawValue: "connect")
        public static let payloadTooLarge = Code(rawValue: "payload_too_large")
        /// The message can never be sent as it is (bad topic, bad UTF-8, too large): retrying is useless.
        public static let rejected = Code(rawValue: "rejected")
        public static let other = Code(rawValue: "other")
    }
    public var code: Code
    public var message: String
    /// libmosquitto's result code (`MOSQ_ERR_*`).
    public var mosquittoCode: Int32

    public init(_ code: Code, _ message: String, mosquittoCode: Int32 = 0) {
        self.code = code
        self.message = message
        self.mosquittoCode = mosquittoCode
    }

    public var description: String { message }
}

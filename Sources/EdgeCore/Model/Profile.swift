/// A sensor model: its register map and the serial defaults its datasheet gives.
public struct Profile: Sendable, Equatable {
    public var name: String
    public var model: String
    public var serial: SerialSettings?
    public var defaultSlave: Int?
    /// Some cheap sensors reject reads longer than this many registers.
    public var maxRegistersPerRead: Int
    /// In the order the profile lists them; payloads keep that order.
    public var channels: [ChannelSpec]

    public init(name: String, model: String, serial: SerialSettings? = nil, defaultSlave: Int? = nil,
                maxRegistersPerRead: Int = 125, channels: [ChannelSpec]) {
        self.name = name
        self.model = model
        self.serial = serial
        self.defaultSlave = defaultSlave
        self.maxRegistersPerRead = maxRegistersPerRead
        self.channels = channels
    }
}

/// Serial line settings of an RTU bus.
public struct SerialSettings: Sendable, Equatable {
    public enum Parity: String, Sendable { case none = "N", even = "E", odd = "O" }
    public var baud: Int
    public var parity: Parity
    public var dataBits: Int
    public var stopBits: Int

    public init(baud: Int = 9600, parity: Parity = .none, dataBits: Int = 8, stopBits: Int = 1) {
        self.baud = baud
        self.parity = parity
        self.dataBits = dataBits
        self.stopBits = stopBits
    }
}

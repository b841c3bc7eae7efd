/// One measured quantity of a sensor model: where its registers are and how to turn them into a
/// number in engineering units.
public struct ChannelSpec: Sendable, Equatable {
    public var name: String
    public var function: RegisterFunction
    /// Zero-based protocol address (the PDU address, not the "40001"-style reference).
    public var address: Int
    public var type: ValueType
    public var order: ByteOrder
    public var scale: Double
    public var offset: Double
    public var unit: String
    /// Physical quantity, e.g. "temperature", "humidity", "soil_moisture", "weight".
    public var kind: String
    /// Values the datasheet says the sensor can produce; outside it a reading is `outOfRange`.
    public var valid: ClosedRange<Double>?
    /// Raw register values the firmware uses for "no reading", compared before scaling.
    public var sentinels: [Double]
    /// Writing is refused unless this is true (ARCHITECTURE.md, invariant 4).
    public var writable: Bool
    /// What a status channel of a room's controller tells the detectors (nil: a plain measurement).
    public var role: ChannelRole?

    public init(name: String, function: RegisterFunction, address: Int, type: ValueType,
                order: ByteOrder = .abcd, scale: Double = 1, offset: Double = 0, unit: String = "",
                kind: String = "generic", valid: ClosedRange<Double>? = nil, sentinels: [Double] = [],
                writable: Bool = false, role: ChannelRole? = nil) {
        self.name = name
        self.function = function
        self.address = address
        self.type = type
        self.order = order
        self.scale = scale
        self.offset = offset
        self.unit = unit
        self.kind = kind
        self.valid = valid
        self.sentinels = sentinels
        self.writable = writable
        self.role = role
    }

    /// Registers (or bits) this channel occupies.
    public var count: Int { function.isBit ? 1 : type.registerCount }
}

/// The state a cold-room controller exposes beside its temperatures (a coil, a discrete input or a
/// status register; non-zero = on). The cold-room detectors of the same room use it directly.
public enum ChannelRole: String, Sendable, CaseIterable {
    /// The defrost heater is on: a warm excursion now is a defrost, not a failure.
    case defrost
    /// The door is open: left open too long, it is an alert of its own.
    case door
    /// The compressor is running: published for the co-op and the farm's page.
    case compressor
}

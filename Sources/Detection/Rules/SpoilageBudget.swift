/// A farmer rule: the heat a commodity in one storage room may take before it spoils, and at which
/// shares of it to warn. Two models:
///
/// - `.degreeMinutes(safe:budget:)`: accumulates (T − safe) × minutes while T is above `safe`;
///   the budget is in °C·min. "Onions tolerate 600 °C·min above 4 °C."
/// - `.q10(reference:shelfLifeHours:q10:)`: shelf life is `shelfLifeHours` at `reference` °C and shrinks
///   by a factor `q10` for every 10 °C warmer (grows when colder); the used share is ∫ dt / life(T).
///   Q10 is 2–3 for most fresh produce.
public struct SpoilageBudget: Sendable, Codable, Hashable {
    public enum Model: Sendable, Codable, Hashable {
        case degreeMinutes(safe: Double, budget: Double)
        case q10(reference: Double, shelfLifeHours: Double, q10: Double)
    }

    /// The room's temperature channel.
    public var channel: String
    /// What is stored, for messages ("onions").
    public var commodity: String
    /// The room's name for messages ("room 2").
    public var room: String
    public var model: Model
    /// Shares of the budget (0...1, ascending) at which to alert, e.g. [0.6, 1.0].
    public var alertShares: [Double]
    /// Readings further apart than this are not integrated across (a gap is not counted as time at
    /// the last temperature for longer than this).
    public var maxGap: Double

    public init(
        channel: String, commodity: String, room: String, model: Model,
        alertShares: [Double] = [0.6, 1.0], maxGap: Double = 1800
    ) {
        self.channel = channel
        self.commodity = commodity
        self.room = room
        self.model = model
        self.alertShares = alertShares.sorted()
        self.maxGap = maxGap
    }
}

/// Whether a device on a bus answers, and how often to ask it: a device that has not answered
/// `offlineAfter` polls in a row is offline and asked less often — every poll interval doubled after
/// each unanswered poll, up to `slowest` — so a dead sensor stops eating the bus time of the live
/// ones (on a TCP gateway or a 9600-baud line each unanswered request costs a full response
/// timeout). Its first answer brings it back to its own interval at once.
///
/// "Answers" means any reply at all: a Modbus exception or a reply that fails its CRC is a device
/// that is there; a timeout or a lost connection is not.
public struct DeviceHealth: Sendable, Equatable {
    /// Unanswered polls in a row before the device counts as offline.
    public static let offlineAfter = 3
    /// The longest time between two polls of an offline device.
    public static let slowest: Duration = .seconds(30)

    public private(set) var unanswered = 0
    public private(set) var offline = false
    /// The polls the device missed since it went offline (its current backoff step).
    private var offlinePolls = 0

    public init() {}

    /// What one poll changed: nil, or the transition to log.
    public enum Change: Sendable, Equatable {
        case wentOffline
        case cameBack(unanswered: Int)
    }

    /// Records one poll: `answered` whether the device replied at all.
    public mutating func record(answered: Bool) -> Change? {
        if answered {
            let missed = unanswered
            unanswered = 0
            offlinePolls = 0
            guard offline else { return nil }
            offline = false
            return .cameBack(unanswered: missed)
        }
        unanswered += 1
        if offline {
            offlinePolls += 1
            return nil
        }
        guard unanswered >= Self.offlineAfter else { return nil }
        offline = true
        offlinePolls = 1
        return .wentOffline
    }

    /// The time to the next poll of a device whose own interval is `interval`.
    public func nextInterval(_ interval: Duration) -> Duration {
        guard offline else { return interval }
        var next = interval
        for _ in 0..<min(offlinePolls, 16) where next < Self.slowest { next = next * 2 }
        return max(interval, min(next, Self.slowest))
    }
}

/// How urgently a person should look at an alert.
public enum Severity: String, Sendable, Codable, Hashable, Comparable, CaseIterable {
    /// Worth knowing; no action needed now.
    case info
    /// Something is wrong with a sensor or a process; look today.
    case warning
    /// Produce or equipment is at risk; act now.
    case critical

    private var rank: Int {
        switch self {
        case .info: 0
        case .warning: 1
        case .critical: 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

public import EdgeCore
internal import Synchronization

/// Each device's sharing policy, as the recorder last adopted it, read by the publisher.
///
/// A reload (`SiteUpdates`) reaches the recorder before any poll of the reloaded site: the recorder
/// sets the new policies here before it commits such a poll, and the publisher renders only
/// committed polls, so a device that a reload adds with `share: none` is never published in full.
/// Polls committed before a reload are rendered under the new policy. `version` tells the publisher
/// to send the retained `…/sharing` message again.
public final class SharingTable: Sendable {
    private struct State {
        var version: Int
        var policies: [String: SharingPolicy]
        var payload: [UInt8]
    }
    private let state: Mutex<State>

    public init(site: Site) {
        state = Mutex(State(version: 0, policies: Self.policies(site), payload: SharingPayload.policy(site)))
    }

    static func policies(_ site: Site) -> [String: SharingPolicy] {
        Dictionary(site.devices.map { ($0.name, $0.sharing) }, uniquingKeysWith: { a, _ in a })
    }

    /// Takes up a reloaded site's policies.
    public func adopt(_ site: Site) {
        let policies = Self.policies(site), payload = SharingPayload.policy(site)
        state.withLock { s in
            guard s.payload != payload else { return }
            s = State(version: s.version + 1, policies: policies, payload: payload)
        }
    }

    /// The policies now, and their version.
    public var current: (version: Int, policies: [String: SharingPolicy], payload: [UInt8]) {
        state.withLock { ($0.version, $0.policies, $0.payload) }
    }
}

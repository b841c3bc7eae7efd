/// The mosquitto ACL lines that confine one farm's broker user to its topic prefix
/// (`coop-edge acl`; docs/operations.md, "Pooling many farms").
///
/// The agent only publishes, all of it under the site's prefix: `{prefix}/{device}/state`,
/// `{prefix}/alerts`, `{prefix}/alerts/active`, `{prefix}/status` (also its will), and a farm broker's
/// bridge notifications go to `{prefix}/bridge` in the documented bridge configuration. It subscribes
/// to nothing, so the user gets no `read` line.
public enum BrokerACL {
    /// Topics the agent subscribes to (command topics). None today: the ACL grants no read access.
    public static let subscriptions: [String] = []

    /// Why `username` cannot be written in a mosquitto ACL file, or nil when it can.
    public static func usernameProblem(_ username: String) -> String? {
        if username.isEmpty { return "the broker user name is empty" }
        if username.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "the broker user name contains a control character (a line break?)"
        }
        if username.first == " " || username.last == " " {
            return "the broker user name starts or ends with a space, which mosquitto's ACL file cannot keep"
        }
        return nil
    }

    /// The `pattern` line that gives every user write access under its own site's prefix, for co-ops
    /// that name each farm's broker user after its site id; nil when the site id is not a whole level
    /// of the prefix (a `topic_prefix` without it), where `%u` cannot stand for it.
    public static func patternLine(site: Site) -> String? {
        var levels = site.topicPrefix.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let i = levels.lastIndex(of: site.site) else { return nil }
        levels[i] = "%u"
        return "pattern write \(levels.joined(separator: "/"))/#"
    }

    /// The ACL block for `username`: a comment header, then `user` and its `topic` lines.
    public static func text(site: Site, username: String) -> String {
        let prefix = site.topicPrefix
        var lines = [
            "# coop-edge acl: mosquitto ACL for site '\(site.site)' of co-op '\(site.coop)'.",
            "# Confines the broker user '\(username)' to this farm's topics: it may publish under",
            "# \(prefix)/ (readings, alerts, status, and a farm broker's bridge state) and nothing",
            "# else; a publish anywhere else is refused (MQTT 5: PUBACK 0x87 not authorized).",
        ]
        if subscriptions.isEmpty {
            lines.append("# The agent subscribes to nothing, so the user gets no read access.")
        }
        lines += [
            "# Add this block to the file the co-op broker's mosquitto.conf names in `acl_file` (one block",
            "# per farm: a `user` line's topics last until the next `user` line), then reload mosquitto",
            "# (`systemctl reload mosquitto`, or SIGHUP). Print it again after changing topic_prefix or the user.",
        ]
        if let pattern = patternLine(site: site) {
            lines += [
                "#",
                "# Co-ops that name every farm's broker user after its site id can put this one line in the",
                "# acl_file instead, for all farms (a pattern applies to every user, wherever it stands):",
                "#   \(pattern)",
            ]
        } else {
            lines += [
                "#",
                "# (No `pattern` variant: this site's topic_prefix does not contain its site id '\(site.site)' as a level.)",
            ]
        }
        lines.append("user \(username)")
        lines.append("topic write \(prefix)/#")
        for topic in subscriptions { lines.append("topic read \(topic)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

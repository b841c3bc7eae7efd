import Testing
@testable import EdgeCore

@Suite("BrokerACL")
struct BrokerACLTests {
    func site(coop: String = "example-coop", site: String = "farm-17", prefix: String? = nil) -> Site {
        Site(coop: coop, site: site, topicPrefix: prefix, broker: BrokerConfig(clientID: "c"),
             storage: StorageConfig(path: "/tmp/x"), buses: [], devices: [])
    }

    @Test("the block names the user and grants write under the site's prefix only, no read")
    func block() {
        let text = BrokerACL.text(site: site(), username: "farm-17-edge")
        let rules = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(rules == ["user farm-17-edge", "topic write coop/example-coop/farm-17/#"])
        #expect(text.contains("#   pattern write coop/example-coop/%u/#"))
        #expect(text.contains("acl_file"))
    }

    @Test("a topic_prefix is honoured, and the pattern replaces the level that is the site id")
    func customPrefix() {
        let s = site(prefix: "region-north/farm-17/telemetry")
        let rules = BrokerACL.text(site: s, username: "u").split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(rules == ["user u", "topic write region-north/farm-17/telemetry/#"])
        #expect(BrokerACL.patternLine(site: s) == "pattern write region-north/%u/telemetry/#")
    }

    @Test("no pattern variant when the prefix does not carry the site id as a level")
    func noPattern() {
        let s = site(prefix: "farms/f17")
        #expect(BrokerACL.patternLine(site: s) == nil)
        #expect(BrokerACL.text(site: s, username: "u").contains("No `pattern` variant"))
    }

    @Test("user names the ACL file cannot hold are refused")
    func usernames() {
        #expect(BrokerACL.usernameProblem("farm-17") == nil)
        #expect(BrokerACL.usernameProblem("") != nil)
        #expect(BrokerACL.usernameProblem("farm\n17") != nil)
        #expect(BrokerACL.usernameProblem(" farm") != nil)
    }
}

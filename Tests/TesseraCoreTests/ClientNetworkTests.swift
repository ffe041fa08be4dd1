import Foundation
import Testing
import TesseraCore

/// `ClientNetwork`: what a PAT's `allowed_networks` admits (the HTTP refusals are in
/// Tests/e2e/test_pat_policy_e2e.py).
struct ClientNetworkTests {
    @Test("a network contains exactly the addresses under its prefix", arguments: [
        ("10.0.0.0/8", "10.255.255.255", true), ("10.0.0.0/8", "11.0.0.0", false), ("10.0.0.0/8", "9.255.255.255", false),
        ("192.0.2.128/25", "192.0.2.128", true), ("192.0.2.128/25", "192.0.2.127", false),
        ("192.0.2.7", "192.0.2.7", true), ("192.0.2.7", "192.0.2.8", false),
        ("0.0.0.0/0", "203.0.113.9", true), ("0.0.0.0/0", "2001:db8::1", false),
        ("2001:db8::/32", "2001:db8:ffff::1", true), ("2001:db8::/32", "2001:db9::1", false),
        ("2001:db8:0:0:8000::/65", "2001:db8::8000:0:0:1", true), ("2001:db8::/65", "2001:db8::8000:0:0:1", false),
        ("::/0", "::1", true), ("::/0", "127.0.0.1", false),
        // A dual-stack listener reports an IPv4 peer as IPv4-mapped IPv6: it is the IPv4 address.
        ("127.0.0.0/8", "::ffff:127.0.0.1", true), ("::ffff:10.0.0.0/104", "10.1.2.3", true),
        // What is not an address is in no network.
        ("0.0.0.0/0", "", false), ("0.0.0.0/0", "10.0.0.1:443", false), ("::/0", "[::1]", false), ("::/0", "fe80::1%eth0", false),
    ])
    func contains(network: String, address: String, expected: Bool) throws {
        #expect(try ClientNetwork(network).contains(address: address) == expected)
    }

    @Test("the canonical form is what inet_ntop writes, with the prefix length", arguments: [
        ("10.0.0.0/8", "10.0.0.0/8"), ("192.0.2.7", "192.0.2.7/32"), ("2001:DB8:0:0::/32", "2001:db8::/32"), ("::1", "::1/128"),
        ("::ffff:192.0.2.0/120", "192.0.2.0/24"), ("::ffff:192.0.2.1", "192.0.2.1/32"),
    ])
    func canonical(text: String, expected: String) throws {
        #expect(try ClientNetwork(text).description == expected)
    }

    @Test("a PAT whose list is empty admits any address, a listed one only its networks, an unknown address none")
    func accessTokenAllows() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var token = AccessToken(userID: UUID(), name: "ci", environment: nil, secretHash: "h", createdAt: now, expiresAt: now + 60)
        #expect(token.allows(client: "198.51.100.1") && token.allows(client: nil))
        token.allowedNetworks = try ClientNetwork.list(["10.0.0.0/8", "2001:db8::/32"])
        #expect(token.allows(client: "10.9.8.7") && token.allows(client: "2001:db8::5"))
        #expect(!token.allows(client: "198.51.100.1") && !token.allows(client: nil))
    }
}

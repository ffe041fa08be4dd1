import Foundation
import Testing
import TesseraCore

/// The one claim checker has one strictness for every kind of token: what varies between kinds
/// (the audience, whether `iat` is required, the longest lifetime) is a parameter, never a
/// laxer copy of a check. Before it, an access token or a client assertion silently dropped a
/// non-string `aud` item that a Lake token refused, and a client assertion had no NumericDate
/// range check.
@Suite("Claim rules")
struct ClaimRulesTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let at = Int(now.timeIntervalSince1970)

    /// The rules of each kind of token, as their verifiers set them.
    static let kinds: [(String, ClaimRules)] = [
        ("Lake assertion", ClaimRules(audiences: ["td:service:authentication"], maximumLifetime: 86_400, leeway: 60)),
        ("access token", ClaimRules(audiences: ["tessera"], leeway: 60)),
        ("client assertion", ClaimRules(audiences: ["https://t.example/oauth2/token"], issuedAtRequired: false, maximumLifetime: 3600, leeway: 60)),
        ("PAM JWT", ClaimRules(audiences: nil, leeway: 0)),
    ]

    static func claims(_ audience: JSONValue, _ overrides: [String: JSONValue] = [:]) -> [String: JSONValue] {
        var claims: [String: JSONValue] = [
            "aud": audience, "iat": .number(Double(at), integer: Int64(at)), "exp": .number(Double(at + 300), integer: Int64(at + 300)),
        ]
        for (name, value) in overrides { claims[name] = value }
        return claims
    }

    static func code(_ rules: ClaimRules, _ claims: [String: JSONValue]) -> String? {
        do {
            _ = try rules.check(claims, now: now)
            return nil
        } catch {
            return error.code
        }
    }

    @Test("every kind accepts its own audience, given as a string or in an array")
    func accepted() {
        for (kind, rules) in Self.kinds {
            let audience = rules.audiences?.first ?? "https://backend.example"
            #expect(Self.code(rules, Self.claims(.string(audience))) == nil, "\(kind)")
            #expect(Self.code(rules, Self.claims(.array([.string("other"), .string(audience)]))) == nil, "\(kind)")
        }
    }

    @Test("every kind refuses a non-string aud item, a non-string aud, and NumericDates of the wrong type or out of range")
    func sameStrictness() {
        for (kind, rules) in Self.kinds {
            let audience = JSONValue.array([.string(rules.audiences?.first ?? "x"), .number(5, integer: 5)])
            #expect(Self.code(rules, Self.claims(audience)) == "audience_invalid", "\(kind): a number among the audiences")
            #expect(Self.code(rules, Self.claims(.bool(true))) == "audience_invalid", "\(kind)")
            let valid = JSONValue.string(rules.audiences?.first ?? "x")
            for name in ["exp", "iat", "nbf"] {
                #expect(Self.code(rules, Self.claims(valid, [name: .string("\(Self.at)")])) == "claim_invalid", "\(kind): \(name) a string")
                #expect(Self.code(rules, Self.claims(valid, [name: .number(-1, integer: -1)])) == "claim_invalid", "\(kind): \(name) negative")
                #expect(Self.code(rules, Self.claims(valid, [name: .number(1e20, integer: nil)])) == "claim_invalid", "\(kind): \(name) huge")
            }
            #expect(Self.code(rules, Self.claims(valid, ["exp": .number(Double(Self.at - 3600), integer: nil)])) == "token_expired", "\(kind)")
        }
    }

    @Test("what varies is a parameter: iat optional for client assertions only, the lifetime bound where there is one")
    func parameters() {
        let withoutIssuedAt: (ClaimRules) -> String? = { rules in
            var claims = Self.claims(.string(rules.audiences?.first ?? "x"))
            claims["iat"] = nil
            return Self.code(rules, claims)
        }
        #expect(withoutIssuedAt(Self.kinds[0].1) == "claim_missing")
        #expect(withoutIssuedAt(Self.kinds[1].1) == "claim_missing")
        #expect(withoutIssuedAt(Self.kinds[2].1) == nil)
        let long = Self.claims(.string("https://t.example/oauth2/token"), ["exp": .number(Double(Self.at + 7200), integer: Int64(Self.at + 7200))])
        #expect(Self.code(Self.kinds[2].1, long) == "lifetime_too_long")
        #expect(Self.code(Self.kinds[3].1, Self.claims(.string("any"), ["exp": .number(Double(Self.at + 7200), integer: nil)])) == nil)
    }
}

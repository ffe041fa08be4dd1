import Foundation
import HTTPTypes
import Testing
import TesseraCore

/// Every check of DESIGN §1.1 over HTTP against a live server, per key algorithm, each asserting
/// the exact error code a client sees.
@Suite("Lake bearer JWT checks")
struct LakeBearerTests {
    static let algorithms = ["RS256", "PS256", "ES256", "EdDSA"]

    @Test("a seed-shaped token is accepted and answers the organization document", arguments: algorithms)
    func acceptsValidToken(algorithm: String) async throws {
        try await LakeHarness.run { lake in
            let key = try #require(TestKey.byAlgorithm[algorithm])
            try await lake.uploadKey(key, name: "primary")
            let pat = try await lake.createPAT()
            let token = RawJWS.sign(header: lake.header(key, kid: "primary"), payload: lake.claims(pat: pat.secret), with: key)
            let reply = try await lake.present(token)
            #expect(reply.status == .ok)
            #expect(reply.json["domain_name"] as? String == "dataresiliency")
            #expect(Set(reply.json.keys) == [
                "description", "domain_name", "id", "name", "private_pods", "idp_enabled", "erp", "bank_name", "regions",
                "platform", "operating_mode", "activation_state",
            ])
            let me = try await lake.request(.get, "/api/me", bearer: token)
            #expect(me.json["authenticated_by"] as? String == "lake_jwt")
            #expect((me.json["token"] as? [String: Any])?["algorithm"] as? String == algorithm)
        }
    }

    /// (what is wrong, claims overrides, expected code), checked for every algorithm.
    static var claimCases: [(String, [String: Any], String)] { [
        ("expired beyond the leeway", ["exp": -120, "iat": -3600], "token_expired"),
        ("issued in the future", ["iat": 600, "exp": 3600], "token_issued_in_future"),
        ("lifetime over 24 h", ["iat": 0, "exp": 25 * 3600], "lifetime_too_long"),
        ("exp before iat", ["iat": 0, "exp": -10], "lifetime_invalid"),
        ("nbf in the future", ["nbf": 900], "token_not_yet_valid"),
        ("wrong audience", ["aud": ["someone-else"]], "audience_invalid"),
        ("no audience", ["aud": NSNull()], "audience_invalid"),
        ("no exp", ["exp": NSNull()], "claim_missing"),
        ("no iat", ["iat": NSNull()], "claim_missing"),
        ("exp as a string", ["exp": "tomorrow"], "claim_invalid"),
        ("multi-use as a string", ["multi-use": "yes"], "claim_invalid"),
        ("no pat", ["pat": NSNull()], "claim_missing"),
        ("unknown pat", ["pat": "pz87ADn8DtK4nJipWs0UjITGjeCA"], "pat_unknown"),
    ] }

    @Test("claims are checked after the signature", arguments: algorithms)
    func claimChecks(algorithm: String) async throws {
        try await LakeHarness.run { lake in
            let key = try #require(TestKey.byAlgorithm[algorithm])
            try await lake.uploadKey(key, name: "primary")
            let pat = try await lake.createPAT()
            for (what, overrides, code) in Self.claimCases {
                var relative = overrides
                for name in ["exp", "iat", "nbf"] {
                    if let offset = overrides[name] as? Int { relative[name] = lake.now + offset }
                }
                let token = RawJWS.sign(header: lake.header(key, kid: "primary"), payload: lake.claims(pat: pat.secret, relative), with: key)
                let reply = try await lake.present(token)
                #expect(reply.status == .unauthorized, "\(what)")
                #expect(reply.code == code, "\(what): \(reply.json)")
                #expect(reply.headers[.wwwAuthenticate]?.contains(#"error="invalid_token""#) == true, "\(what)")
            }
        }
    }

    @Test("signatures by another key, or under another algorithm, are refused", arguments: algorithms)
    func signatureChecks(algorithm: String) async throws {
        try await LakeHarness.run { lake in
            let key = try #require(TestKey.byAlgorithm[algorithm])
            let stranger = try #require(TestKey.strangers[algorithm])
            try await lake.uploadKey(key, name: "primary")
            let pat = try await lake.createPAT()
            let claims = lake.claims(pat: pat.secret)

            let forged = try await lake.present(RawJWS.sign(header: lake.header(key, kid: "primary"), payload: claims, with: stranger))
            #expect(forged.code == "signature_invalid")

            let other = try #require(Self.algorithms.first { $0 != algorithm }.flatMap { TestKey.byAlgorithm[$0] })
            let swapped = try await lake.present(RawJWS.sign(header: lake.header(other, kid: "primary"), payload: claims, with: other))
            #expect(swapped.code == "alg_mismatch")

            let unknownKid = try await lake.present(RawJWS.sign(header: lake.header(key, kid: "secondary"), payload: claims, with: key))
            #expect(unknownKid.code == "key_unknown")
            #expect(unknownKid.json["message"] as? String == "no key named 'secondary' for user 'demo' in organization 'dataresiliency'")

            // Flip one bit of the signature.
            let good = RawJWS.sign(header: lake.header(key, kid: "primary"), payload: claims, with: key)
            var parts = good.split(separator: ".").map(String.init)
            var signature = try #require(Base64URL.decodeStrict(parts[2]))
            signature[0] ^= 0x01
            parts[2] = Base64URL.encode(signature)
            #expect(try await lake.present(parts.joined(separator: ".")).code == "signature_invalid")
        }
    }

    @Test("headers that must never be trusted are refused whatever the claims", arguments: algorithms)
    func headerChecks(algorithm: String) async throws {
        try await LakeHarness.run { lake in
            let key = try #require(TestKey.byAlgorithm[algorithm])
            try await lake.uploadKey(key, name: "primary")
            let pat = try await lake.createPAT()
            let claims = lake.claims(pat: pat.secret)
            let cases: [([String: Any], String)] = [
                (["alg": "none"], "alg_none"),
                (["alg": "NONE"], "alg_none"),
                (["alg": "RS512"], "alg_unsupported"),
                (["alg": "ES512"], "alg_unsupported"),
                (["alg": 256], "alg_unsupported"),
                (["alg": NSNull()], "alg_missing"),
                (["jku": "https://attacker.example/jwks.json"], "header_forbidden"),
                (["x5u": "https://attacker.example/cert.pem"], "header_forbidden"),
                (["jwk": ["kty": "oct", "k": "AAAA"]], "header_forbidden"),
                (["x5c": ["MIIB"]], "header_forbidden"),
                (["crit": ["exp"]], "crit_unsupported"),
                (["typ": "at+jwt"], "typ_invalid"),
                (["kid": NSNull()], "kid_missing"),
                (["kid": ""], "kid_invalid"),
                (["kid": String(repeating: "k", count: 200)], "kid_invalid"),
            ]
            for (overrides, code) in cases {
                let token = RawJWS.sign(header: lake.header(key, kid: "primary", overrides), payload: claims, with: key)
                let reply = try await lake.present(token)
                #expect(reply.status == .unauthorized)
                #expect(reply.code == code, "\(overrides): \(reply.json)")
            }
            // An unsigned token, exactly as attackers send it (empty signature part).
            let unsigned = RawJWS.sign(header: lake.header(key, kid: "primary", ["alg": "none"]), payload: claims, with: key)
                .split(separator: ".").prefix(2).joined(separator: ".") + "."
            #expect(try await lake.present(unsigned).code == "alg_none")
            // The right alg with the signature stripped.
            let stripped = RawJWS.sign(header: lake.header(key, kid: "primary"), payload: claims, with: key)
                .split(separator: ".").prefix(2).joined(separator: ".") + "."
            #expect(try await lake.present(stripped).code == "signature_invalid")
        }
    }

    @Test("HMAC with the public key as secret (key confusion) is refused", arguments: algorithms)
    func hmacKeyConfusion(algorithm: String) async throws {
        try await LakeHarness.run { lake in
            let key = try #require(TestKey.byAlgorithm[algorithm])
            try await lake.uploadKey(key, name: "primary")
            let pat = try await lake.createPAT()
            for alg in ["HS256", "HS384", "HS512"] {
                let token = RawJWS.hmac(
                    header: lake.header(key, kid: "primary", ["alg": alg]), payload: lake.claims(pat: pat.secret),
                    secret: Array(key.publicKeyPEM.utf8)
                )
                let reply = try await lake.present(token)
                #expect(reply.code == "alg_hmac", "\(alg)")
            }
        }
    }

    @Test("malformed and non-canonical encodings are refused before anything else", arguments: algorithms)
    func encodingChecks(algorithm: String) async throws {
        try await LakeHarness.run { lake in
            let key = try #require(TestKey.byAlgorithm[algorithm])
            try await lake.uploadKey(key, name: "primary")
            let pat = try await lake.createPAT()
            let good = RawJWS.sign(header: lake.header(key, kid: "primary"), payload: lake.claims(pat: pat.secret), with: key)
            let parts = good.split(separator: ".").map(String.init)
            let header = RawJWS.json(lake.header(key, kid: "primary"))
            let duplicateAlgHeader = #"{"alg":"ES256","alg":"none","kid":"primary","typ":"JWT"}"#
            let payloadJSON = RawJWS.json(lake.claims(pat: pat.secret))
            let duplicateSubPayload = String(payloadJSON.dropLast()) + #","sub":"admin"}"#
            let cases: [(String, String, String)] = [
                ("two parts", parts[0] + "." + parts[1], "token_malformed"),
                ("four parts", good + ".x", "token_malformed"),
                ("padding", parts[0] + "=." + parts[1] + "." + parts[2], "token_malformed"),
                ("standard alphabet", good.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + (good.contains("-") || good.contains("_") ? "" : "+"), "token_malformed"),
                ("whitespace", parts[0] + ". " + parts[1] + "." + parts[2], "token_malformed"),
                ("non-canonical trailing bits", parts[0] + "." + parts[1] + "." + Self.nonCanonical(parts[2]), "token_malformed"),
                ("duplicate header key", RawJWS.sign(header: duplicateAlgHeader, payload: payloadJSON, with: key), "token_malformed"),
                ("duplicate payload key", RawJWS.sign(header: header, payload: duplicateSubPayload, with: key), "token_malformed"),
                ("header not an object", RawJWS.sign(header: "[1]", payload: payloadJSON, with: key), "token_malformed"),
                ("deeply nested payload", RawJWS.sign(header: header, payload: String(repeating: "[", count: 100) + String(repeating: "]", count: 100), with: key), "token_malformed"),
                ("over 8 KiB", RawJWS.sign(header: header, payload: RawJWS.json(lake.claims(pat: pat.secret, ["pad": String(repeating: "x", count: 9000)])), with: key), "token_too_large"),
            ]
            for (what, token, code) in cases {
                let reply = try await lake.present(token)
                #expect(reply.status == .unauthorized, "\(what)")
                #expect(reply.code == code, "\(what): \(reply.json)")
            }
        }
    }

    /// The same bytes with different, non-zero, unused trailing bits.
    static func nonCanonical(_ part: String) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var chars = Array(part)
        let unusedBits = [0: 0, 2: 4, 3: 2][part.count % 4] ?? 0
        guard unusedBits > 0, let last = chars.last, let index = alphabet.firstIndex(of: last) else { return part + "=" }
        chars[chars.count - 1] = alphabet[index | 1]
        return String(chars)
    }

    @Test("the organization claim: org_id by domain or id, org_key, and mismatches")
    func organizationClaim() async throws {
        try await LakeHarness.run { lake in
            let key = try #require(TestKey.byAlgorithm["RS256"])
            try await lake.uploadKey(key, name: "primary")
            let pat = try await lake.createPAT()
            let organization = try await lake.request(.get, "/api/my-organization")
            let orgID = try #require(organization.json["id"] as? String)
            let sign = { (overrides: [String: Any]) in
                RawJWS.sign(header: lake.header(key, kid: "primary"), payload: lake.claims(pat: pat.secret, overrides), with: key)
            }
            #expect(try await lake.present(sign(["org_id": orgID])).status == .ok)
            #expect(try await lake.present(sign(["org_id": NSNull(), "org_key": "dataresiliency"])).status == .ok)
            #expect(try await lake.present(sign(["org_id": "someone-else"])).code == "key_unknown")
            #expect(try await lake.present(sign(["org_id": NSNull()])).code == "claim_missing")
            #expect(try await lake.present(sign(["org_key": "other"])).code == "claim_invalid")
            #expect(try await lake.present(sign(["sub": "nobody"])).code == "key_unknown")
        }
    }
}

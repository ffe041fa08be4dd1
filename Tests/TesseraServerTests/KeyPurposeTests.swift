import Crypto
import Foundation
import HTTPTypes
import Testing
import TesseraCore

/// A JWK its owner published for another purpose (`use: enc`, `key_ops` without `verify`) is
/// never registered to verify signatures: not as a Lake key, not as an application's
/// private_key_jwt key (RFC 7517 §4.2–4.3; Wycheproof JWS cases 353–356).
@Suite("JWK members that restrict a key: use, key_ops, alg")
struct KeyPurposeTests {
    /// A P-256 public key as a JWK, with `extra` members.
    static func jwk(_ extra: [String: Any]) -> [String: Any] {
        let raw = P256.Signing.PrivateKey().publicKey.rawRepresentation
        return ["kty": "EC", "crv": "P-256", "x": Base64URL.encode(raw.prefix(32)), "y": Base64URL.encode(raw.suffix(32))].merging(extra) { $1 }
    }

    static var refused: [(String, [String: Any], String)] {
        [
        ("use enc", ["use": "enc"], #"the JWK's "use" is "enc", not "sig": it is not a key for verifying signatures"#),
        ("use in capitals", ["use": "SIG"], #"the JWK's "use" is "SIG", not "sig": it is not a key for verifying signatures"#),
        ("use not a string", ["use": ["sig"]], #"JWK "use" must be a string; for a signature key it is "sig""#),
        ("key_ops encrypt", ["key_ops": ["encrypt"]], #"the JWK's "key_ops" ["encrypt"] do not include "verify": it is not a key for verifying signatures"#),
        ("key_ops sign only", ["key_ops": ["sign"]], #"the JWK's "key_ops" ["sign"] do not include "verify": it is not a key for verifying signatures"#),
        ("key_ops empty", ["key_ops": [String]()], #"the JWK's "key_ops" [] do not include "verify": it is not a key for verifying signatures"#),
        ("key_ops a string", ["key_ops": "verify"], #"JWK "key_ops" must be an array of strings that includes "verify""#),
        ("key_ops with a number", ["key_ops": ["verify", 1]], #"JWK "key_ops" must be an array of strings that includes "verify""#),
        ("key_ops twice", ["key_ops": ["verify", "verify"]], #"JWK "key_ops" lists an operation twice (RFC 7517 §4.3)"#),
        ("use sig but key_ops encrypt", ["use": "sig", "key_ops": ["encrypt"]], #"the JWK's "key_ops" ["encrypt"] do not include "verify": it is not a key for verifying signatures"#),
        ]
    }

    static var accepted: [(String, [String: Any])] {
        [
        ("neither", [:]), ("use sig", ["use": "sig"]), ("key_ops verify", ["key_ops": ["verify"]]),
        ("key_ops sign and verify", ["key_ops": ["sign", "verify"]]), ("both, consistent", ["use": "sig", "key_ops": ["verify"]]),
        ]
    }

    @Test("Lake key upload: use other than sig, or key_ops without verify, is key_use_invalid")
    func lakeKeys() async throws {
        try await LakeHarness.run { lake in
            for (name, extra, message) in Self.refused {
                let reply = try await lake.request(.post, "/api/users/me/keys", body: ["name": "k", "jwk": Self.jwk(extra)])
                #expect(reply.status == .badRequest, "\(name)")
                #expect(reply.code == "key_use_invalid", "\(name): \(reply.json)")
                #expect(reply.json["message"] as? String == message, "\(name)")
            }
            let stored = try await lake.request(.get, "/api/users/me/keys")
            #expect((stored.json["items"] as? [Any])?.count == 0, "no refused key was stored: \(stored.json)")
            for (index, (name, extra)) in Self.accepted.enumerated() {
                let reply = try await lake.request(.post, "/api/users/me/keys", body: ["name": "ok\(index)", "jwk": Self.jwk(extra)])
                #expect(reply.status == .created, "\(name): \(reply.json)")
            }
        }
    }

    @Test("a JWK's alg: an algorithm Tessera never takes is key_algorithm_unsupported, another than asked is key_algorithm_mismatch")
    func jwkAlgorithm() async throws {
        try await LakeHarness.run { lake in
            let cases: [([String: Any], String)] = [
                (["name": "k", "jwk": Self.jwk(["alg": "HS256"])], "key_algorithm_unsupported"),
                (["name": "k", "jwk": Self.jwk(["alg": "ES384"])], "key_algorithm_unsupported"),
                (["name": "k", "jwk": Self.jwk(["alg": 7])], "key_algorithm_unsupported"),
                (["name": "k", "jwk": Self.jwk(["alg": "ES256"]), "algorithm": "EdDSA"], "key_algorithm_mismatch"),
                (["name": "k", "jwk": Self.jwk(["alg": "RS256"])], "key_algorithm_mismatch"),
            ]
            for (body, code) in cases {
                let reply = try await lake.request(.post, "/api/users/me/keys", body: body)
                #expect(reply.status == .badRequest, "\(body)")
                #expect(reply.code == code, "\(body): \(reply.json)")
            }
        }
    }

    @Test("application keys for private_key_jwt: the same rule")
    func applicationKeys() async throws {
        try await LakeHarness.run { lake in
            for (name, extra, _) in Self.refused {
                let reply = try await lake.request(
                    .post, "/api/admin/applications", body: ["name": "app", "scopes": ["urn:cloud:idaas:pam|.all"], "jwk": Self.jwk(extra)]
                )
                #expect(reply.status == .badRequest, "\(name)")
                #expect(reply.code == "key_use_invalid", "\(name): \(reply.json)")
            }
            let ok = try await lake.request(
                .post, "/api/admin/applications", body: ["name": "app", "scopes": ["urn:cloud:idaas:pam|.all"], "jwk": Self.jwk(["use": "sig"])]
            )
            #expect(ok.status == .created, "\(ok.json)")
            let applications = try await lake.request(.get, "/api/admin/applications")
            #expect((applications.json["items"] as? [Any])?.count == 1, "only the signature key was registered")
        }
    }
}

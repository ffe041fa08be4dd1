import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TesseraCore

/// The management API: PATs, keys, sign-on and its errors.
@Suite("Management API")
struct ManagementAPITests {
    @Test("a PAT's secret is shown once, at creation, and never listed")
    func patShownOnce() async throws {
        try await LakeHarness.run { lake in
            let created = try await lake.request(.post, "/api/users/me/access-tokens", body: ["name": "ci", "environment": "prod", "expires_in_days": 30])
            #expect(created.status == .created)
            let secret = try #require(created.json["token"] as? String)
            #expect(secret.count == 28)
            #expect(secret.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
            #expect(created.json["environment"] as? String == "prod")
            #expect(created.json["status"] as? String == "active")
            let list = try await lake.request(.get, "/api/users/me/access-tokens")
            let items = try #require(list.json["items"] as? [[String: Any]])
            #expect(items.count == 1)
            #expect(items[0]["token"] == nil)
            #expect(items[0]["name"] as? String == "ci")
        }
    }

    @Test("PAT requests with bad fields name the field")
    func patValidation() async throws {
        try await LakeHarness.run { lake in
            let cases: [([String: Any], String)] = [
                ([:], "field_missing"),
                (["name": ""], "name_invalid"),
                (["name": 12], "field_invalid"),
                (["name": "x", "expires_in_days": 0], "expires_in_days_invalid"),
                (["name": "x", "expires_in_days": 366], "expires_in_days_invalid"),
                (["name": "x", "expires_in_days": "ten"], "field_invalid"),
                (["name": "x", "scope": "all"], "field_unknown"),
            ]
            for (body, code) in cases {
                let reply = try await lake.request(.post, "/api/users/me/access-tokens", body: body)
                #expect(reply.status == .badRequest, "\(body)")
                #expect(reply.code == code, "\(body): \(reply.json)")
            }
            let notJSON = try await lake.request(.post, "/api/users/me/access-tokens", rawBody: #"{"name":"a","name":"b"}"#)
            #expect(notJSON.code == "body_invalid")
        }
    }

    @Test("generated keys: private half once, public half and fingerprint kept", arguments: ["RS256", "PS256", "ES256", "EdDSA"])
    func generateKey(algorithm: String) async throws {
        try await LakeHarness.run { lake in
            let reply = try await lake.request(.post, "/api/users/me/keys", body: ["name": "gen", "algorithm": algorithm])
            #expect(reply.status == .created)
            #expect(reply.json["algorithm"] as? String == algorithm)
            #expect((reply.json["private_key_pem"] as? String)?.contains("PRIVATE KEY") == true)
            #expect((reply.json["fingerprint"] as? String)?.hasPrefix("SHA256:") == true)
            #expect(reply.json["origin"] as? String == "generated")
            let list = try await lake.request(.get, "/api/users/me/keys")
            let items = try #require(list.json["items"] as? [[String: Any]])
            #expect(items.count == 1)
            #expect(items[0]["private_key_pem"] == nil)
            #expect(items[0]["fingerprint"] as? String == reply.json["fingerprint"] as? String)
            // The private half signs tokens the server accepts.
            let pem = try #require(reply.json["private_key_pem"] as? String)
            let signer = try await LakeAssertionSigner(privateKeyPEM: pem, kid: "gen", algorithm: SignatureAlgorithm(rawValue: algorithm))
            let pat = try await lake.createPAT()
            let token = try await signer.sign(LakeAssertionClaims(
                subject: "demo", organization: "dataresiliency", pat: pat.secret, issuedAt: Int64(lake.now), expiresAt: Int64(lake.now + 600)
            ))
            #expect(try await lake.present(token).status == .ok)
        }
    }

    @Test("uploads: PEM and JWK accepted; private keys, small keys, bad JWKs and duplicates refused")
    func uploadKey() async throws {
        try await LakeHarness.run { lake in
            let ec = try #require(TestKey.byAlgorithm["ES256"])
            let pem = try await lake.request(.post, "/api/users/me/keys", body: ["name": "pem", "public_key_pem": ec.publicKeyPEM])
            #expect(pem.status == .created)
            #expect(pem.json["algorithm"] as? String == "ES256")
            #expect(pem.json["origin"] as? String == "uploaded")

            let duplicate = try await lake.request(.post, "/api/users/me/keys", body: ["name": "pem", "public_key_pem": ec.publicKeyPEM])
            #expect(duplicate.status == .conflict)
            #expect(duplicate.code == "key_name_taken")

            let jwk: [String: Any] = ["kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"]
            let okp = try await lake.request(.post, "/api/users/me/keys", body: ["name": "jwk", "jwk": jwk])
            #expect(okp.status == .created)
            #expect(okp.json["algorithm"] as? String == "EdDSA")

            let cases: [([String: Any], String)] = [
                (["name": "p", "public_key_pem": ec.privateKeyPEM], "key_is_private"),
                (["name": "p", "public_key_pem": "hello"], "key_invalid"),
                (["name": "p", "public_key_pem": Self.rsa1024PublicKey], "key_too_small"),
                (["name": "p", "public_key_pem": ec.publicKeyPEM, "algorithm": "RS256"], "key_algorithm_mismatch"),
                (["name": "p", "public_key_pem": ec.publicKeyPEM, "algorithm": "HS256"], "algorithm_unsupported"),
                (["name": "p", "jwk": ["kty": "oct", "k": "c2VjcmV0"]], "key_is_private"),
                (["name": "p", "jwk": ["kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"]], "key_type_unsupported"),
                (["name": "p", "jwk": ["kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"]], "key_invalid"),
                (["name": "p", "jwk": jwk, "public_key_pem": ec.publicKeyPEM], "field_conflict"),
                (["name": "bad name!", "public_key_pem": ec.publicKeyPEM], "name_invalid"),
            ]
            for (body, code) in cases {
                let reply = try await lake.request(.post, "/api/users/me/keys", body: body)
                #expect(reply.status == .badRequest, "\(code)")
                #expect(reply.code == code, "\(code): \(reply.json)")
            }
        }
    }

    @Test("sign-on failures: no credential, wrong password, unknown scheme, malformed Basic")
    func signOnFailures() async throws {
        try await LakeHarness.run { lake in
            let anonymous = try await lake.request(.get, "/api/my-organization", basic: nil)
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.code == "authentication_required")
            #expect(anonymous.headers[.wwwAuthenticate] == #"Bearer realm="tessera""#)

            let wrong = try await lake.request(.get, "/api/my-organization", basic: ("demo", "not-the-password"))
            #expect(wrong.code == "invalid_credentials")
            #expect(wrong.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
            let unknown = try await lake.request(.get, "/api/my-organization", basic: ("nobody", "not-the-password"))
            #expect(unknown.code == "invalid_credentials")

            let malformed: [(String, String, String)] = [
                ("Token 0123456789abcdef", "authorization_malformed", #"Bearer realm="tessera", error="invalid_token""#),
                (#"Digest username="demo", realm="tessera", nonce="abc", uri="/api/me", response="0""#, "authorization_malformed", #"Bearer realm="tessera", error="invalid_token""#),
                ("Bearer", "authorization_malformed", #"Bearer realm="tessera", error="invalid_token""#),
                ("Basic !!!not-base64!!!", "basic_malformed", #"Basic realm="tessera""#),
                ("Basic " + Data("demo\(LakeHarness.password)".utf8).base64EncodedString(), "basic_malformed", #"Basic realm="tessera""#),
            ]
            for (authorization, code, challenge) in malformed {
                var headers = HTTPFields()
                headers[.authorization] = authorization
                let reply = try await lake.send(.get, "/api/my-organization", headers: headers)
                #expect(reply.status == .unauthorized, "\(authorization)")
                #expect(reply.code == code, "\(authorization): \(reply.json)")
                #expect(reply.headers[.wwwAuthenticate]?.hasPrefix(challenge) == true, "\(authorization)")
            }

            let me = try await lake.request(.get, "/api/me")
            #expect(me.json["authenticated_by"] as? String == "password")
            #expect(me.json["username"] as? String == "demo")

            let health = try await lake.request(.get, "/health", basic: nil)
            #expect(health.json["status"] as? String == "ok")
            let missing = try await lake.request(.get, "/api/nothing-here")
            #expect(missing.status == .notFound)
            #expect(missing.code == "route_not_found")
        }
    }

    /// An RSA-1024 public key (too small to accept).
    static let rsa1024PublicKey = """
        -----BEGIN PUBLIC KEY-----
        MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCSDNzsvT7uIHwkwD3YHwFkYhG
        m1QPq0cK9S+xqEq2jK/tVHUx1eDtUb6EZTMCeXsVZWQGbqJ1dADw2K3qsGNfpJwB
        ybFPbvHeb+oX6ZY4b0IN0lkKM5Pj2MSBMFkPmyymzzJdfRpKfX6uU2VLwgHd4i62
        b6IyNLXzPMVbqRNlrQIDAQAB
        -----END PUBLIC KEY-----
        """
}

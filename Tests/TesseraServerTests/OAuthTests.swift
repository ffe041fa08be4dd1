import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TesseraCore

/// The server's signing keys, the JWKS, RFC 8414 metadata and the jwt-bearer token endpoint.
@Suite("OAuth, JWKS and server signing keys")
struct OAuthTests {
    static func form(_ lake: LakeHarness, _ path: String, _ body: String) async throws -> LakeHarness.Reply {
        try await lake.postForm(path, body)
    }

    static func lakeAssertion(_ lake: LakeHarness, _ overrides: [String: Any] = [:]) async throws -> String {
        let key = try #require(TestKey.byAlgorithm["ES256"])
        try await lake.uploadKey(key, name: "primary")
        let pat = try await lake.createPAT()
        return RawJWS.sign(header: lake.header(key, kid: "primary"), payload: lake.claims(pat: pat.secret, overrides), with: key)
    }

    static func kid(of token: String) throws -> String {
        let header = try #require(Base64URL.decodeStrict(String(token.split(separator: ".")[0])))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(header)) as? [String: Any])
        return try #require(json["kid"] as? String)
    }

    @Test("jwt-bearer trades a Lake JWT for an RFC 9068 access token signed by a published key")
    func jwtBearer() async throws {
        try await LakeHarness.run { lake in
            let assertion = try await Self.lakeAssertion(lake)
            let reply = try await Self.form(lake, "/oauth2/token", "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(assertion)")
            #expect(reply.status == .ok, "\(reply.json)")
            #expect(reply.headers[.cacheControl] == "no-store")
            #expect(reply.json["token_type"] as? String == "Bearer")
            #expect(reply.json["expires_in"] as? Int == 3600)
            let token = try #require(reply.json["access_token"] as? String)
            let jws = try CompactJWS(token)
            #expect(jws.header["typ"] == .string("at+jwt"))
            #expect(jws.header["alg"] == .string("ES256"))
            #expect(jws.payload["sub"] == .string("demo"))
            #expect(jws.payload["client_id"] == .string("lake:demo/primary"))
            #expect(jws.payload["org"] == .string("dataresiliency"))
            #expect(jws.payload["jti"]?.stringValue?.count == 22)
            let jwks = try await lake.request(.get, "/.well-known/jwks.json", basic: nil)
            let keys = try #require(jwks.json["keys"] as? [[String: Any]])
            let kid = try Self.kid(of: token)
            let published = try #require(keys.first { $0["kid"] as? String == kid })
            #expect(published["kty"] as? String == "EC")
            #expect(published["alg"] as? String == "ES256")
            #expect(published["use"] as? String == "sig")
            #expect(published["d"] == nil)
            // The same path as the IDaaS API.
            let again = try await Self.form(lake, "/api/v2/iauths_system/oauth2/token", "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=\(assertion)")
            #expect(again.status == .ok)
        }
    }

    @Test("token endpoint errors follow RFC 6749 §5.2")
    func tokenErrors() async throws {
        try await LakeHarness.run { lake in
            let expired = try await Self.lakeAssertion(lake, ["exp": lake.now - 3600, "iat": lake.now - 7200])
            let grant = "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer"
            let cases: [(String, String, String)] = [
                ("", "invalid_request", "parameter 'grant_type' is required"),
                ("grant_type=password", "unsupported_grant_type", "grant_type 'password' is not supported; this server supports client_credentials and urn:ietf:params:oauth:grant-type:jwt-bearer"),
                (grant, "invalid_request", "parameter 'assertion' is required"),
                (grant + "&assertion=a&assertion=b", "invalid_request", "parameter 'assertion' is given more than once"),
                (grant + "&assertion=abc", "invalid_grant", "token_malformed: token must be three base64url parts separated by dots (header.payload.signature); found 1 part(s)"),
                (grant + "&assertion=\(expired)&scope=x", "invalid_scope", "the jwt-bearer grant takes no scope"),
            ]
            for (body, error, description) in cases {
                let reply = try await Self.form(lake, "/oauth2/token", body)
                #expect(reply.status == .badRequest, "\(body)")
                #expect(reply.json["error"] as? String == error, "\(body): \(reply.json)")
                #expect(reply.json["error_description"] as? String == description, "\(body)")
            }
            let expiredReply = try await Self.form(lake, "/oauth2/token", grant + "&assertion=\(expired)")
            #expect(expiredReply.json["error"] as? String == "invalid_grant")
            #expect((expiredReply.json["error_description"] as? String)?.hasPrefix("token_expired: token expired at") == true)
            var json = HTTPFields()
            json[.contentType] = "application/json"
            let wrongType = try await lake.client.execute(uri: "/oauth2/token", method: .post, headers: json, body: ByteBuffer(string: "{}")) { $0.status }
            #expect(wrongType == .badRequest)
        }
    }

    @Test("rotation: the new key signs, the old one stays in the JWKS for the tokens it signed")
    func rotation() async throws {
        try await LakeHarness.run { lake in
            let assertion = try await Self.lakeAssertion(lake)
            let body = "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=\(assertion)"
            let before = try #require(try await Self.form(lake, "/oauth2/token", body).json["access_token"] as? String)
            let rotated = try await lake.request(.post, "/api/admin/signing-keys/rotate", body: ["algorithm": "RS256"])
            #expect(rotated.status == .created)
            #expect(rotated.json["status"] as? String == "signing")
            let newKid = try #require(rotated.json["kid"] as? String)
            let after = try #require(try await Self.form(lake, "/oauth2/token", body).json["access_token"] as? String)
            #expect(try Self.kid(of: after) == newKid)
            #expect(try CompactJWS(after).header["alg"] == .string("RS256"))
            let oldKid = try Self.kid(of: before)
            #expect(oldKid != newKid)

            let published = { () async throws -> Set<String> in
                let jwks = try await lake.request(.get, "/.well-known/jwks.json", basic: nil)
                return Set((jwks.json["keys"] as? [[String: Any]] ?? []).compactMap { $0["kid"] as? String })
            }
            #expect(try await published() == [oldKid, newKid])
            let list = try await lake.request(.get, "/api/admin/signing-keys")
            let statuses = (list.json["items"] as? [[String: Any]] ?? []).compactMap { $0["status"] as? String }
            #expect(statuses == ["signing", "verifying"])
            // It also signed TR50 JWTs, which may live a day: it stays until those could have
            // expired (plus the leeway), then leaves.
            lake.clock.advance(3600 + 61)
            #expect(try await published() == [oldKid, newKid])
            lake.clock.advance(86_400 - 3600)
            #expect(try await published() == [newKid])
        }
    }

    @Test("RFC 8414 metadata names the endpoints")
    func metadata() async throws {
        try await LakeHarness.run { lake in
            let reply = try await lake.request(.get, "/.well-known/oauth-authorization-server", basic: nil)
            let issuer = try #require(reply.json["issuer"] as? String)
            #expect(issuer.hasPrefix("http://"))
            #expect(reply.json["jwks_uri"] as? String == issuer + "/.well-known/jwks.json")
            #expect(reply.json["token_endpoint"] as? String == issuer + "/oauth2/token")
            #expect(reply.json["grant_types_supported"] as? [String] == ["client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer"])
            #expect(reply.json["token_endpoint_auth_methods_supported"] as? [String] == ["client_secret_basic", "client_secret_post", "private_key_jwt"])
        }
    }
}

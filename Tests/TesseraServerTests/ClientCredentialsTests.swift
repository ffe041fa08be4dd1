import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TesseraCore

/// Applications and the client_credentials grant with each client authentication method.
@Suite("Client credentials")
struct ClientCredentialsTests {
    static func token(_ lake: LakeHarness, _ body: String, authorization: String? = nil) async throws -> LakeHarness.Reply {
        try await lake.postForm("/oauth2/token", body, authorization: authorization)
    }

    static func createApp(_ lake: LakeHarness, scopes: [String], key: TestKey? = nil) async throws -> (id: String, secret: String) {
        var body: [String: Any] = ["name": "integrator", "scopes": scopes]
        if let key { body["public_key_pem"] = key.publicKeyPEM }
        let reply = try await lake.request(.post, "/api/admin/applications", body: body)
        try #require(reply.status == .created, "\(reply.json)")
        let id = try #require(reply.json["client_id"] as? String)
        #expect(id.hasPrefix("app_"))
        return (id, try #require(reply.json["client_secret"] as? String))
    }

    static func basic(_ id: String, _ secret: String) -> String {
        "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString()
    }

    @Test("client_secret_basic and client_secret_post get RFC 9068 tokens with the granted scopes")
    func secrets() async throws {
        try await LakeHarness.run { lake in
            let app = try await Self.createApp(lake, scopes: [PAMScope.all])
            let basic = try await Self.token(lake, "grant_type=client_credentials", authorization: Self.basic(app.id, app.secret))
            #expect(basic.status == .ok, "\(basic.json)")
            #expect(basic.json["scope"] as? String == PAMScope.all)
            let jws = try CompactJWS(try #require(basic.json["access_token"] as? String))
            #expect(jws.header["typ"] == .string("at+jwt"))
            #expect(jws.payload["sub"] == .string(app.id))
            #expect(jws.payload["client_id"] == .string(app.id))
            #expect(jws.payload["scope"] == .string(PAMScope.all))

            let obtain = PAMScope.obtain.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let post = try await Self.token(lake, "grant_type=client_credentials&client_id=\(app.id)&client_secret=\(app.secret)&scope=\(obtain)")
            #expect(post.status == .ok, "\(post.json)")
            #expect(post.json["scope"] as? String == PAMScope.obtain)
            let list = try await lake.request(.get, "/api/admin/applications")
            let items = try #require(list.json["items"] as? [[String: Any]])
            #expect(items.count == 1)
            #expect(items[0]["client_secret"] == nil)
        }
    }

    @Test("private_key_jwt: a signed client assertion, once")
    func privateKeyJWT() async throws {
        try await LakeHarness.run { lake in
            let key = try #require(TestKey.byAlgorithm["ES256"])
            let app = try await Self.createApp(lake, scopes: [PAMScope.read], key: key)
            let metadata = try await lake.request(.get, "/.well-known/oauth-authorization-server", basic: nil)
            let endpoint = try #require(metadata.json["token_endpoint"] as? String)
            let claims: [String: Any] = ["iss": app.id, "sub": app.id, "aud": endpoint, "jti": UUID().uuidString, "iat": lake.now, "exp": lake.now + 300]
            let assertion = RawJWS.sign(header: ["alg": "ES256", "typ": "JWT"].merging(["kid": "k"]) { a, _ in a }, payload: claims, with: key)
            let body = "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=\(assertion)"
            let first = try await Self.token(lake, body)
            #expect(first.status == .ok, "\(first.json)")
            #expect(first.json["scope"] as? String == PAMScope.read)
            let replay = try await Self.token(lake, body)
            #expect(replay.status == .unauthorized)
            #expect(replay.json["error"] as? String == "invalid_client")
            #expect((replay.json["error_description"] as? String)?.hasPrefix("token_replayed:") == true)

            let stranger = try #require(TestKey.strangers["ES256"])
            var forgedClaims = claims
            forgedClaims["jti"] = UUID().uuidString
            let forged = RawJWS.sign(header: ["alg": "ES256", "kid": "k"], payload: forgedClaims, with: stranger)
            let refused = try await Self.token(lake, body.replacingOccurrences(of: assertion, with: forged))
            #expect((refused.json["error_description"] as? String)?.hasPrefix("signature_invalid:") == true)

            var wrongAudience = claims
            wrongAudience["jti"] = UUID().uuidString
            wrongAudience["aud"] = "https://elsewhere.example/token"
            let misaddressed = RawJWS.sign(header: ["alg": "ES256", "kid": "k"], payload: wrongAudience, with: key)
            let refusedAudience = try await Self.token(lake, body.replacingOccurrences(of: assertion, with: misaddressed))
            #expect((refusedAudience.json["error_description"] as? String)?.hasPrefix("audience_invalid:") == true)
        }
    }

    @Test("client authentication and scope errors, each with its RFC 6749 code and status")
    func errors() async throws {
        try await LakeHarness.run { lake in
            let app = try await Self.createApp(lake, scopes: [PAMScope.obtain])
            let wrong = try await Self.token(lake, "grant_type=client_credentials", authorization: Self.basic(app.id, "not-the-secret"))
            #expect(wrong.status == .unauthorized)
            #expect(wrong.json["error"] as? String == "invalid_client")
            #expect(wrong.headers[.wwwAuthenticate] == #"Basic realm="tessera""#)
            let unknown = try await Self.token(lake, "grant_type=client_credentials&client_id=app_nobody&client_secret=x")
            #expect(unknown.status == .unauthorized)
            #expect(unknown.json["error_description"] as? String == "client authentication failed: unknown client or wrong secret")
            let none = try await Self.token(lake, "grant_type=client_credentials")
            #expect(none.json["error"] as? String == "invalid_client")
            let both = try await Self.token(lake, "grant_type=client_credentials&client_id=\(app.id)&client_secret=\(app.secret)", authorization: Self.basic(app.id, app.secret))
            #expect(both.json["error"] as? String == "invalid_request")
            let manage = PAMScope.manage.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let scope = try await Self.token(lake, "grant_type=client_credentials&scope=\(manage)", authorization: Self.basic(app.id, app.secret))
            #expect(scope.status == .badRequest)
            #expect(scope.json["error"] as? String == "invalid_scope")
            let assertionForm = "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion="
            let malformed = try await Self.token(lake, assertionForm + "a.b.c")
            #expect(malformed.status == .unauthorized)
            #expect(malformed.json["error"] as? String == "invalid_client")
            #expect((malformed.json["error_description"] as? String)?.hasPrefix("token_malformed:") == true, "\(malformed.json)")
            // A well-formed, correctly addressed assertion signed by a key the application never registered:
            // an application without a key cannot use private_key_jwt at all.
            let metadata = try await lake.request(.get, "/.well-known/oauth-authorization-server", basic: nil)
            let endpoint = try #require(metadata.json["token_endpoint"] as? String)
            let unregistered = try #require(TestKey.byAlgorithm["ES256"])
            let assertion = RawJWS.sign(
                header: ["alg": "ES256", "kid": "k", "typ": "JWT"],
                payload: ["iss": app.id, "sub": app.id, "aud": endpoint, "jti": UUID().uuidString, "iat": lake.now, "exp": lake.now + 300],
                with: unregistered
            )
            let noKey = try await Self.token(lake, assertionForm + assertion)
            #expect(noKey.status == .unauthorized)
            #expect(noKey.json["error"] as? String == "invalid_client")
            #expect((noKey.json["error_description"] as? String)?.hasSuffix("with a registered key for private_key_jwt") == true, "\(noKey.json)")

            let badScope = try await lake.request(.post, "/api/admin/applications", body: ["name": "x", "scopes": ["everything"]])
            #expect(badScope.status == .badRequest)
            #expect(badScope.code == "scopes_invalid")
            _ = try await lake.request(.post, "/api/admin/users", body: ["username": "alice", "password": "alice-password"])
            let notAdmin = try await lake.request(.post, "/api/admin/applications", basic: ("alice", "alice-password"), body: ["name": "x", "scopes": [PAMScope.all]])
            #expect(notAdmin.status == .forbidden)
            #expect(try await lake.request(.delete, "/api/admin/applications/\(app.id)").status == .noContent)
            let deleted = try await Self.token(lake, "grant_type=client_credentials", authorization: Self.basic(app.id, app.secret))
            #expect(deleted.json["error"] as? String == "invalid_client")
        }
    }
}

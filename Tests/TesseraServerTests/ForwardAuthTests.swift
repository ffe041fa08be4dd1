import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TesseraCore

/// `GET /auth/verify` with Lake self-signed JWTs and server-minted access tokens (PAM and TR50
/// credentials are covered by the Python end-to-end tests, which mint them as integrators do).
@Suite("Forward-auth")
struct ForwardAuthTests {
    static func verify(_ lake: LakeHarness, _ authorization: String?, query: String = "") async throws -> LakeHarness.Reply {
        var headers = HTTPFields()
        if let authorization { headers[.authorization] = authorization }
        return try await lake.send(.get, "/auth/verify" + query, headers: headers)
    }

    static func header(_ reply: LakeHarness.Reply, _ name: String) -> String? {
        HTTPField.Name(name).flatMap { reply.headers[$0] }
    }

    static func expectRefused(_ reply: LakeHarness.Reply, _ code: String, _ comment: Comment? = nil) {
        #expect(reply.status == .unauthorized, comment)
        #expect(reply.code == code, comment)
        #expect(header(reply, "X-Tessera-Error") == code, comment)
        #expect(reply.headers[.wwwAuthenticate]?.hasPrefix(#"Bearer realm="tessera""#) == true, comment)
        #expect(header(reply, "X-Tessera-Subject") == nil, comment)
    }

    @Test("no credential, another scheme, or a bare PAT: 401 with the reason")
    func missingOrUnusable() async throws {
        try await LakeHarness.run { lake in
            let none = try await Self.verify(lake, nil)
            Self.expectRefused(none, "authentication_required")
            #expect(none.headers[.wwwAuthenticate] == #"Bearer realm="tessera""#, "RFC 6750: no error attribute without a credential")
            Self.expectRefused(try await Self.verify(lake, "Basic ZGVtbzpwYXNz"), "authorization_malformed")
            let pat = try await lake.createPAT()
            let bare = try await Self.verify(lake, "Bearer " + pat.secret)
            Self.expectRefused(bare, "credential_unrecognised")
            #expect(bare.headers[.wwwAuthenticate]?.contains(#"error="invalid_token""#) == true)
        }
    }

    @Test("a Lake JWT: 200 with the identity headers; single-use consumed; forged, revoked, wrong audience refused")
    func lakeTokens() async throws {
        try await LakeHarness.run { lake in
            let key = TestKey.es256()
            try await lake.uploadKey(key, name: "primary")
            let pat = try await lake.createPAT()
            let multi = RawJWS.sign(header: lake.header(key, kid: "primary"), payload: lake.claims(pat: pat.secret), with: key)
            for _ in 0..<2 {
                let ok = try await Self.verify(lake, "Bearer " + multi)
                #expect(ok.status == .ok, "\(ok.json)")
                #expect(Self.header(ok, "X-Tessera-Subject") == "demo")
                #expect(Self.header(ok, "X-Tessera-Org") == "dataresiliency")
                #expect(Self.header(ok, "X-Tessera-Org-Id")?.count == 36)
                #expect(Self.header(ok, "X-Tessera-Token-Type") == "lake_jwt")
                #expect(Self.header(ok, "X-Tessera-Client-Id") == "lake:demo/primary")
                #expect(Self.header(ok, "X-Tessera-Audience") == "td:service:authentication")
                #expect(Self.header(ok, "X-Tessera-Expires-At") == String(lake.now + 3600))
                #expect(ok.json["subject"] as? String == "demo")
            }
            // Answers are encoded once per identity: tokens of other identities, alternated, each get their own.
            let sooner = RawJWS.sign(header: lake.header(key, kid: "primary"), payload: lake.claims(pat: pat.secret, ["exp": lake.now + 1800]), with: key)
            for (token, expiresAt) in [(sooner, lake.now + 1800), (multi, lake.now + 3600), (sooner, lake.now + 1800)] {
                let ok = try await Self.verify(lake, "Bearer " + token)
                #expect(Self.header(ok, "X-Tessera-Expires-At") == String(expiresAt))
                #expect(ok.json["expires_at"] as? String == String(expiresAt))
                #expect(ok.headers[.contentType] == "application/json")
            }
            #expect(try await Self.verify(lake, "Bearer " + multi, query: "?audience=td:service:authentication").status == .ok)
            Self.expectRefused(try await Self.verify(lake, "Bearer " + multi, query: "?audience=billing"), "audience_mismatch")
            let scoped = try await Self.verify(lake, "Bearer " + multi, query: "?scope=admin")
            #expect(scoped.status == .forbidden)
            #expect(scoped.code == "insufficient_scope")
            #expect(scoped.headers[.wwwAuthenticate] == #"Bearer realm="tessera", error="insufficient_scope", scope="admin""#)

            let single = RawJWS.sign(header: lake.header(key, kid: "primary"), payload: lake.claims(pat: pat.secret, ["multi-use": false]), with: key)
            #expect(try await Self.verify(lake, "Bearer " + single).status == .ok)
            Self.expectRefused(try await Self.verify(lake, "Bearer " + single), "token_replayed")

            let stranger = TestKey.es256()
            let forged = RawJWS.sign(header: lake.header(key, kid: "primary"), payload: lake.claims(pat: pat.secret), with: stranger)
            Self.expectRefused(try await Self.verify(lake, "Bearer " + forged), "signature_invalid")
            Self.expectRefused(try await Self.verify(lake, "Bearer " + multi.dropLast(3) + "AAA"), "signature_invalid")
            Self.expectRefused(try await Self.verify(lake, "Bearer a.b"), "token_malformed")

            let revoke = try await lake.request(.delete, "/api/users/me/access-tokens/\(pat.id)")
            #expect(revoke.status == .ok, "\(revoke.json)")
            #expect(revoke.json["status"] as? String == "revoked", "\(revoke.json)")
            Self.expectRefused(try await Self.verify(lake, "Bearer " + multi), "pat_revoked")
        }
    }

    @Test("an access token: 200 with scopes and client; scope and audience requirements; revoked refused")
    func accessTokens() async throws {
        try await LakeHarness.run { lake in
            let app = try await ClientCredentialsTests.createApp(lake, scopes: [PAMScope.obtain, PAMScope.read])
            let issued = try await ClientCredentialsTests.token(lake, "grant_type=client_credentials", authorization: ClientCredentialsTests.basic(app.id, app.secret))
            let token = try #require(issued.json["access_token"] as? String)
            let ok = try await Self.verify(lake, "Bearer " + token)
            #expect(ok.status == .ok, "\(ok.json)")
            #expect(Self.header(ok, "X-Tessera-Token-Type") == "access_token")
            #expect(Self.header(ok, "X-Tessera-Subject") == app.id)
            #expect(Self.header(ok, "X-Tessera-Client-Id") == app.id)
            #expect(Self.header(ok, "X-Tessera-Scopes") == "\(PAMScope.obtain) \(PAMScope.read)")
            #expect(Self.header(ok, "X-Tessera-Audience") == "tessera")
            let both = "?scope=" + [PAMScope.obtain, PAMScope.read].joined(separator: "%20").replacingOccurrences(of: "|", with: "%7C")
            #expect(try await Self.verify(lake, "Bearer " + token, query: both + "&audience=tessera").status == .ok)
            let manage = "?scope=" + PAMScope.manage.replacingOccurrences(of: "|", with: "%7C")
            let lacking = try await Self.verify(lake, "Bearer " + token, query: manage)
            #expect(lacking.status == .forbidden)
            #expect(Self.header(lacking, "X-Tessera-Error") == "insufficient_scope")
            #expect(lacking.json["message"] as? String == "the access_token lacks scope \(PAMScope.manage)")
            Self.expectRefused(try await Self.verify(lake, "Bearer " + token, query: "?audience=tr50"), "audience_mismatch")

            let form = "token=\(token)"
            var headers = HTTPFields()
            headers[.contentType] = "application/x-www-form-urlencoded"
            headers[.authorization] = ClientCredentialsTests.basic(app.id, app.secret)
            let revoked = try await lake.client.execute(uri: "/oauth2/revoke", method: .post, headers: headers, body: ByteBuffer(string: form)) { $0.status }
            #expect(revoked == .ok)
            Self.expectRefused(try await Self.verify(lake, "Bearer " + token), "token_revoked")
        }
    }
}

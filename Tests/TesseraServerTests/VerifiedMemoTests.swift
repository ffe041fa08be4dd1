import Foundation
import HTTPTypes
import Testing
import TesseraCore
import TesseraServer

/// A credential presented again is answered from the memo of verified credentials
/// (`VerifiedCredentialMemo`), never past a moment the full checks would have refused it or
/// would have done something per use. The server here caches for 300 s, so within a test only
/// the memo's own time checks can end an entry: each test first presents the credential several
/// times, then moves the clock across the moment that matters.
@Suite("Repeated credentials and the memo of verified credentials")
struct VerifiedMemoTests {
    static func run(_ body: @Sendable (LakeHarness) async throws -> Void) async throws {
        try await LakeHarness.runInProcess(configure: { $0.lake.credentialCacheLifetime = .seconds(300) }, body)
    }

    /// How many `pat.used_expiring` events the audit log holds.
    static func noticed(_ lake: LakeHarness) async throws -> Int {
        let reply = try await lake.request(.get, "/api/admin/audit?action=pat.used_expiring")
        try #require(reply.status == .ok, "\(reply.json)")
        return try #require(reply.json["items"] as? [Any]).count
    }

    /// An ES256 key named `primary` and a PAT (of `days`, else the default) for the demo user.
    static func keyAndPAT(_ lake: LakeHarness, days: Int? = nil) async throws -> (key: TestKey, pat: (id: String, secret: String)) {
        let key = TestKey.es256()
        try await lake.uploadKey(key, name: "primary")
        return (key, try await lake.createPAT(days: days))
    }

    /// Presents `token` at `/auth/verify` three times, each accepted: the first two are checked in
    /// full (the second is kept), the third is answered from the memo.
    static func warm(_ lake: LakeHarness, _ token: String) async throws {
        for _ in 0..<3 { #expect(try await RotationTests.forwardAuth(lake, token) == nil) }
    }

    /// A multi-use Lake JWT for `pat`, valid for `lifetime` seconds from now.
    static func lakeToken(_ lake: LakeHarness, _ key: TestKey, pat: String, lifetime: Int = 3600) -> String {
        RawJWS.sign(header: lake.header(key, kid: "primary"), payload: lake.claims(pat: pat, ["exp": lake.now + lifetime]), with: key)
    }

    @Test("a repeated Lake JWT is checked in full again once its PAT enters its last week, so that use is noticed")
    func warningWeek() async throws {
        try await Self.run { lake in
            let (key, pat) = try await Self.keyAndPAT(lake, days: 8)
            // Five minutes before the PAT's last week begins.
            lake.clock.advance(86_400 - 300)
            let token = Self.lakeToken(lake, key, pat: pat.secret)
            try await Self.warm(lake, token)
            #expect(try await Self.noticed(lake) == 0)
            lake.clock.advance(600)
            #expect(try await RotationTests.forwardAuth(lake, token) == nil)
            #expect(try await Self.noticed(lake) == 1, "the first use in the PAT's last week is audited")
        }
    }

    @Test("a repeated Lake JWT signed with a rotated PAT's previous secret is refused when the overlap ends")
    func rotationOverlap() async throws {
        try await Self.run { lake in
            let (key, pat) = try await Self.keyAndPAT(lake)
            let token = Self.lakeToken(lake, key, pat: pat.secret, lifetime: 3 * 3600)
            let rotated = try await lake.request(.post, "/api/users/me/access-tokens/\(pat.id)/rotate", body: ["overlap_hours": 1])
            try #require(rotated.status == .ok, "\(rotated.json)")
            try await Self.warm(lake, token)
            #expect(try await lake.present(token).status == .ok, "the Lake API too")
            lake.clock.advance(3600)
            #expect(try await RotationTests.forwardAuth(lake, token) == "pat_rotated")
            #expect(try await lake.present(token).code == "pat_rotated")
        }
    }

    @Test("a repeated Lake JWT, access token, TR50 session JWT or PAM JWT is refused from the second its expiry allows no more")
    func expiry() async throws {
        try await Self.run { lake in
            let (key, pat) = try await Self.keyAndPAT(lake)
            let lakeJWT = Self.lakeToken(lake, key, pat: pat.secret, lifetime: 600)
            let minted = try await RotationTests.mint(lake)
            for token in [lakeJWT, minted.accessToken, minted.tr50JWT, minted.pamJWT] { try await Self.warm(lake, token) }
            // The Lake JWT and the access token: their exp plus the leeway, as the full checks allow.
            lake.clock.advance(600 + TimeInterval(RotationTests.leeway))
            #expect(try await RotationTests.forwardAuth(lake, lakeJWT) == nil)
            lake.clock.advance(1)
            #expect(try await RotationTests.forwardAuth(lake, lakeJWT) == "token_expired")
            lake.clock.advance(TimeInterval(minted.accessExpiry + RotationTests.leeway - lake.now))
            #expect(try await RotationTests.forwardAuth(lake, minted.accessToken) == nil)
            lake.clock.advance(1)
            #expect(try await RotationTests.forwardAuth(lake, minted.accessToken) == "token_expired")
            // The TR50 session JWT: at /auth/verify and at POST /api.
            #expect(try await RotationTests.tr50(lake, minted.tr50JWT) == nil)
            #expect(try await RotationTests.tr50(lake, minted.tr50JWT) == nil)
            lake.clock.advance(TimeInterval(minted.tr50Expiry + RotationTests.leeway - lake.now))
            #expect(try await RotationTests.forwardAuth(lake, minted.tr50JWT) == nil)
            #expect(try await RotationTests.tr50(lake, minted.tr50JWT) == nil)
            lake.clock.advance(1)
            #expect(try await RotationTests.forwardAuth(lake, minted.tr50JWT) == "tr50_jwt_refused")
            #expect(try await RotationTests.tr50(lake, minted.tr50JWT)?.hasPrefix("session JWT refused: token_expired:") == true)
            // The PAM JWT: its record's exact expirationTime.
            lake.clock.advance(TimeInterval(minted.pamExpiry - 1 - lake.now))
            #expect(try await RotationTests.forwardAuth(lake, minted.pamJWT) == nil)
            lake.clock.advance(1)
            #expect(try await RotationTests.forwardAuth(lake, minted.pamJWT) == "AuthenticationTokenExpired")
        }
    }

    @Test("a clock set back before a repeated token's verification makes it checked in full again")
    func clockSetBack() async throws {
        try await Self.run { lake in
            let minted = try await RotationTests.mint(lake)
            try await Self.warm(lake, minted.accessToken)
            lake.clock.advance(-3600)
            #expect(try await RotationTests.forwardAuth(lake, minted.accessToken) == "token_issued_in_future")
        }
    }

    @Test("a repeated access token or Lake JWT whose PAT is revoked is refused on the next request; another stays answered")
    func revocations() async throws {
        try await Self.run { lake in
            let (key, pat) = try await Self.keyAndPAT(lake)
            let lakeJWT = Self.lakeToken(lake, key, pat: pat.secret)
            let minted = try await RotationTests.mint(lake)
            for token in [lakeJWT, minted.accessToken] { try await Self.warm(lake, token) }
            let revoked = try await RotationTests.form(lake, "/oauth2/revoke", "token=\(minted.accessToken)", basic: minted.client)
            try #require(revoked.status == .ok, "\(revoked.json)")
            #expect(try await RotationTests.forwardAuth(lake, minted.accessToken) == "token_revoked")
            #expect(try await RotationTests.forwardAuth(lake, lakeJWT) == nil, "the other credential is still answered")
            let deleted = try await lake.request(.delete, "/api/users/me/access-tokens/\(pat.id)")
            try #require(deleted.status == .ok || deleted.status == .noContent, "\(deleted.json)")
            #expect(try await RotationTests.forwardAuth(lake, lakeJWT) == "pat_revoked")
        }
    }
}

import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TesseraCore

/// A signing-key rotation seen through Tessera itself, not only through the JWKS: the tokens the
/// retired key signed (an access token, a PAM JWT, a TR50 session JWT) keep working where
/// Tessera checks them — `/auth/verify`, the PAM API, TR50 `POST /api` — until they expire, and
/// nothing the retired key signed is accepted once its `verify_until` has passed.
@Suite("Signing-key rotation through Tessera")
struct RotationTests {
    static let leeway = 60
    static let pamScopes = "urn:cloud:idaas:pam|.all"

    /// The tokens minted before the rotation, and when each expires.
    struct Minted {
        let accessToken: String
        let accessExpiry: Int
        let pamJWT: String
        let pamExpiry: Int
        let tr50JWT: String
        let tr50Expiry: Int
        let instance: String
        /// The integrator application's client id and secret.
        let client: (id: String, secret: String)
    }

    static func form(_ lake: LakeHarness, _ path: String, _ body: String, basic: (id: String, secret: String)) async throws -> LakeHarness.Reply {
        try await lake.postForm(path, body, authorization: LakeHarness.basicAuthorization(basic.id, basic.secret))
    }

    static func claims(of token: String) throws -> [String: Any] {
        let payload = try #require(Base64URL.decodeStrict(String(token.split(separator: ".")[1])))
        return try #require(try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any])
    }

    static func expiry(of token: String) throws -> Int {
        try #require(try claims(of: token)["exp"] as? Int)
    }

    static func kid(of token: String) throws -> String {
        let header = try #require(Base64URL.decodeStrict(String(token.split(separator: ".")[0])))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(header)) as? [String: Any])
        return try #require(json["kid"] as? String)
    }

    /// An access token (client_credentials), a PAM JWT of the longest validity the provider
    /// allows, and a day-long TR50 session JWT, all signed by the organization's current key.
    static func mint(_ lake: LakeHarness) async throws -> Minted {
        let provider = try await lake.request(
            .post, "/api/admin/credential-providers",
            body: ["name": "long", "issuer": "https://pam.example", "defaultValidity": 3600, "maximumValidity": 172_800]
        )
        try #require(provider.status == .created, "\(provider.json)")
        let app = try await lake.request(.post, "/api/admin/applications", body: ["name": "integrator", "scopes": [pamScopes]])
        try #require(app.status == .created, "\(app.json)")
        let client = (try #require(app.json["client_id"] as? String), try #require(app.json["client_secret"] as? String))
        let issued = try await form(lake, "/oauth2/token", "grant_type=client_credentials", basic: client)
        let accessToken = try #require(issued.json["access_token"] as? String, "\(issued.json)")

        let instance = try #require((try await lake.request(.get, "/api/me").json["organization"] as? [String: Any])?["instance_id"] as? String)
        let generated = try await lake.request(
            .post, "/v2/\(instance)/authenticationTokens/_/actions/generateJwt", bearer: accessToken,
            body: ["credentialProviderIdentifier": "long", "subject": "svc", "audiences": ["https://backend.example"], "expiration": 172_800]
        )
        try #require(generated.status == .ok, "\(generated.json)")
        let pamJWT = try #require((generated.json["jwtContent"] as? [String: Any])?["jwtValue"] as? String)
        let pamExpiryMilliseconds = try #require(generated.json["expirationTime"] as? Int)

        let login = try await lake.request(
            .post, "/api", basic: nil,
            body: [
                "auth": ["command": "api.authenticate", "params": ["username": LakeHarness.username, "password": LakeHarness.password]],
                "role": ["command": "role.create", "params": ["key": "ops", "commands": ["*"]]],
            ]
        )
        let session = try #require((login.json["auth"] as? [String: Any]).flatMap { ($0["params"] as? [String: Any])?["sessionId"] as? String })
        let created = try await lake.request(
            .post, "/api", basic: nil,
            body: ["auth": ["sessionId": session], "jwt": ["command": "session.jwt.create", "params": ["whoami": "svc", "role": "ops", "ttl": 86_400]]]
        )
        let tr50JWT = try #require(((created.json["jwt"] as? [String: Any])?["params"] as? [String: Any])?["token"] as? String, "\(created.json)")

        return Minted(
            accessToken: accessToken, accessExpiry: try expiry(of: accessToken), pamJWT: pamJWT, pamExpiry: pamExpiryMilliseconds / 1000,
            tr50JWT: tr50JWT, tr50Expiry: try expiry(of: tr50JWT), instance: instance, client: client
        )
    }

    /// `/auth/verify`: nil when accepted, else the `X-Tessera-Error` code.
    static func forwardAuth(_ lake: LakeHarness, _ token: String) async throws -> String? {
        let reply = try await ForwardAuthTests.verify(lake, "Bearer " + token)
        if reply.status == .ok { return nil }
        #expect(reply.status == .unauthorized, "\(reply.json)")
        return ForwardAuthTests.header(reply, "X-Tessera-Error") ?? "status \(reply.status.code)"
    }

    /// The PAM API called with the access token: nil when accepted, else the refusal
    /// (`invalid_token` errors name the verifier's code first in their description).
    static func pamAPI(_ lake: LakeHarness, _ minted: Minted) async throws -> String? {
        let reply = try await lake.request(
            .post, "/v2/\(minted.instance)/authenticationTokens/_/actions/validate", bearer: minted.accessToken, body: ["token": minted.pamJWT]
        )
        if reply.status == .ok { return nil }
        #expect(reply.status == .unauthorized, "\(reply.json)")
        let description = reply.json["error_description"] as? String ?? ""
        return String(description.prefix { $0 != ":" })
    }

    /// PAM `validate` of the PAM JWT (with a fresh access token, so only the PAM JWT is judged).
    static func pamValidate(_ lake: LakeHarness, _ minted: Minted, with accessToken: String) async throws -> Bool {
        let reply = try await lake.request(
            .post, "/v2/\(minted.instance)/authenticationTokens/_/actions/validate", bearer: accessToken, body: ["token": minted.pamJWT]
        )
        try #require(reply.status == .ok, "\(reply.json)")
        return try #require(reply.json["active"] as? Bool)
    }

    /// TR50 `session.info` with the session JWT as Bearer: nil when it ran, else the refusal.
    static func tr50(_ lake: LakeHarness, _ token: String) async throws -> String? {
        let reply = try await lake.request(.post, "/api", bearer: token, body: ["c": ["command": "session.info"]])
        let command = try #require(reply.json["c"] as? [String: Any], "\(reply.json)")
        if command["success"] as? Bool == true { return nil }
        return (command["errorMessages"] as? [String])?.first ?? "\(command)"
    }

    @Test("tokens signed before a rotation are accepted until they expire, and nothing is after the retired key's verify_until")
    func tokensSignedBeforeRotation() async throws {
        try await LakeHarness.run { lake in
            let minted = try await Self.mint(lake)
            let oldKid = try Self.kid(of: minted.accessToken)
            #expect(try Self.kid(of: minted.pamJWT) == oldKid)
            #expect(try Self.kid(of: minted.tr50JWT) == oldKid)

            let rotated = try await lake.request(.post, "/api/admin/signing-keys/rotate", body: [:])
            try #require(rotated.status == .created, "\(rotated.json)")
            let newKid = try #require(rotated.json["kid"] as? String)
            let rotatedAt = lake.now
            let keys = try await lake.request(.get, "/api/admin/signing-keys")
            let retired = try #require((keys.json["items"] as? [[String: Any]])?.first { $0["kid"] as? String == oldKid })
            let verifyUntilText = try #require(retired["verify_until"] as? String)
            let verifyUntil = try #require(ISO8601DateFormatter().date(from: verifyUntilText))
            // The longest token the key signed: the provider's 172 800 s maximum, plus the leeway.
            #expect(Int(verifyUntil.timeIntervalSince1970) == rotatedAt + 172_800 + Self.leeway)
            let fresh = try #require(
                try await Self.form(lake, "/oauth2/token", "grant_type=client_credentials", basic: minted.client).json["access_token"] as? String
            )
            #expect(try Self.kid(of: fresh) == newKid)

            // Right after the rotation: every old token works everywhere Tessera checks it.
            #expect(try await Self.forwardAuth(lake, minted.accessToken) == nil)
            #expect(try await Self.pamAPI(lake, minted) == nil)
            #expect(try await Self.forwardAuth(lake, minted.pamJWT) == nil)
            #expect(try await Self.pamValidate(lake, minted, with: fresh))
            #expect(try await Self.forwardAuth(lake, minted.tr50JWT) == nil)
            #expect(try await Self.tr50(lake, minted.tr50JWT) == nil)

            // The access token: accepted up to its exp plus the leeway, refused one second later.
            lake.clock.advance(TimeInterval(minted.accessExpiry + Self.leeway - lake.now))
            #expect(try await Self.forwardAuth(lake, minted.accessToken) == nil)
            #expect(try await Self.pamAPI(lake, minted) == nil)
            lake.clock.advance(1)
            #expect(try await Self.forwardAuth(lake, minted.accessToken) == "token_expired")
            #expect(try await Self.pamAPI(lake, minted) == "token_expired")

            // The TR50 JWT (a day): the same at /auth/verify and at POST /api.
            lake.clock.advance(TimeInterval(minted.tr50Expiry + Self.leeway - lake.now))
            #expect(try await Self.forwardAuth(lake, minted.tr50JWT) == nil)
            #expect(try await Self.tr50(lake, minted.tr50JWT) == nil)
            lake.clock.advance(1)
            #expect(try await Self.forwardAuth(lake, minted.tr50JWT) == "tr50_jwt_refused")
            #expect(try await Self.tr50(lake, minted.tr50JWT)?.hasPrefix("session JWT refused: token_expired:") == true)

            // The PAM JWT (two days): an authentication token is a record Tessera keeps, and its
            // expirationTime is exact, as seed 003's API defines it (like a PAT's expiry).
            lake.clock.advance(TimeInterval(minted.pamExpiry - 1 - lake.now))
            let renewed = try #require(
                try await Self.form(lake, "/oauth2/token", "grant_type=client_credentials", basic: minted.client).json["access_token"] as? String
            )
            #expect(try await Self.forwardAuth(lake, minted.pamJWT) == nil)
            #expect(try await Self.pamValidate(lake, minted, with: renewed))
            lake.clock.advance(1)
            #expect(try await Self.forwardAuth(lake, minted.pamJWT) == "AuthenticationTokenExpired")
            #expect(try await Self.pamValidate(lake, minted, with: renewed) == false)

            // Past verify_until the retired key is gone: from the JWKS, and from every check.
            lake.clock.advance(verifyUntil.timeIntervalSince1970 + 1 - TimeInterval(lake.now))
            let jwks = try await lake.request(.get, "/.well-known/jwks.json", basic: nil)
            let published = Set((jwks.json["keys"] as? [[String: Any]] ?? []).compactMap { $0["kid"] as? String })
            #expect(published == [newKid])
            #expect(try await Self.forwardAuth(lake, minted.accessToken) == "key_unknown")
            #expect(try await Self.pamAPI(lake, minted) == "key_unknown")
            #expect(try await Self.tr50(lake, minted.tr50JWT)?.hasPrefix("session JWT refused: key_unknown:") == true)
            #expect(try await Self.forwardAuth(lake, minted.pamJWT) == "AuthenticationTokenExpired")
        }
    }
}

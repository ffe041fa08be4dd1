import Foundation
import Testing
import TesseraCore

/// `AuthenticationTokenService` (the IDaaS PAM operations) as the composition root builds it, on
/// real stores (scratch SQLite) with a clock the test moves.
@Suite("PAM authentication token service (core, on SQLite)")
struct AuthenticationTokenServiceTests {
    static func provider(_ fixture: ServiceFixture) async throws -> CredentialProvider {
        try await fixture.services.authenticationTokens.createProvider(
            organizationID: fixture.organization.id, name: "backup", issuer: "https://issuer.test", issuerWhitelist: ["https://other.test"],
            defaultValidity: 3600, maximumValidity: 86_400
        )
    }

    static func request(
        subject: String = "alice", issuer: String? = nil, expiration: Int? = nil, customClaims: [String: JSONValue] = ["role": .string("reader")],
        audiences: [String] = ["svc"], shortToken: Bool = true
    ) -> GenerateRequest {
        GenerateRequest(
            credentialProviderIdentifier: "backup", issuer: issuer, subject: subject, audiences: audiences, customClaims: customClaims,
            expiration: expiration, includeDerivedShortToken: shortToken
        )
    }

    static func generate(_ fixture: ServiceFixture, _ request: GenerateRequest = request()) async throws -> OpenedAuthenticationToken {
        try await fixture.services.authenticationTokens.generate(organizationID: fixture.organization.id, creatorID: "app_1", request)
    }

    @Test("generateJwt mints a JWT with the provider's issuer, the subject, audiences, custom claims and jti = the token id, signed by the organization's key")
    func generate() async throws {
        try await ServiceFixture.with { fixture in
            _ = try await Self.provider(fixture)
            let opened = try await Self.generate(fixture)
            let record = opened.record
            #expect(record.id.hasPrefix("atntkn_"))
            #expect(record.consumerID == "alice")
            #expect(record.creatorID == "app_1")
            #expect(record.revoked == false)
            let now = fixture.clock.now().unixSeconds
            #expect(record.createTime == now * 1000)
            #expect(record.expirationTime == (now + 3600) * 1000)
            let jws = try CompactJWS(opened.jwt)
            let key = try await fixture.services.keyRing.activeKey(organizationID: fixture.organization.id)
            #expect(jws.header["kid"]?.stringValue == key.id)
            #expect(jws.header["typ"]?.stringValue == "JWT")
            #expect(jws.payload["iss"]?.stringValue == "https://issuer.test")
            #expect(jws.payload["sub"]?.stringValue == "alice")
            #expect(jws.payload["aud"] == .array([.string("svc")]))
            #expect(jws.payload["jti"]?.stringValue == record.id)
            #expect(jws.payload["role"]?.stringValue == "reader")
            #expect(jws.payload["exp"] == .number(Double(now + 3600), integer: now + 3600))
            let shortToken = try #require(opened.shortToken)
            #expect(shortToken.hasPrefix(CredentialKind.shortTokenPrefix))
            // Kept sealed (bound to the token id), never in clear.
            #expect(!String(decoding: record.sealedJWT, as: UTF8.self).contains(opened.jwt))
            let sealer = Sealer(masterKey: fixture.dataKey)
            #expect(try sealer.unseal(record.sealedJWT, context: record.id) == opened.jwt)
            #expect(try sealer.unseal(try #require(record.sealedShortToken), context: record.id + "/sk") == shortToken)
            #expect(await refusalCode { _ = try sealer.unseal(record.sealedJWT, context: "atntkn_other") } == "unseal_failed")
        }
    }

    @Test("generateJwt refuses an unknown provider, a reserved audience, a registered claim, an issuer off the whitelist, a validity above the maximum")
    func generateRefusals() async throws {
        try await ServiceFixture.with { fixture in
            _ = try await Self.provider(fixture)
            var unknown = Self.request()
            unknown.credentialProviderIdentifier = "nope"
            #expect(await refusalCode { _ = try await Self.generate(fixture, unknown) } == "CredentialProviderNotFound")
            #expect(await refusalCode { _ = try await Self.generate(fixture, Self.request(audiences: ["urn:cloud:idaas:x"])) } == "InvalidParameter.Audiences.Reserved")
            #expect(await refusalCode { _ = try await Self.generate(fixture, Self.request(customClaims: ["exp": .string("1")])) } == "InvalidParameter.CustomClaims")
            #expect(await refusalCode { _ = try await Self.generate(fixture, Self.request(issuer: "https://evil.test")) } == "InvalidParameter.Issuer")
            #expect(await refusalCode { _ = try await Self.generate(fixture, Self.request(expiration: 86_401)) } == "InvalidParameter.Expiration")
            let whitelisted = try await Self.generate(fixture, Self.request(issuer: "https://other.test", expiration: 86_400))
            #expect(try CompactJWS(whitelisted.jwt).payload["iss"]?.stringValue == "https://other.test")
        }
    }

    @Test("obtainJwt returns the same JWT and short token, to its consumer only, by id or by short token")
    func obtain() async throws {
        try await ServiceFixture.with { fixture in
            _ = try await Self.provider(fixture)
            let opened = try await Self.generate(fixture)
            let service = fixture.services.authenticationTokens
            let organizationID = fixture.organization.id
            let again = try await service.obtain(organizationID: organizationID, consumerID: "alice", tokenID: opened.record.id)
            #expect(again.jwt == opened.jwt)
            #expect(again.shortToken == opened.shortToken)
            let byShortToken = try await service.obtain(organizationID: organizationID, shortToken: try #require(opened.shortToken))
            #expect(byShortToken.jwt == opened.jwt)
            #expect(
                await refusalCode { _ = try await service.obtain(organizationID: organizationID, consumerID: "bob", tokenID: opened.record.id) }
                    == "AuthenticationTokenNotFound"
            )
            #expect(
                await refusalCode { _ = try await service.obtain(organizationID: UUID(), consumerID: "alice", tokenID: opened.record.id) }
                    == "AuthenticationTokenNotFound", "another organization's token is not found"
            )
        }
    }

    @Test("revoke and reinstate by the JWT, the short token or the consumer; isActive follows")
    func revokeAndReinstate() async throws {
        try await ServiceFixture.with { fixture in
            _ = try await Self.provider(fixture)
            let opened = try await Self.generate(fixture)
            let other = try await Self.generate(fixture)
            let service = fixture.services.authenticationTokens
            let organizationID = fixture.organization.id
            let shortToken = try #require(opened.shortToken)
            #expect(try await service.isActive(organizationID: organizationID, token: opened.jwt))
            #expect(try await service.isActive(organizationID: organizationID, token: shortToken))

            let revoked = try await service.setRevoked(organizationID: organizationID, token: opened.jwt, revoked: true)
            #expect(revoked.revoked)
            #expect(try await service.isActive(organizationID: organizationID, token: opened.jwt) == false)
            #expect(try await service.isActive(organizationID: organizationID, token: shortToken) == false)
            #expect(try await service.isActive(organizationID: organizationID, token: other.jwt), "only that token is revoked")
            #expect(
                await refusalCode { _ = try await service.obtain(organizationID: organizationID, consumerID: "alice", tokenID: opened.record.id) }
                    == "AuthenticationTokenRevoked"
            )
            #expect(await refusalCode { _ = try await service.liveToken(opened.jwt) } == "AuthenticationTokenRevoked")

            let reinstated = try await service.setRevoked(organizationID: organizationID, token: shortToken, revoked: false)
            #expect(reinstated.revoked == false)
            #expect(try await service.isActive(organizationID: organizationID, token: opened.jwt))
            #expect(try await service.liveToken(shortToken).record.id == opened.record.id)

            #expect(try await service.setRevoked(organizationID: organizationID, consumerID: "alice", revoked: true) == 2)
            #expect(try await service.isActive(organizationID: organizationID, token: other.jwt) == false)
        }
    }

    @Test("a token past its expirationTime by the clock is expired: obtainJwt refuses, isActive is false")
    func expiredByTheClock() async throws {
        try await ServiceFixture.with { fixture in
            _ = try await Self.provider(fixture)
            let opened = try await Self.generate(fixture, Self.request(expiration: 120))
            let service = fixture.services.authenticationTokens
            let organizationID = fixture.organization.id
            fixture.clock.advance(119)
            #expect(try await service.isActive(organizationID: organizationID, token: opened.jwt))
            fixture.clock.advance(1)
            #expect(try await service.isActive(organizationID: organizationID, token: opened.jwt) == false)
            #expect(try await service.isActive(organizationID: organizationID, token: try #require(opened.shortToken)) == false)
            #expect(
                await refusalCode { _ = try await service.obtain(organizationID: organizationID, consumerID: "alice", tokenID: opened.record.id) }
                    == "AuthenticationTokenExpired"
            )
        }
    }

    @Test("a tampered JWT (payload or signature changed, jti kept) or an unknown short token is AuthenticationTokenNotFound")
    func tampered() async throws {
        try await ServiceFixture.with { fixture in
            _ = try await Self.provider(fixture)
            let opened = try await Self.generate(fixture)
            let service = fixture.services.authenticationTokens
            let organizationID = fixture.organization.id
            let parts = opened.jwt.split(separator: ".").map(String.init)
            var claims = try CompactJWS(opened.jwt).payload
            claims["role"] = .string("admin")
            let payload = Base64URL.encode(Array(try JSONEncoder().encode(JSONValue.object(claims))))
            let rewritten = parts[0] + "." + payload + "." + parts[2]
            var signature = try #require(Base64URL.decodeStrict(parts[2]))
            signature[0] ^= 1
            let resigned = parts[0] + "." + parts[1] + "." + Base64URL.encode(signature)
            for forged in [rewritten, resigned] {
                #expect(await refusalCode { _ = try await service.setRevoked(organizationID: organizationID, token: forged, revoked: true) } == "AuthenticationTokenNotFound")
                #expect(await refusalCode { _ = try await service.liveToken(forged) } == "AuthenticationTokenNotFound")
                #expect(try await service.isActive(organizationID: organizationID, token: forged) == false)
            }
            let unknown = CredentialKind.shortTokenPrefix + "0000000000000000000000000000000"
            #expect(await refusalCode { _ = try await service.obtain(organizationID: organizationID, shortToken: unknown) } == "AuthenticationTokenNotFound")
            #expect(try await service.isActive(organizationID: organizationID, token: opened.jwt), "the genuine token is untouched")
        }
    }
}

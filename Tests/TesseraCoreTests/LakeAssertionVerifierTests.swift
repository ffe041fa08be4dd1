import Foundation
import Testing
import TesseraCore

/// `LakeAssertionVerifier` as the composition root builds it, on real stores (scratch SQLite) with
/// a clock the test moves: what it accepts, each refusal of the credential's state, and single
/// use, also against a second encoding of the same signature.
@Suite("Lake assertion verifier (core, on SQLite)")
struct LakeAssertionVerifierTests {
    /// A user's PAT and ES256 key, and a signer for its assertions.
    struct Credentials {
        let token: AccessToken
        let secret: String
        let key: PublicKeyRecord
        let signer: LakeAssertionSigner
    }

    static func credentials(_ fixture: ServiceFixture, keyName: String = "primary") async throws -> Credentials {
        let (token, secret) = try await fixture.services.accessTokens.create(for: fixture.user, name: "ci", environment: nil, expiresInDays: 1)
        let (key, privatePEM) = try await fixture.services.keys.generate(for: fixture.user, name: keyName, algorithm: .es256)
        return Credentials(token: token, secret: secret, key: key, signer: try await LakeAssertionSigner(privateKeyPEM: privatePEM, kid: keyName))
    }

    /// An assertion signed now, valid five minutes.
    static func assertion(_ fixture: ServiceFixture, _ credentials: Credentials, multiUse: Bool = false, signer: LakeAssertionSigner? = nil) async throws -> String {
        let now = fixture.clock.now().unixSeconds
        var claims = LakeAssertionClaims(subject: fixture.user.username, organization: "acme", pat: credentials.secret, issuedAt: now, expiresAt: now + 300)
        claims.multiUse = multiUse
        return try await (signer ?? credentials.signer).sign(claims)
    }

    @Test("an assertion signed with a registered key and a live PAT is accepted once and names its user, key and PAT")
    func accepted() async throws {
        try await ServiceFixture.with { fixture in
            let credentials = try await Self.credentials(fixture)
            let token = try await Self.assertion(fixture, credentials)
            let principal = try await fixture.services.lakeVerifier.verify(token, .request(client: nil))
            #expect(principal.organization == fixture.organization)
            #expect(principal.user == fixture.user)
            #expect(principal.key.id == credentials.key.id)
            #expect(principal.accessToken.id == credentials.token.id)
            #expect(principal.issuer == "wiki")
            #expect(principal.multiUse == false)
            #expect(principal.expiresAt == fixture.clock.now().addingTimeInterval(300))
            #expect(await refusalCode { _ = try await fixture.services.lakeVerifier.verify(token, .request(client: nil)) } == "token_replayed")
        }
    }

    @Test("a multi-use assertion is accepted until it expires (plus the leeway), by the clock")
    func multiUse() async throws {
        try await ServiceFixture.with { fixture in
            let credentials = try await Self.credentials(fixture)
            let token = try await Self.assertion(fixture, credentials, multiUse: true)
            for _ in 0..<3 { _ = try await fixture.services.lakeVerifier.verify(token, .request(client: nil)) }
            fixture.clock.advance(300 + 60)
            _ = try await fixture.services.lakeVerifier.verify(token, .request(client: nil))
            fixture.clock.advance(1)
            #expect(await refusalCode { _ = try await fixture.services.lakeVerifier.verify(token, .request(client: nil)) } == "token_expired")
        }
    }

    @Test("a revoked PAT is refused: pat_revoked")
    func revokedAccessToken() async throws {
        try await ServiceFixture.with { fixture in
            let credentials = try await Self.credentials(fixture)
            _ = try await fixture.services.accessTokens.revoke(id: credentials.token.id.uuidString, for: fixture.user)
            let token = try await Self.assertion(fixture, credentials)
            #expect(await refusalCode { _ = try await fixture.services.lakeVerifier.verify(token, .request(client: nil)) } == "pat_revoked")
        }
    }

    @Test("a rotated PAT's old secret works until the overlap ends, then is refused: pat_rotated")
    func rotatedAccessToken() async throws {
        try await ServiceFixture.with { fixture in
            var credentials = try await Self.credentials(fixture)
            let old = credentials
            let (_, secret) = try await fixture.services.accessTokens.rotate(id: credentials.token.id.uuidString, for: fixture.user, overlapHours: 1)
            credentials = Credentials(token: credentials.token, secret: secret, key: credentials.key, signer: credentials.signer)
            fixture.clock.advance(3_600 - 1)
            _ = try await fixture.services.lakeVerifier.verify(try await Self.assertion(fixture, old), .request(client: nil))
            fixture.clock.advance(1)
            let retired = try await Self.assertion(fixture, old)
            #expect(await refusalCode { _ = try await fixture.services.lakeVerifier.verify(retired, .request(client: nil)) } == "pat_rotated")
            _ = try await fixture.services.lakeVerifier.verify(try await Self.assertion(fixture, credentials), .request(client: nil))
        }
    }

    @Test("a PAT past its expiry by the clock is refused: pat_expired")
    func expiredAccessToken() async throws {
        try await ServiceFixture.with { fixture in
            let credentials = try await Self.credentials(fixture)
            fixture.clock.advance(86_400 - 1)
            _ = try await fixture.services.lakeVerifier.verify(try await Self.assertion(fixture, credentials), .request(client: nil))
            fixture.clock.advance(1)
            let token = try await Self.assertion(fixture, credentials)
            #expect(await refusalCode { _ = try await fixture.services.lakeVerifier.verify(token, .request(client: nil)) } == "pat_expired")
        }
    }

    @Test("a kid the user has no key for, or a deleted key, is refused: key_unknown")
    func unknownKey() async throws {
        try await ServiceFixture.with { fixture in
            let credentials = try await Self.credentials(fixture)
            let (privatePEM, _) = try await fixture.services.keys.makePair(algorithm: .es256)
            let stranger = try await LakeAssertionSigner(privateKeyPEM: privatePEM, kid: "secondary")
            let unnamed = try await Self.assertion(fixture, credentials, signer: stranger)
            #expect(await refusalCode { _ = try await fixture.services.lakeVerifier.verify(unnamed, .request(client: nil)) } == "key_unknown")
            let token = try await Self.assertion(fixture, credentials, multiUse: true)
            _ = try await fixture.services.lakeVerifier.verify(token, .request(client: nil))
            try await fixture.services.keys.delete(for: fixture.user, name: "primary")
            #expect(await refusalCode { _ = try await fixture.services.lakeVerifier.verify(token, .request(client: nil)) } == "key_unknown")
        }
    }

    @Test("a used single-use assertion is refused in its second ES256 encoding (r, n − s), which verifies: token_replayed")
    func secondEncodingReplayed() async throws {
        try await ServiceFixture.with { fixture in
            let credentials = try await Self.credentials(fixture)
            let token = try await Self.assertion(fixture, credentials)
            let twin = try ECDSAMalleation.negatedS(token)
            #expect(twin != token)
            _ = try await fixture.services.lakeVerifier.verify(token, .request(client: nil))
            #expect(await refusalCode { _ = try await fixture.services.lakeVerifier.verify(twin, .request(client: nil)) } == "token_replayed")

            // The other way round: the twin is a valid signature, accepted first, and then the
            // original is the replay.
            fixture.clock.advance(1)
            let fresh = try await Self.assertion(fixture, credentials)
            _ = try await fixture.services.lakeVerifier.verify(try ECDSAMalleation.negatedS(fresh), .request(client: nil))
            #expect(await refusalCode { _ = try await fixture.services.lakeVerifier.verify(fresh, .request(client: nil)) } == "token_replayed")
        }
    }

    @Test("consume: false (introspection) refuses a used token but leaves an unused one unused")
    func withoutConsuming() async throws {
        try await ServiceFixture.with { fixture in
            let credentials = try await Self.credentials(fixture)
            let token = try await Self.assertion(fixture, credentials)
            let looked = try await fixture.services.lakeVerifier.verify(token, .introspection)
            #expect(looked.user == fixture.user)
            _ = try await fixture.services.lakeVerifier.verify(token, .introspection)
            _ = try await fixture.services.lakeVerifier.verify(token, .request(client: nil))
            #expect(await refusalCode { _ = try await fixture.services.lakeVerifier.verify(token, .introspection) } == "token_replayed")
            #expect(
                await refusalCode { _ = try await fixture.services.lakeVerifier.verify(try ECDSAMalleation.negatedS(token), .introspection) }
                    == "token_replayed"
            )
        }
    }

    @Test("a single-use token an earlier version recorded (by the SHA-256 of its text) stays used, consumed or looked at")
    func recordedByAnEarlierVersion() async throws {
        try await ServiceFixture.with { fixture in
            let credentials = try await Self.credentials(fixture)
            let token = try await Self.assertion(fixture, credentials)
            #expect(try await fixture.services.stores.replay.recordFirstUse(fingerprint: sha256Hex(token), expiresAt: fixture.clock.now().addingTimeInterval(600)))
            #expect(await refusalCode { _ = try await fixture.services.lakeVerifier.verify(token, .introspection) } == "token_replayed")
            #expect(await refusalCode { _ = try await fixture.services.lakeVerifier.verify(token, .request(client: nil)) } == "token_replayed")
            // Another token of the same claims (ES256 signatures differ) is unaffected.
            let other = try await Self.assertion(fixture, credentials)
            #expect(other != token)
            _ = try await fixture.services.lakeVerifier.verify(other, .request(client: nil))
        }
    }
}

/// The second ECDSA encoding anyone can make without the key: `(r, s)` → `(r, n − s)` on P-256.
enum ECDSAMalleation {
    /// The order of P-256, big-endian.
    static let order: [UInt8] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
    ]

    /// `token` with its ES256 signature's `s` replaced by `n − s`.
    static func negatedS(_ token: String) throws -> String {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let signature = try #require(parts.count == 3 ? Base64URL.decodeStrict(parts[2]) : nil)
        try #require(signature.count == 64, "an ES256 signature is r || s, 32 bytes each")
        let s = Array(signature[32...])
        var negated = [UInt8](repeating: 0, count: 32)
        var borrow = 0
        for index in stride(from: 31, through: 0, by: -1) {
            var difference = Int(order[index]) - Int(s[index]) - borrow
            borrow = difference < 0 ? 1 : 0
            if difference < 0 { difference += 256 }
            negated[index] = UInt8(difference)
        }
        return parts[0] + "." + parts[1] + "." + Base64URL.encode(Array(signature[..<32]) + negated)
    }
}

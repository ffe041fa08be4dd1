import Foundation
import Testing
import TesseraCore

/// The server key ring on real stores: how long a retired key keeps verifying (the registered
/// token lifetimes, plus the leeway), and its private keys sealed under the data key.
@Suite("Server key ring (core, on SQLite)")
struct ServerKeyRingTests {
    /// The retired key's `verifyUntil`, minus the rotation time, after a rotation now.
    static func retiredFor(_ keyRing: ServerKeyRing, _ fixture: ServiceFixture, leeway: TimeInterval = 60) async throws -> TimeInterval? {
        let current = try await keyRing.activeKey(organizationID: fixture.organization.id)
        try await keyRing.rotate(organizationID: fixture.organization.id, leeway: leeway)
        let retired = try await keyRing.keys(organizationID: fixture.organization.id).first { $0.id == current.id }
        return retired?.verifyUntil?.timeIntervalSince(fixture.clock.now())
    }

    @Test("as composed: the longest of access tokens, TR50 session JWTs (a day) and the providers' longest PAM validity, plus the leeway")
    func composedLifetimes() async throws {
        try await ServiceFixture.with { (fixture: ServiceFixture) async throws in
            let keyRing = fixture.services.keyRing
            #expect(try await Self.retiredFor(keyRing, fixture) == 86_400 + 60, "a TR50 session JWT lives up to a day")
            _ = try await fixture.services.authenticationTokens.createProvider(
                organizationID: fixture.organization.id, name: "weekly", issuer: "https://issuer.test", issuerWhitelist: [], defaultValidity: 3600,
                maximumValidity: 7 * 86_400
            )
            #expect(try await Self.retiredFor(keyRing, fixture, leeway: 5) == 7 * 86_400 + 5, "a PAM JWT of that provider lives a week")
        }
        var settings = ServiceFixture.settings
        settings.accessTokenLifetime = 2 * 86_400
        try await ServiceFixture.with(settings: settings) { (fixture: ServiceFixture) async throws in
            #expect(try await Self.retiredFor(fixture.services.keyRing, fixture) == 2 * 86_400 + 60, "access tokens live two days")
        }
    }

    @Test("a key ring is told its lifetimes: the longest registered source, zero without any")
    func registeredLifetimes() async throws {
        try await ServiceFixture.with { (fixture: ServiceFixture) async throws in
            let sealer = Sealer(masterKey: fixture.dataKey)
            let store = fixture.services.stores.serverKeys
            let sources: [TokenLifetimeSource] = [.fixed("short", 100), TokenLifetimeSource("per organization") { _ in 250 }, .fixed("shorter", 10)]
            let keyRing = ServerKeyRing(store: store, sealer: sealer, clock: fixture.clock, tokenLifetimes: sources)
            #expect(try await Self.retiredFor(keyRing, fixture) == 250 + 60)
            let bare = ServerKeyRing(store: store, sealer: sealer, clock: fixture.clock, tokenLifetimes: [])
            #expect(try await Self.retiredFor(bare, fixture, leeway: 0) == 0)
        }
    }

    @Test("signing keys are sealed under the data key: another data key cannot open them (signing_key_unsealable)")
    func sealedUnderTheDataKey() async throws {
        try await ServiceFixture.with { (fixture: ServiceFixture) async throws in
            try await fixture.services.keyRing.checkSigningKey(organizationID: fixture.organization.id)
            let key = try await fixture.services.keyRing.activeKey(organizationID: fixture.organization.id)
            #expect(!String(decoding: key.sealedPrivateKey, as: UTF8.self).contains("PRIVATE KEY"))
            let other = Sealer(masterKey: try MasterKey(bytes: MasterKey.generate()))
            let stranger = ServerKeyRing(store: fixture.services.stores.serverKeys, sealer: other, clock: fixture.clock, tokenLifetimes: [])
            #expect(await refusalCode { try await stranger.checkSigningKey(organizationID: fixture.organization.id) } == "signing_key_unsealable")
            #expect(await refusalCode { _ = try other.unseal(key.sealedPrivateKey, context: key.id) } == "unseal_failed")
            let sealer = Sealer(masterKey: fixture.dataKey)
            #expect(try sealer.unseal(key.sealedPrivateKey, context: key.id).contains("PRIVATE KEY"), "sealed with the kid as context")
            let resealed = try sealer.seal("secret", context: "ctx")
            #expect(resealed != (try sealer.seal("secret", context: "ctx")), "a fresh nonce each time")
        }
    }
}

import Foundation
import Logging
import Testing
import TesseraCore
import TesseraStorage

/// Lake credentials: PATs (`AccessTokenStore`), public keys and the signing key lookup
/// (`PublicKeyStore`), also behind the credential cache, and their change notifications.
extension StorageConformanceTests {
    @Test("the signing key lookup finds (org by domain or id, user, key name) and nothing else", arguments: StoresUnderTest.all)
    func signingKeyLookup(_ under: StoresUnderTest) async throws {
        try await ScratchDatabase.withStorage(under.kind) { storage, _ in
            let stores = under.stores(on: storage)
            let (organization, user) = try await Self.seed(stores)
            let key = PublicKeyRecord(userID: user.id, name: "primary", algorithm: .edDSA, publicKeyPEM: "pem", fingerprint: "f", origin: .uploaded, createdAt: Self.now)
            try await stores.keys.insert(key)
            let byDomain = try await stores.keys.signingKey(organization: "acme", username: "wile", keyName: "primary")
            #expect(byDomain?.key == key)
            #expect(byDomain?.user == user)
            #expect(byDomain?.organization == organization)
            let byID = try await stores.keys.signingKey(organization: organization.id.uuidString.lowercased(), username: "wile", keyName: "primary")
            #expect(byID?.key == key)
            #expect(try await stores.keys.signingKey(organization: "other", username: "wile", keyName: "primary") == nil)
            #expect(try await stores.keys.signingKey(organization: "acme", username: "wile", keyName: "secondary") == nil)
            try await stores.keys.touch(id: key.id, at: Self.now.addingTimeInterval(5))
            #expect(try await stores.keys.key(userID: user.id, name: "primary")?.lastUsedAt == Self.now.addingTimeInterval(5))
            let touched = try await stores.keys.signingKey(organization: "acme", username: "wile", keyName: "primary")
            #expect(touched?.key.lastUsedAt == Self.now.addingTimeInterval(5), "the lookup sees the last use it was told of")
            #expect(try await stores.keys.delete(userID: user.id, name: "primary"))
            #expect(try await stores.keys.delete(userID: user.id, name: "primary") == false)
            #expect(try await stores.keys.signingKey(organization: "acme", username: "wile", keyName: "primary") == nil)
        }
    }

    @Test("PATs: lookup by hash, revocation keeps the first time, only the owner revokes, last use", arguments: StoresUnderTest.all)
    func accessTokens(_ under: StoresUnderTest) async throws {
        try await ScratchDatabase.withStorage(under.kind) { storage, _ in
            let stores = under.stores(on: storage)
            let (_, user) = try await Self.seed(stores)
            let token = AccessToken(userID: user.id, name: "ci", environment: "prod", secretHash: "abc", createdAt: Self.now, expiresAt: Self.now.addingTimeInterval(86_400))
            try await stores.accessTokens.insert(token)
            #expect(try await stores.accessTokens.accessToken(secretHash: "abc") == token)
            #expect(try await stores.accessTokens.accessTokens(userID: user.id) == [token])
            #expect(try await stores.accessTokens.revoke(id: token.id, userID: UUID(), at: Self.now) == nil)
            try await stores.accessTokens.touch(id: token.id, at: Self.now.addingTimeInterval(3))
            #expect(try await stores.accessTokens.accessToken(secretHash: "abc")?.lastUsedAt == Self.now.addingTimeInterval(3))
            let revoked = try await stores.accessTokens.revoke(id: token.id, userID: user.id, at: Self.now.addingTimeInterval(10))
            #expect(revoked?.revokedAt == Self.now.addingTimeInterval(10))
            #expect(revoked?.lastUsedAt == Self.now.addingTimeInterval(3))
            let again = try await stores.accessTokens.revoke(id: token.id, userID: user.id, at: Self.now.addingTimeInterval(99))
            #expect(again?.revokedAt == Self.now.addingTimeInterval(10))
            #expect(try await stores.accessTokens.accessToken(secretHash: "abc")?.revokedAt == Self.now.addingTimeInterval(10), "a revocation is read at once")
        }
    }

    @Test("PAT policies: a new maximum shortens only that organization's longer PATs, in one change; networks round-trip", arguments: StoresUnderTest.all)
    func patPolicies(_ under: StoresUnderTest) async throws {
        try await ScratchDatabase.withStorage(under.kind) { storage, _ in
            let stores = under.stores(on: storage)
            let (organization, user) = try await Self.seed(stores)
            let other = Organization(domainName: "other", name: "Other", createdAt: Self.now)
            let stranger = User(organizationID: other.id, username: "road", passwordHash: "$2b$04$hash", isAdmin: true, createdAt: Self.now)
            try await stores.directory.createOrganization(other, admin: stranger)
            let day: TimeInterval = 86_400
            let networks = try ClientNetwork.list(["10.0.0.0/8", "2001:db8::/32"])
            // Made 100 days ago for a year; made today for 10 days; the other organization's year.
            let old = AccessToken(userID: user.id, name: "old", environment: nil, secretHash: "old", createdAt: Self.now - 100 * day,
                                  expiresAt: Self.now + 265 * day, allowedNetworks: networks)
            let fresh = AccessToken(userID: user.id, name: "fresh", environment: nil, secretHash: "fresh", createdAt: Self.now, expiresAt: Self.now + 10 * day)
            let theirs = AccessToken(userID: stranger.id, name: "theirs", environment: nil, secretHash: "theirs", createdAt: Self.now - 100 * day,
                                     expiresAt: Self.now + 265 * day)
            for token in [old, fresh, theirs] { try await stores.accessTokens.insert(token) }
            #expect(try await stores.accessTokens.accessToken(secretHash: "old")?.allowedNetworks == networks)
            _ = try await stores.accessTokens.accessToken(secretHash: "theirs")  // cached, where a cache is under test

            #expect(try await stores.accessTokens.policy(organizationID: organization.id) == .unrestricted)
            let shortened = try await stores.accessTokens.setPolicy(PATPolicy(maximumLifetimeDays: 30, expiryRequired: true), organizationID: organization.id, at: Self.now)
            #expect(shortened == 1)
            #expect(try await stores.accessTokens.policy(organizationID: organization.id) == PATPolicy(maximumLifetimeDays: 30, expiryRequired: true))
            #expect(try await stores.accessTokens.policy(organizationID: other.id) == .unrestricted)
            let read = try #require(try await stores.accessTokens.accessToken(secretHash: "old"))
            #expect(read.expiresAt == Self.now - 70 * day, "30 days after its creation: already expired")
            #expect(read.status(at: Self.now) == "expired")
            #expect(try await stores.accessTokens.accessToken(secretHash: "fresh")?.expiresAt == fresh.expiresAt)
            #expect(try await stores.accessTokens.accessToken(secretHash: "theirs")?.expiresAt == theirs.expiresAt, "another organization's PAT is untouched")

            // Replacing the policy: without a maximum nothing is shortened (or lengthened back).
            #expect(try await stores.accessTokens.setPolicy(.unrestricted, organizationID: organization.id, at: Self.now) == 0)
            #expect(try await stores.accessTokens.policy(organizationID: organization.id) == .unrestricted)
            #expect(try await stores.accessTokens.accessToken(secretHash: "old")?.expiresAt == Self.now - 70 * day)
        }
    }

    @Test("credential changes reach every process on the database (PostgreSQL); SQLite has no channel", arguments: DatabaseKind.underTest)
    func changeNotifications(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, reference in
            guard kind == .postgres else {
                #expect(storage.backend.credentialChanges() == nil)
                return
            }
            let other = try await SQLStorage.open(reference, logger: Logger(label: "test"))
            let recorder = StreamRecorder<CredentialChange>()
            let listening = await Result {
                let changes = try #require(other.backend.credentialChanges())
                let consumer = recorder.record(changes)
                defer { consumer.cancel() }
                #expect(
                    try await recorder.element(0, waitingFor: "the listener's first notice") == .unknown,
                    "the listener starts by dropping whatever it may have missed"
                )
                let (_, user) = try await Self.seed(storage.stores)
                let token = AccessToken(
                    userID: user.id, name: "ci", environment: nil, secretHash: "h", createdAt: Self.now, expiresAt: Self.now.addingTimeInterval(60)
                )
                try await storage.stores.accessTokens.insert(token)
                _ = try await storage.stores.accessTokens.revoke(id: token.id, userID: user.id, at: Self.now)
                #expect(try await recorder.element(1, waitingFor: "the PAT revocation's notification") == .accessToken(id: token.id))
                let key = PublicKeyRecord(
                    userID: user.id, name: "k", algorithm: .es256, publicKeyPEM: "pem", fingerprint: "f", origin: .uploaded, createdAt: Self.now
                )
                try await storage.stores.keys.insert(key)
                _ = try await storage.stores.keys.delete(userID: user.id, name: "k")
                #expect(try await recorder.element(2, waitingFor: "the key deletion's notification") == .publicKey(id: key.id))
            }
            try await other.close()
            try listening.get()
        }
    }
}

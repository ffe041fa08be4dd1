import Foundation
import Logging
import Synchronization
import Testing
import TesseraCore
import TesseraStorage

/// The per-process credential cache over the SQL stores (`CredentialCache`, Credentials/CredentialCache.swift):
/// what it serves, and what makes it drop an entry changed by another process. (Changes made
/// through the cached stores themselves: the Lake tests run behind it, `StoresUnderTest`.)
extension StorageConformanceTests {
    /// A PAT and a key of the seeded user, written through `stores`.
    static func seedCredentials(_ stores: Stores) async throws -> (AccessToken, PublicKeyRecord) {
        let (_, user) = try await seed(stores)
        let token = AccessToken(
            userID: user.id, name: "ci", environment: nil, secretHash: "pat-hash", createdAt: now, expiresAt: now.addingTimeInterval(86_400)
        )
        let key = PublicKeyRecord(userID: user.id, name: "primary", algorithm: .es256, publicKeyPEM: "pem", fingerprint: "f", origin: .uploaded, createdAt: now)
        try await stores.accessTokens.insert(token)
        try await stores.keys.insert(key)
        return (token, key)
    }

    /// Opens a second process's view of the same database (no cache), runs `body`, closes it.
    static func withOtherProcess(_ reference: String, _ body: (SQLStorage) async throws -> Void) async throws {
        let other = try await SQLStorage.open(reference, logger: Logger(label: "test"))
        let outcome = await Result { try await body(other) }
        try await other.close()
        try outcome.get()
    }

    @Test("another process's revocation and key deletion are served from the cache until invalidated, by id or all at once", arguments: DatabaseKind.underTest)
    func cacheInvalidation(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, reference in
            let cache = CredentialCache(lifetime: .seconds(3600))
            let cached = cache.wrap(storage.stores)
            let (token, key) = try await Self.seedCredentials(cached)
            let lookup = { try await cached.keys.signingKey(organization: "acme", username: "wile", keyName: "primary") }
            #expect(try await cached.accessTokens.accessToken(secretHash: "pat-hash")?.revokedAt == nil)
            #expect(try await lookup()?.key == key)
            try await Self.withOtherProcess(reference) { (other: SQLStorage) async throws in
                #expect(try await other.stores.accessTokens.revoke(id: token.id, userID: token.userID, at: Self.now) != nil)
                #expect(try await other.stores.keys.delete(userID: key.userID, name: "primary"))
            }
            // Without a notice, the lifetime is the bound: the cache still serves what it read.
            #expect(try await cached.accessTokens.accessToken(secretHash: "pat-hash")?.revokedAt == nil, "the cache serves the PAT it read")
            #expect(try await lookup()?.key == key, "the cache serves the key it read")
            cache.invalidate(.accessToken(id: token.id))
            #expect(try await cached.accessTokens.accessToken(secretHash: "pat-hash")?.revokedAt == Self.now)
            #expect(try await lookup()?.key == key, "a PAT's notice drops no key")
            cache.invalidate(.publicKey(id: key.id))
            #expect(try await lookup() == nil)

            let second = AccessToken(
                userID: token.userID, name: "ci-2", environment: nil, secretHash: "second-hash", createdAt: Self.now,
                expiresAt: Self.now.addingTimeInterval(86_400)
            )
            try await cached.accessTokens.insert(second)
            #expect(try await cached.accessTokens.accessToken(secretHash: "second-hash")?.revokedAt == nil)
            try await Self.withOtherProcess(reference) { (other: SQLStorage) async throws in
                #expect(try await other.stores.accessTokens.revoke(id: second.id, userID: second.userID, at: Self.now) != nil)
            }
            cache.invalidate(.unknown)
            #expect(try await cached.accessTokens.accessToken(secretHash: "second-hash")?.revokedAt == Self.now, "an unknown change drops everything")
        }
    }

    @Test("an entry lives at most the cache's lifetime; a zero lifetime caches nothing", arguments: DatabaseKind.underTest)
    func cacheLifetime(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, reference in
            let shortLived = storage.stores.caching(lifetime: .milliseconds(200))
            let uncached = storage.stores.caching(lifetime: .zero)
            let (token, _) = try await Self.seedCredentials(storage.stores)
            #expect(try await shortLived.accessTokens.accessToken(secretHash: "pat-hash")?.revokedAt == nil)
            #expect(try await uncached.accessTokens.accessToken(secretHash: "pat-hash")?.revokedAt == nil)
            try await Self.withOtherProcess(reference) { (other: SQLStorage) async throws in
                #expect(try await other.stores.accessTokens.revoke(id: token.id, userID: token.userID, at: Self.now) != nil)
            }
            #expect(try await uncached.accessTokens.accessToken(secretHash: "pat-hash")?.revokedAt == Self.now)
            try await Task.sleep(for: .milliseconds(400))
            #expect(try await shortLived.accessTokens.accessToken(secretHash: "pat-hash")?.revokedAt == Self.now, "the entry outlived its lifetime")
        }
    }

    @Test("on PostgreSQL another process's revocation and key deletion reach the cache by notification, as the server wires it", arguments: DatabaseKind.underTest)
    func cacheNotifications(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, reference in
            guard let changes = storage.backend.credentialChanges() else {
                #expect(kind == .sqlite, "only SQLite, a single process's database, has no change channel")
                return
            }
            let cache = CredentialCache(lifetime: .seconds(3600))
            let notices = Mutex(0)
            let feeding = Task {
                for await change in changes {
                    cache.invalidate(change)
                    notices.withLock { $0 += 1 }
                }
            }
            defer { feeding.cancel() }
            // The listener's first notice (`.unknown`) says it is listening.
            try await Self.eventually("the listener's first notice") { notices.withLock { $0 } >= 1 }
            let cached = cache.wrap(storage.stores)
            let (token, key) = try await Self.seedCredentials(cached)
            #expect(try await cached.accessTokens.accessToken(secretHash: "pat-hash")?.revokedAt == nil)
            #expect(try await cached.keys.signingKey(organization: "acme", username: "wile", keyName: "primary")?.key == key)
            try await Self.withOtherProcess(reference) { (other: SQLStorage) async throws in
                #expect(try await other.stores.accessTokens.revoke(id: token.id, userID: token.userID, at: Self.now) != nil)
                #expect(try await other.stores.keys.delete(userID: key.userID, name: "primary"))
            }
            try await Self.eventually("the PAT revocation's notice reaches the cache") {
                try await cached.accessTokens.accessToken(secretHash: "pat-hash")?.revokedAt == Self.now
            }
            try await Self.eventually("the key deletion's notice reaches the cache") {
                try await cached.keys.signingKey(organization: "acme", username: "wile", keyName: "primary") == nil
            }
        }
    }

    @Test("every verification (and client authentication) read is served from the cache and dropped by a change through the cached stores at once, by another process's announced change (PostgreSQL: its notification) otherwise",
          arguments: DatabaseKind.underTest)
    func cachedVerificationReads(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, reference in
            let cache = CredentialCache(lifetime: .seconds(3600))
            let cached = cache.wrap(storage.stores)
            let changes = storage.backend.credentialChanges()
            let hasChannel = changes != nil
            let received = ReceivedChanges()
            let feeding = changes.map { changes in
                Task {
                    for await change in changes {
                        cache.invalidate(change)
                        received.append(change)
                    }
                }
            }
            defer { feeding?.cancel() }
            if hasChannel { try await Self.eventually("the listener's first notice") { !received.all.isEmpty } }

            /// Another process writes; the cache serves what it read until the change that
            /// process announced reaches it (PostgreSQL: by notification, which must name exactly
            /// `change`; SQLite has no channel: applied here, as the lifetime would).
            func elsewhere(_ change: CredentialChange, _ write: (Stores) async throws -> Void, seen: () async throws -> Bool) async throws {
                // A notice of the same change that arrived before (this process's own) does not count.
                let earlier = received.all.filter { $0 == change }.count
                try await Self.withOtherProcess(reference) { (other: SQLStorage) async throws in try await write(other.stores) }
                if !hasChannel {
                    #expect(try await !seen(), "without a notice the cache serves what it read (\(change))")
                    cache.invalidate(change)
                } else {
                    try await Self.eventually("the notice \(change)") { received.all.filter { $0 == change }.count > earlier }
                }
                #expect(try await seen(), "after \(change) the cache reads again")
            }

            let (organization, user) = try await Self.seed(cached)

            // Organizations: found ones are cached, a missing one is read again.
            #expect(try await cached.directory.organization(id: organization.id) == organization)
            #expect(try await cached.directory.organization(domainName: "acme") == organization)
            #expect(try await cached.directory.organization(domainName: "road-runner") == nil)
            let other = Organization(domainName: "road-runner", name: "Road Runner", regions: ["us-west-2"], createdAt: Self.now)
            try await Self.withOtherProcess(reference) { (process: SQLStorage) async throws in
                try await process.stores.directory.createOrganization(other, admin: nil)
            }
            #expect(try await cached.directory.organization(domainName: "road-runner") == other, "an absent organization is not cached")

            // Server signing keys, by kid: a rotation retires the organization's current key.
            func serverKey(_ name: String) -> ServerSigningKey {
                ServerSigningKey(id: name, organizationID: organization.id, algorithm: .es256, publicKeyPEM: "pem", sealedPrivateKey: [1], createdAt: Self.now)
            }
            try await cached.serverKeys.rotate(to: serverKey("tsk_1"), retireAt: Self.now, verifyUntil: Self.now)
            if hasChannel {
                // This process's own notice of that rotation, before the other process's.
                try await Self.eventually("our own notice") { received.all.contains(.serverKeys(organizationID: organization.id)) }
            }
            #expect(try await cached.serverKeys.key(id: "tsk_1")?.retiredAt == nil)
            try await elsewhere(.serverKeys(organizationID: organization.id)) { (stores: Stores) async throws in
                try await stores.serverKeys.rotate(to: serverKey("tsk_2"), retireAt: Self.now, verifyUntil: Self.now.addingTimeInterval(60))
            } seen: {
                try await cached.serverKeys.key(id: "tsk_1")?.retiredAt == Self.now
            }
            #expect(try await cached.serverKeys.key(id: "tsk_2")?.retiredAt == nil)
            try await cached.serverKeys.rotate(to: serverKey("tsk_3"), retireAt: Self.now, verifyUntil: Self.now)
            #expect(try await cached.serverKeys.key(id: "tsk_2")?.verifyUntil == Self.now, "a rotation here drops the cached key at once")

            // Revocation marks: absent ones are cached too; single-use records never are.
            let first = RevocationMark.accessToken("jti-1")
            #expect(try await cached.replay.contains(fingerprint: first) == false)
            try await elsewhere(.revocationMark(first)) { (stores: Stores) async throws in
                #expect(try await stores.replay.recordFirstUse(fingerprint: first, expiresAt: Self.now.addingTimeInterval(60)))
            } seen: {
                try await cached.replay.contains(fingerprint: first)
            }
            let second = RevocationMark.accessToken("jti-2")
            #expect(try await cached.replay.contains(fingerprint: second) == false)
            #expect(try await cached.replay.recordFirstUse(fingerprint: second, expiresAt: Self.now.addingTimeInterval(60)))
            #expect(try await cached.replay.contains(fingerprint: second), "a revocation here is seen at once")
            #expect(try await cached.replay.contains(fingerprint: "single-use") == false)
            try await Self.withOtherProcess(reference) { (process: SQLStorage) async throws in
                #expect(try await process.stores.replay.recordFirstUse(fingerprint: "single-use", expiresAt: Self.now.addingTimeInterval(60)))
            }
            #expect(try await cached.replay.contains(fingerprint: "single-use"), "a single-use record is never served from the cache")
            // A mark forgotten (a disabled user enabled again) is announced like a recorded one.
            try await elsewhere(.revocationMark(first)) { (stores: Stores) async throws in
                try await stores.replay.forgetMark(first)
            } seen: {
                try await !cached.replay.contains(fingerprint: first)
            }
            try await cached.replay.forgetMark(second)
            #expect(try await cached.replay.contains(fingerprint: second) == false, "a mark forgotten here is seen at once")

            // Users: the signing-key lookup carries its user, so disabling them drops it.
            let key = PublicKeyRecord(userID: user.id, name: "laptop", algorithm: .es256, publicKeyPEM: "pem", fingerprint: "f", origin: .uploaded, createdAt: Self.now)
            try await cached.keys.insert(key)
            let lookedUp = { try await cached.keys.signingKey(organization: "acme", username: user.username, keyName: "laptop")?.user.disabledAt }
            #expect(try await lookedUp() == nil)
            try await elsewhere(.user(id: user.id)) { (stores: Stores) async throws in
                #expect(try await stores.directory.setDisabled(userID: user.id, at: Self.now))
            } seen: {
                try await lookedUp() == Self.now
            }
            #expect(try await cached.directory.setDisabled(userID: user.id, at: nil))
            #expect(try await lookedUp() == nil, "enabling here is seen at once")
            #expect(try await cached.directory.user(id: user.id)?.disabledAt == nil)
            #expect(try await cached.directory.setDisabled(userID: UUID(), at: Self.now) == false, "no such user")

            // PAM authentication tokens, by id and by short-token hash.
            try await cached.pam.insert(
                CredentialProvider(
                    id: "atp_1", organizationID: organization.id, name: "backup", issuer: "https://issuer", issuerWhitelist: [],
                    defaultValidity: 3600, maximumValidity: 86_400, createdAt: Self.now
                )
            )
            try await cached.pam.insert(
                AuthenticationToken(
                    id: "atntkn_1", organizationID: organization.id, credentialProviderID: "atp_1", creatorType: "app", creatorID: "app_1",
                    consumerType: "user", consumerID: "alice", sealedJWT: [1], shortTokenHash: "short-hash", sealedShortToken: [2], revoked: false,
                    createTime: 1_000, updateTime: 1_000, expirationTime: 5_000
                )
            )
            let byID = { try await cached.pam.token(id: "atntkn_1", organizationID: nil)?.revoked }
            let byHash = { try await cached.pam.token(shortTokenHash: "short-hash", organizationID: organization.id)?.revoked }
            #expect(try await byID() == false)
            #expect(try await byHash() == false)
            try await elsewhere(.authenticationTokens(organizationID: organization.id)) { (stores: Stores) async throws in
                #expect(try await stores.pam.setRevoked(id: "atntkn_1", organizationID: organization.id, revoked: true, at: 2_000) != nil)
            } seen: {
                let (revokedByID, revokedByHash) = (try await byID(), try await byHash())
                return revokedByID == true && revokedByHash == true
            }
            #expect(try await cached.pam.setRevoked(consumerID: "alice", organizationID: organization.id, revoked: false, at: 3_000) == 1)
            #expect(try await byID() == false, "a change here is seen at once")
            #expect(try await byHash() == false)

            // TR50 roles a session JWT names.
            let role = Role(organizationID: organization.id, key: "operator", commands: ["thing.*"], viewTags: [], updateTags: [])
            #expect(try await cached.tr50.upsertRole(role, create: true))
            #expect(try await cached.tr50.role(key: "operator", organizationID: organization.id) == role)
            try await elsewhere(.tr50Role(organizationID: organization.id, key: "operator")) { (stores: Stores) async throws in
                #expect(try await stores.tr50.deleteRole(key: "operator", organizationID: organization.id))
            } seen: {
                try await cached.tr50.role(key: "operator", organizationID: organization.id) == nil
            }
            #expect(try await cached.tr50.upsertRole(role, create: true))
            #expect(try await cached.tr50.role(key: "operator", organizationID: organization.id) == role)
            var narrowed = role
            narrowed.commands = ["thing.find"]
            #expect(try await cached.tr50.upsertRole(narrowed, create: false))
            #expect(try await cached.tr50.role(key: "operator", organizationID: organization.id) == narrowed, "a change here is seen at once")
            #expect(try await cached.tr50.deleteRole(key: "operator", organizationID: organization.id))
            #expect(try await cached.tr50.role(key: "operator", organizationID: organization.id) == nil)

            // OAuth applications clients authenticate as.
            func application(_ id: String) -> ClientApplication {
                ClientApplication(
                    id: id, organizationID: organization.id, name: id, secretHash: "hash", allowedScopes: ["pam"], publicKeyPEM: nil,
                    keyAlgorithm: nil, createdAt: Self.now
                )
            }
            try await cached.applications.insert(application("app_1"))
            try await cached.applications.insert(application("app_2"))
            #expect(try await cached.applications.application(id: "app_1") == application("app_1"))
            try await elsewhere(.application(id: "app_1")) { (stores: Stores) async throws in
                #expect(try await stores.applications.delete(id: "app_1", organizationID: organization.id))
            } seen: {
                try await cached.applications.application(id: "app_1") == nil
            }
            #expect(try await cached.applications.application(id: "app_2") == application("app_2"))
            // A rotation elsewhere: the current secret becomes the previous one, until the overlap ends.
            let overlapEnds = Self.now.addingTimeInterval(3600)
            try await elsewhere(.application(id: "app_2")) { (stores: Stores) async throws in
                let rotated = try await stores.applications.rotateSecret(id: "app_2", organizationID: organization.id, secretHash: "hash-2", previousExpiresAt: overlapEnds)
                #expect(rotated?.secretHash == "hash-2" && rotated?.previousSecretHash == "hash" && rotated?.previousSecretExpiresAt == overlapEnds)
            } seen: {
                try await cached.applications.application(id: "app_2")?.secretHash == "hash-2"
            }
            // Without an overlap the replaced secret is not kept, and a rotation here is seen at once.
            let again = try await cached.applications.rotateSecret(id: "app_2", organizationID: organization.id, secretHash: "hash-3", previousExpiresAt: nil)
            #expect(again?.previousSecretHash == nil && again?.previousSecretExpiresAt == nil)
            #expect(try await cached.applications.application(id: "app_2")?.secretHash == "hash-3")
            #expect(try await cached.applications.rotateSecret(id: "app_2", organizationID: UUID(), secretHash: "x", previousExpiresAt: nil) == nil,
                    "another organization's application is not rotated")
            #expect(try await cached.applications.delete(id: "app_2", organizationID: organization.id))
            #expect(try await cached.applications.application(id: "app_2") == nil, "a deletion here is seen at once")
        }
    }

    /// Waits until `condition` holds, checking every 50 ms; fails after a generous `timeout`.
    static func eventually(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out after \(timeout) waiting for: \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// The changes a test's listener received, in order.
final class ReceivedChanges: Sendable {
    private let changes = Mutex<[CredentialChange]>([])
    var all: [CredentialChange] { changes.withLock { $0 } }
    func append(_ change: CredentialChange) { changes.withLock { $0.append(change) } }
}

import Foundation
import Logging
import Synchronization
import Testing
import TesseraCore
import TesseraStorage

/// The per-process credential cache over the SQL stores (`CredentialCache`, Lake/CredentialCache.swift):
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

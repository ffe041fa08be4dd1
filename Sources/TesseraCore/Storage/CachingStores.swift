import Foundation
import Synchronization

/// A small time-bounded map: entries live `lifetime` (monotonic time), the whole map is dropped
/// when it reaches `capacity`. Every removal bumps a generation; a value read from the database
/// is stored only if no removal happened since the read began, so a read that raced with a
/// revocation can never put the old record back.
final class ExpiringCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct State {
        var entries: [Key: (value: Value, storedAt: ContinuousClock.Instant)] = [:]
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())
    private let lifetime: Duration
    private let capacity: Int

    init(lifetime: Duration, capacity: Int = 50_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// The cached value, or nil with the generation to pass to `store` after reading it.
    func lookup(_ key: Key) -> (value: Value?, generation: UInt64) {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let entry = state.entries[key] else { return (nil, state.generation) }
            guard now - entry.storedAt < lifetime else {
                state.entries.removeValue(forKey: key)
                return (nil, state.generation)
            }
            return (entry.value, state.generation)
        }
    }

    func store(_ value: Value, for key: Key, readAt generation: UInt64) {
        let now = ContinuousClock.now
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[key] = (value, now)
        }
    }

    func removeAll(where shouldRemove: (Key, Value) -> Bool) {
        state.withLock { state in
            state.generation &+= 1
            state.entries = state.entries.filter { !shouldRemove($0.key, $0.value.value) }
        }
    }
}

extension Stores {
    /// These stores with the reads on the verification path (signing key, PAT by hash) cached
    /// for `lifetime`. Writes made through the returned stores update or drop the cached
    /// entries at once, so in one process a revocation or deletion takes effect on the next
    /// request; another process sharing the database sees it within `lifetime`.
    public func caching(lifetime: Duration) -> Stores {
        guard lifetime > .zero else { return self }
        return Stores(
            directory: directory,
            accessTokens: CachingAccessTokenStore(base: accessTokens, cache: ExpiringCache(lifetime: lifetime)),
            keys: CachingPublicKeyStore(base: keys, cache: ExpiringCache(lifetime: lifetime)),
            replay: replay,
            serverKeys: serverKeys,
            applications: applications,
            pam: pam,
            audit: audit,
            tr50: tr50
        )
    }
}

/// Caches `accessToken(secretHash:)`; revocation and use update the cache.
struct CachingAccessTokenStore: AccessTokenStore {
    let base: any AccessTokenStore
    let cache: ExpiringCache<String, AccessToken>

    func insert(_ token: AccessToken) async throws { try await base.insert(token) }

    func accessToken(secretHash: String) async throws -> AccessToken? {
        let (cached, generation) = cache.lookup(secretHash)
        if let cached { return cached }
        let token = try await base.accessToken(secretHash: secretHash)
        if let token { cache.store(token, for: secretHash, readAt: generation) }
        return token
    }

    func accessTokens(userID: UUID) async throws -> [AccessToken] { try await base.accessTokens(userID: userID) }

    func revoke(id: UUID, userID: UUID, at date: Date) async throws -> AccessToken? {
        let revoked = try await base.revoke(id: id, userID: userID, at: date)
        cache.removeAll { _, token in token.id == id }
        return revoked
    }

    func touch(id: UUID, at date: Date) async throws {
        try await base.touch(id: id, at: date)
        cache.removeAll { _, token in token.id == id }
    }
}

/// Caches `signingKey(organization:username:keyName:)`; deletion and use update the cache.
struct CachingPublicKeyStore: PublicKeyStore {
    struct LookupKey: Hashable, Sendable {
        let organization: String
        let username: String
        let keyName: String
    }

    let base: any PublicKeyStore
    let cache: ExpiringCache<LookupKey, SigningKeyLookup>

    func insert(_ key: PublicKeyRecord) async throws { try await base.insert(key) }
    func key(userID: UUID, name: String) async throws -> PublicKeyRecord? { try await base.key(userID: userID, name: name) }
    func keys(userID: UUID) async throws -> [PublicKeyRecord] { try await base.keys(userID: userID) }

    func delete(userID: UUID, name: String) async throws -> Bool {
        let deleted = try await base.delete(userID: userID, name: name)
        cache.removeAll { _, found in found.key.userID == userID && found.key.name == name }
        return deleted
    }

    func touch(id: UUID, at date: Date) async throws {
        try await base.touch(id: id, at: date)
        cache.removeAll { _, found in found.key.id == id }
    }

    func signingKey(organization: String, username: String, keyName: String) async throws -> SigningKeyLookup? {
        let lookupKey = LookupKey(organization: organization, username: username, keyName: keyName)
        let (cached, generation) = cache.lookup(lookupKey)
        if let cached { return cached }
        let found = try await base.signingKey(organization: organization, username: username, keyName: keyName)
        if let found { cache.store(found, for: lookupKey, readAt: generation) }
        return found
    }
}

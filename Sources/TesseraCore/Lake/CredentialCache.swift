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

/// A change to a credential that processes sharing the database must not keep serving from a
/// cache. Announced by the storage layer when the change commits.
public enum CredentialChange: Sendable, Hashable {
    /// A PAT was revoked (or otherwise changed).
    case accessToken(id: UUID)
    /// A registered public key was deleted (or otherwise changed).
    case publicKey(id: UUID)
    /// Changes may have been missed (e.g. the notification channel reconnected): drop everything.
    case unknown
}

/// The per-process cache of the reads on the Lake verification path (PAT by hash, signing key by
/// organization/user/name). Entries live at most `lifetime`; writes made through the wrapped
/// stores drop their entries at once, and `invalidate(_:)` drops entries changed by another
/// process (the server feeds it from the database's change notifications), so the lifetime is
/// only the bound for when a notification is lost.
public final class CredentialCache: Sendable {
    let accessTokens: ExpiringCache<String, AccessToken>
    let signingKeys: ExpiringCache<CachingPublicKeyStore.LookupKey, SigningKeyLookup>
    /// How long an entry may be served without a notification.
    public let lifetime: Duration

    public init(lifetime: Duration) {
        self.lifetime = lifetime
        self.accessTokens = ExpiringCache(lifetime: lifetime)
        self.signingKeys = ExpiringCache(lifetime: lifetime)
    }

    /// Drops what `change` makes stale.
    public func invalidate(_ change: CredentialChange) {
        switch change {
        case .accessToken(let id):
            accessTokens.removeAll { _, token in token.id == id }
        case .publicKey(let id):
            signingKeys.removeAll { _, found in found.key.id == id }
        case .unknown:
            accessTokens.removeAll { _, _ in true }
            signingKeys.removeAll { _, _ in true }
        }
    }

    /// `stores` with the verification-path reads served from this cache (unchanged when the
    /// lifetime is zero).
    public func wrap(_ stores: Stores) -> Stores {
        guard lifetime > .zero else { return stores }
        return Stores(
            directory: stores.directory,
            accessTokens: CachingAccessTokenStore(base: stores.accessTokens, cache: accessTokens),
            keys: CachingPublicKeyStore(base: stores.keys, cache: signingKeys),
            replay: stores.replay,
            serverKeys: stores.serverKeys,
            applications: stores.applications,
            pam: stores.pam,
            audit: stores.audit,
            tr50: stores.tr50,
            consoleSessions: stores.consoleSessions
        )
    }
}

extension Stores {
    /// These stores behind a new `CredentialCache` of `lifetime` (see there).
    public func caching(lifetime: Duration) -> Stores {
        CredentialCache(lifetime: lifetime).wrap(self)
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

import Foundation
import Metrics
import Synchronization

/// A small time-bounded map: entries live `lifetime` (monotonic time), the whole map is dropped
/// when it reaches `capacity`. Every removal bumps the generation (`CacheEpoch`, shared by the
/// maps of one `CredentialCache`); a value read from the database is stored only if no removal
/// happened since the read began, so a read that raced with a revocation can never put the old
/// record back.
final class ExpiringCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct State {
        var entries: [Key: (value: Value, storedAt: ContinuousClock.Instant)] = [:]
        /// The size at which `store` next drops the expired entries.
        var sweepAt = ExpiringCache.smallestSweep
    }

    /// Expired entries are dropped when the map has doubled since the last sweep (at least this
    /// many entries): amortised O(1) per store, and a load of ever-new credentials keeps the map
    /// near the live set instead of filling it to `capacity` (the soak's memory, docs/operations.md).
    static var smallestSweep: Int { 1024 }

    private let state = Mutex(State())
    private let lifetime: Duration
    private let capacity: Int
    private let counters: TesseraMetrics.CacheCounters
    private let epoch: CacheEpoch

    /// `name`: the `cache` label of its `tessera_cache_lookups_total` series. `epoch`: the
    /// generation this map bumps on every removal (shared with the other maps of its cache).
    init(_ name: String, lifetime: Duration, capacity: Int = 50_000, epoch: CacheEpoch = CacheEpoch()) {
        self.lifetime = lifetime
        self.capacity = capacity
        self.counters = TesseraMetrics.CacheCounters(cache: name)
        self.epoch = epoch
    }

    /// The cached value, or nil with the generation to pass to `store` after reading it.
    func lookup(_ key: Key) -> (value: Value?, generation: UInt64) {
        let now = ContinuousClock.now
        let found: (value: Value?, generation: UInt64) = state.withLock { state in
            guard let entry = state.entries[key] else { return (nil, epoch.current) }
            guard now - entry.storedAt < lifetime else {
                state.entries.removeValue(forKey: key)
                return (nil, epoch.current)
            }
            return (entry.value, epoch.current)
        }
        (found.value == nil ? counters.misses : counters.hits).increment()
        return found
    }

    /// The cached value, else `read()`'s, stored if found (and no removal raced with the read).
    func value(for key: Key, read: () async throws -> Value?) async rethrows -> Value? {
        let (cached, generation) = lookup(key)
        if let cached { return cached }
        let found = try await read()
        if let found { store(found, for: key, readAt: generation) }
        return found
    }

    func store(_ value: Value, for key: Key, readAt generation: UInt64) {
        let now = ContinuousClock.now
        state.withLock { state in
            guard epoch.current == generation else { return }
            if state.entries.count >= state.sweepAt {
                state.entries = state.entries.filter { now - $0.value.storedAt < lifetime }
                state.sweepAt = max(Self.smallestSweep, state.entries.count * 2)
            }
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[key] = (value, now)
        }
    }

    /// How many entries the map holds, expired ones included (for tests).
    var count: Int { state.withLock { $0.entries.count } }

    func remove(_ key: Key) {
        state.withLock { state in
            epoch.bump()
            state.entries.removeValue(forKey: key)
        }
    }

    func removeAll(where shouldRemove: (Key, Value) -> Bool) {
        state.withLock { state in
            epoch.bump()
            state.entries = state.entries.filter { !shouldRemove($0.key, $0.value.value) }
        }
    }

    /// Drops entries after a change no verification depends on (`last_used_at`): the next read
    /// refreshes them, and nothing verified is forgotten (the generation stays). A read that
    /// raced with the change may store the record as it was: at worst one more `last_used_at`
    /// write.
    func refresh(where shouldRemove: (Key, Value) -> Bool) {
        state.withLock { state in
            state.entries = state.entries.filter { !shouldRemove($0.key, $0.value.value) }
        }
    }
}

/// A change to a credential, or to a record a verification reads, that processes sharing the
/// database must not keep serving from a cache. Announced by the storage layer when the change
/// commits.
public enum CredentialChange: Sendable, Hashable {
    /// A PAT was revoked (or otherwise changed).
    case accessToken(id: UUID)
    /// A registered public key was deleted (or otherwise changed).
    case publicKey(id: UUID)
    /// An organization's server signing keys changed (a rotation).
    case serverKeys(organizationID: UUID)
    /// A revocation mark (`RevocationMark`) was recorded.
    case revocationMark(String)
    /// Authentication tokens (PAM) of an organization were revoked or restored.
    case authenticationTokens(organizationID: UUID)
    /// A TR50 role of an organization changed or was deleted.
    case tr50Role(organizationID: UUID, key: String)
    /// An OAuth application was deleted, or its secret rotated.
    case application(id: String)
    /// A user was disabled, enabled or deleted.
    case user(id: UUID)
    /// Changes may have been missed (e.g. the notification channel reconnected): drop everything.
    case unknown
}

/// The per-process cache of the reads on every verification path: the Lake PAT by hash and
/// signing key by organization/user/name; the server signing key by `kid`; organizations; the
/// revocation marks of access tokens; PAM authentication tokens; TR50 roles; the OAuth
/// applications clients authenticate as (for issuance). Each map is bounded
/// (`capacity` entries, dropped whole when full) and entries live at most `lifetime`. Writes made
/// through the wrapped stores drop their entries before they return (so the replica that
/// revokes refuses from the next request on), and `invalidate(_:)` drops entries changed by
/// another process (the server feeds it from the database's change notifications), so the
/// lifetime is only the bound for a change no notification carries (another process on a SQLite
/// file, a lost notification).
public final class CredentialCache: Sendable {
    let accessTokens: ExpiringCache<String, AccessToken>
    let signingKeys: ExpiringCache<CachingPublicKeyStore.LookupKey, SigningKeyLookup>
    let serverKeys: ExpiringCache<String, ServerSigningKey>
    let organizations: ExpiringCache<CachingDirectoryStore.LookupKey, Organization>
    let revocationMarks: ExpiringCache<String, Bool>
    let authenticationTokens: ExpiringCache<CachingPAMStore.LookupKey, AuthenticationToken>
    let roles: ExpiringCache<CachingTR50Store.LookupKey, Role>
    let applications: ExpiringCache<String, ClientApplication>
    /// How long an entry may be served without a notification.
    public let lifetime: Duration
    /// Bumped by every removal from any of these maps (not by a `refresh`, after a `last_used_at`
    /// write): what `VerifiedCredentialMemo` entries are checked against.
    let epoch = CacheEpoch()

    public init(lifetime: Duration, capacity: Int = 50_000) {
        self.lifetime = lifetime
        self.accessTokens = ExpiringCache("access_tokens", lifetime: lifetime, capacity: capacity, epoch: epoch)
        self.signingKeys = ExpiringCache("signing_keys", lifetime: lifetime, capacity: capacity, epoch: epoch)
        self.serverKeys = ExpiringCache("server_keys", lifetime: lifetime, capacity: 1_000, epoch: epoch)
        self.organizations = ExpiringCache("organizations", lifetime: lifetime, capacity: 10_000, epoch: epoch)
        self.revocationMarks = ExpiringCache("revocation_marks", lifetime: lifetime, capacity: capacity, epoch: epoch)
        self.authenticationTokens = ExpiringCache("authentication_tokens", lifetime: lifetime, capacity: capacity, epoch: epoch)
        self.roles = ExpiringCache("tr50_roles", lifetime: lifetime, capacity: 10_000, epoch: epoch)
        self.applications = ExpiringCache("applications", lifetime: lifetime, capacity: 10_000, epoch: epoch)
    }

    /// A memo of verified credentials whose entries are forgotten by every removal from this
    /// cache and live at most its lifetime (nil when the cache is off: lifetime zero).
    /// `name`: its `cache` label in `tessera_cache_lookups_total`.
    public func verifiedMemo<Key: Hashable & Sendable, Value: Sendable>(_ name: String) -> VerifiedCredentialMemo<Key, Value>? {
        guard lifetime > .zero else { return nil }
        return VerifiedCredentialMemo(name, lifetime: lifetime, epoch: epoch)
    }

    /// Drops what `change` makes stale.
    public func invalidate(_ change: CredentialChange) {
        switch change {
        case .accessToken(let id):
            accessTokens.removeAll { _, token in token.id == id }
        case .publicKey(let id):
            signingKeys.removeAll { _, found in found.key.id == id }
        case .serverKeys(let organizationID):
            serverKeys.removeAll { _, key in key.organizationID == organizationID }
        case .revocationMark(let mark):
            revocationMarks.remove(mark)
        case .authenticationTokens(let organizationID):
            authenticationTokens.removeAll { _, token in token.organizationID == organizationID }
        case .tr50Role(let organizationID, let key):
            roles.removeAll { _, role in role.organizationID == organizationID && role.key == key }
        case .application(let id):
            applications.remove(id)
        case .user(let id):
            signingKeys.removeAll { _, found in found.user.id == id }
        case .unknown:
            accessTokens.removeAll { _, _ in true }
            signingKeys.removeAll { _, _ in true }
            serverKeys.removeAll { _, _ in true }
            organizations.removeAll { _, _ in true }
            revocationMarks.removeAll { _, _ in true }
            authenticationTokens.removeAll { _, _ in true }
            roles.removeAll { _, _ in true }
            applications.removeAll { _, _ in true }
        }
    }

    /// `stores` with the verification-path reads served from this cache (unchanged when the
    /// lifetime is zero).
    public func wrap(_ stores: Stores) -> Stores {
        guard lifetime > .zero else { return stores }
        return Stores(
            directory: CachingDirectoryStore(base: stores.directory, cache: organizations, userChanged: { self.invalidate(.user(id: $0)) }),
            accessTokens: CachingAccessTokenStore(base: stores.accessTokens, cache: accessTokens),
            keys: CachingPublicKeyStore(base: stores.keys, cache: signingKeys),
            replay: CachingReplayStore(base: stores.replay, cache: revocationMarks),
            serverKeys: CachingServerKeyStore(base: stores.serverKeys, cache: serverKeys),
            applications: CachingApplicationStore(base: stores.applications, cache: applications),
            pam: CachingPAMStore(base: stores.pam, cache: authenticationTokens),
            audit: stores.audit,
            tr50: CachingTR50Store(base: stores.tr50, cache: roles),
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

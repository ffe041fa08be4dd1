import Foundation
import Metrics
import Synchronization

/// The generation of one `CredentialCache`: bumped by every removal from any of its maps, that
/// is by every change to a record a verification reads — made by this process (before the change
/// call answers) or announced by another one (the database's change notifications).
final class CacheEpoch: Sendable {
    private let value = Atomic<UInt64>(0)

    var current: UInt64 { value.load(ordering: .sequentiallyConsistent) }

    func bump() { value.wrappingAdd(1, ordering: .sequentiallyConsistent) }
}

/// What a verifier concluded about a credential it checked in full, kept so that the same
/// credential presented again is answered without parsing, looking up and checking it again
/// (issue 13: a repeated credential at the speed of the HTTP exchange).
///
/// An entry answers only while all of these hold, so it can never outlive a reason to refuse:
/// - no record a verification reads has changed since the verification **began** (the
///   `CredentialCache`'s generation is unchanged: a revoked PAT, a deleted key, a disabled
///   user, a revoked access token or PAM token, a rotated-out signing key, a new PAT policy,
///   whether changed here or announced by another replica, forget every entry at once);
/// - it is younger than the cache's lifetime (the bound for changes no notification carries);
/// - the verifier's clock is before the entry's `validUntil`, the earliest moment any
///   time-based check (expiry, a rotated PAT secret's end, a PAT's warning week) could turn.
///
/// Verifiers store only what needs nothing per use: never a single-use token (its use must be
/// recorded), never a DPoP-bound token (each proof must be checked). A credential is kept only
/// when it is verified in full a second time (a small table of recent credentials' hashes says
/// so), so a stream of credentials each presented once — first-seen tokens — costs the memo no
/// memory. The map is bounded by its entries' bytes and dropped whole when full.
public final class VerifiedCredentialMemo<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        let value: Value
        let verifiedAt: Date
        let validUntil: Date
        let storedAt: ContinuousClock.Instant
        let generation: UInt64
        let cost: Int
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var bytes = 0
        /// The hashes of credentials verified in full lately, one per slot: a credential is
        /// kept when its hash is already in its slot.
        var seen = [Int](repeating: 0, count: VerifiedCredentialMemo.seenSlots)
    }

    /// Slots of the table of recent credentials (32 KiB).
    static var seenSlots: Int { 4096 }

    /// The bytes the memo's entries take at most (4 MiB: about 3 000 ES256 access tokens).
    static var byteBudget: Int { 4 << 20 }
    /// What an entry costs beyond its credential's bytes: its key and entry in the dictionary's
    /// storage, and the allocations of the credential's and the value's own storage.
    static var entryOverhead: Int { MemoryLayout<Key>.stride + MemoryLayout<Entry>.stride + 128 }

    private let state = Mutex(State())
    private let lifetime: Duration
    private let epoch: CacheEpoch
    private let counters: TesseraMetrics.CacheCounters

    init(_ name: String, lifetime: Duration, epoch: CacheEpoch) {
        self.lifetime = lifetime
        self.epoch = epoch
        self.counters = TesseraMetrics.CacheCounters(cache: name)
    }

    /// The generation to hand to `store`: read it before the verification begins.
    var generation: UInt64 { epoch.current }

    /// The value stored for `key`, if it still answers at `now` (the verifier's clock).
    func lookup(_ key: Key, now: Date) -> Value? {
        let instant = ContinuousClock.now
        let current = epoch.current
        let found: Value? = state.withLock { state in
            guard let entry = state.entries[key] else { return nil }
            guard entry.generation == current, instant - entry.storedAt < lifetime, entry.verifiedAt <= now, now < entry.validUntil else {
                state.entries.removeValue(forKey: key)
                state.bytes -= entry.cost
                return nil
            }
            return entry.value
        }
        (found == nil ? counters.misses : counters.hits).increment()
        return found
    }

    /// Keeps `value` for `key` from `verifiedAt` (the verifier's clock when it began; a clock set
    /// back before it finds nothing) until `validUntil`, unless a change came since `generation`
    /// was read. `bytes`: the credential's length.
    func store(_ value: Value, for key: Key, bytes: Int, verifiedAt: Date, validUntil: Date, readAt generation: UInt64) {
        guard epoch.current == generation, verifiedAt < validUntil else { return }
        let entry = Entry(
            value: value, verifiedAt: verifiedAt, validUntil: validUntil, storedAt: ContinuousClock.now, generation: generation,
            cost: bytes + Self.entryOverhead
        )
        state.withLock { state in
            if state.bytes + entry.cost > Self.byteBudget {
                state.entries.removeAll(keepingCapacity: true)
                state.bytes = 0
            }
            if let replaced = state.entries.updateValue(entry, forKey: key) { state.bytes -= replaced.cost }
            state.bytes += entry.cost
        }
    }

    /// The value for `key`: the memo's if it still answers at `now` (the verifier's clock), else
    /// `verify()`'s, kept until `keepUntil` says (nil: not kept), unless a change came while it
    /// ran. `bytes`: the credential's length.
    public func value(
        for key: Key, bytes: Int, now: Date, verify: () async throws -> Value, keepUntil: (Value) -> Date?
    ) async rethrows -> Value {
        if let known = lookup(key, now: now) { return known }
        let generation = self.generation
        let verified = try await verify()
        if let validUntil = keepUntil(verified), seenBefore(key) {
            store(verified, for: key, bytes: bytes, verifiedAt: now, validUntil: validUntil, readAt: generation)
        }
        return verified
    }

    /// Whether `key` was verified in full lately (its hash in its slot of the table); notes it
    /// if not.
    private func seenBefore(_ key: Key) -> Bool {
        let hash = key.hashValue
        let slot = Int(UInt(bitPattern: hash) % UInt(Self.seenSlots))
        return state.withLock { state in
            if state.seen[slot] == hash { return true }
            state.seen[slot] = hash
            return false
        }
    }

    /// How many entries the memo holds, stale ones included (for tests).
    var count: Int { state.withLock { $0.entries.count } }
}

import Foundation
import Synchronization
import Testing

@testable import TesseraCore

/// The memo of verified credentials answers only while nothing could have changed the answer:
/// the cache's generation, its lifetime, the entry's time window, and its byte bound.
@Suite("Verified-credential memo")
struct VerifiedCredentialMemoTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func memo(_ cache: CredentialCache) throws -> VerifiedCredentialMemo<String, Int> {
        try #require(cache.verifiedMemo("test"))
    }

    /// Stores `value` for `key`, verified at `start`, valid for an hour.
    static func store(_ memo: VerifiedCredentialMemo<String, Int>, _ key: String, _ value: Int) {
        memo.store(value, for: key, bytes: key.utf8.count, verifiedAt: start, validUntil: start + 3600, readAt: memo.generation)
    }

    @Test("a stored verification answers the same credential, and only that one")
    func answers() throws {
        let memo = try Self.memo(CredentialCache(lifetime: .seconds(300)))
        Self.store(memo, "token-a", 1)
        #expect(memo.lookup("token-a", now: Self.start + 10) == 1)
        #expect(memo.lookup("token-a", now: Self.start + 20) == 1, "answered again")
        #expect(memo.lookup("token-b", now: Self.start + 10) == nil)
    }

    @Test("any change to any record the cache holds forgets every entry, also one announced by another replica")
    func changesForget() throws {
        let changes: [CredentialChange] = [
            .accessToken(id: UUID()), .publicKey(id: UUID()), .serverKeys(organizationID: UUID()), .revocationMark("at:x"),
            .authenticationTokens(organizationID: UUID()), .tr50Role(organizationID: UUID(), key: "ops"), .application(id: "app"),
            .user(id: UUID()), .unknown,
        ]
        for change in changes {
            let cache = CredentialCache(lifetime: .seconds(300))
            let memo = try Self.memo(cache)
            Self.store(memo, "token", 1)
            #expect(memo.lookup("token", now: Self.start + 1) == 1)
            // The change names records the cache does not even hold: any change may matter.
            cache.invalidate(change)
            #expect(memo.lookup("token", now: Self.start + 1) == nil, "after \(change)")
        }
    }

    @Test("a verification that began before a change is not kept")
    func racedVerification() throws {
        let cache = CredentialCache(lifetime: .seconds(300))
        let memo = try Self.memo(cache)
        let generation = memo.generation
        cache.invalidate(.accessToken(id: UUID()))  // a revocation while the verification ran
        memo.store(1, for: "token", bytes: 5, verifiedAt: Self.start, validUntil: Self.start + 3600, readAt: generation)
        #expect(memo.lookup("token", now: Self.start + 1) == nil)
        #expect(memo.count == 0)
    }

    @Test("an entry answers from its verification until just before validUntil, and not once the clock is set back")
    func timeWindow() throws {
        let memo = try Self.memo(CredentialCache(lifetime: .seconds(300)))
        Self.store(memo, "token", 1)
        #expect(memo.lookup("token", now: Self.start + 3599) == 1)
        #expect(memo.lookup("token", now: Self.start + 3600) == nil, "at validUntil the verifier decides again")
        Self.store(memo, "token", 1)
        #expect(memo.lookup("token", now: Self.start - 1) == nil, "a clock set back before the verification")
        memo.store(2, for: "late", bytes: 4, verifiedAt: Self.start, validUntil: Self.start, readAt: memo.generation)
        #expect(memo.count == 0, "an entry with no time to live is not kept")
    }

    @Test("an entry lives at most the cache's lifetime")
    func lifetime() async throws {
        let memo = try Self.memo(CredentialCache(lifetime: .milliseconds(100)))
        Self.store(memo, "token", 1)
        #expect(memo.lookup("token", now: Self.start + 1) == 1)
        try await Task.sleep(for: .milliseconds(200))
        #expect(memo.lookup("token", now: Self.start + 1) == nil)
    }

    @Test("the memo is bounded by its credentials' bytes")
    func bounded() throws {
        let memo = try Self.memo(CredentialCache(lifetime: .seconds(300)))
        let filler = String(repeating: "x", count: 1_000)
        for index in 0..<20_000 { Self.store(memo, "\(index)-" + filler, index) }
        let perEntry = 1_006 + VerifiedCredentialMemo<String, Int>.entryOverhead
        #expect(memo.count * perEntry <= VerifiedCredentialMemo<String, Int>.byteBudget)
        #expect(memo.lookup("19999-" + filler, now: Self.start + 1) == 19_999, "the newest entry is kept")
    }

    @Test("a credential is kept on its second full verification, so credentials presented once take no memory")
    func admission() async throws {
        let memo = try Self.memo(CredentialCache(lifetime: .seconds(300)))
        let verifications = Mutex(0)
        @Sendable func present(_ key: String) async -> Int {
            await memo.value(
                for: key, bytes: key.utf8.count, now: Self.start, verify: { verifications.withLock { $0 += 1 }; return 7 },
                keepUntil: { _ in Self.start + 3600 }
            )
        }
        for index in 0..<1_000 { _ = await present("first-seen-\(index)") }
        #expect(memo.count == 0, "no credential presented once is kept")
        for _ in 0..<5 { #expect(await present("repeated") == 7) }
        #expect(verifications.withLock { $0 } == 1_002, "verified in full twice, then answered from the memo")
        #expect(memo.count == 1)
        let kept = await memo.value(for: "single-use", bytes: 10, now: Self.start, verify: { 1 }, keepUntil: { _ in nil })
        #expect(kept == 1)
        _ = await memo.value(for: "single-use", bytes: 10, now: Self.start, verify: { 1 }, keepUntil: { _ in nil })
        #expect(memo.lookup("single-use", now: Self.start) == nil, "what the verifier says not to keep is not kept")
    }

    @Test("a last-use write forgets nothing verified; a cache that is off keeps no memo")
    func touchesAndOff() async throws {
        let cache = CredentialCache(lifetime: .seconds(300))
        let memo = try Self.memo(cache)
        Self.store(memo, "token", 1)
        cache.accessTokens.refresh { _, _ in true }
        cache.signingKeys.refresh { _, _ in true }
        #expect(memo.lookup("token", now: Self.start + 1) == 1)
        let off: VerifiedCredentialMemo<String, Int>? = CredentialCache(lifetime: .zero).verifiedMemo("test")
        #expect(off == nil)
    }
}

import Foundation
import Testing
import TesseraCore
import TesseraStorage

/// The audit store on SQLite and PostgreSQL: the fields added with migration 10 (claimed actor,
/// client, count) read back as written, the events filed under no organization are read apart
/// from every organization's, and `AuditLog`'s folding writes what docs/audit.md says.
@Suite("Audit store conformance (SQLite and PostgreSQL)")
struct AuditStoreConformanceTests {
    /// A clock the test moves.
    final class Clock: TesseraClock, @unchecked Sendable {
        private let lock = NSLock()
        private var current = Date(timeIntervalSince1970: 1_795_000_000)
        func now() -> Date { lock.withLock { current } }
        func advance(_ seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }
    }

    @Test("claimed actor, client and count read back; unattributed events apart from any organization's", arguments: DatabaseKind.underTest)
    func fields(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let (organization, _) = try await StorageConformanceTests.seed(storage.stores)
            let filed = AuditEvent(
                id: "evt_1", organizationID: organization.id, occurredAt: 1, actor: "user:wile", actorClaimed: true, action: "lake.authenticate",
                target: "/api/me", outcome: "refused", reason: "signature_invalid", requestID: "r1", client: "10.0.0.1", count: 4990
            )
            let unattributed = AuditEvent(
                id: "evt_2", organizationID: nil, occurredAt: 2, actor: "app:app_nobody", actorClaimed: true, action: "oauth.token", target: nil,
                outcome: "refused", reason: "invalid_client", requestID: "r2", client: "::1"
            )
            try await storage.stores.audit.append(filed)
            try await storage.stores.audit.append(unattributed)
            #expect(try await storage.stores.audit.events(AuditQuery(organizationID: organization.id)) == [filed])
            #expect(try await storage.stores.audit.events(AuditQuery(organizationID: nil)) == [unattributed])
            #expect(try await storage.stores.audit.events(AuditQuery(organizationID: nil, after: "evt_2")) == [])
            #expect(try await storage.stores.audit.events(AuditQuery(organizationID: nil, action: "oauth.token", limit: 1)).map(\.count) == [1])
        }
    }

    @Test("folding: 10 entries, then one with the count when the interval ends; other keys apart", arguments: DatabaseKind.underTest)
    func folding(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let (organization, _) = try await StorageConformanceTests.seed(storage.stores)
            let clock = Clock()
            let log = AuditLog(store: storage.stores.audit, clock: clock)
            func refuse(_ client: String, _ reason: String, _ n: Int) async throws {
                try await log.record(
                    organizationID: organization.id, actor: .user("wile", claimed: true), action: "lake.authenticate", target: "/api/me",
                    refusal: reason, origin: AuditOrigin(requestID: "r\(n)", client: client)
                )
            }
            for n in 1...1000 { try await refuse("10.0.0.1", "signature_invalid", n) }
            try await refuse("10.0.0.2", "signature_invalid", 1001)
            try await refuse("10.0.0.1", "key_unknown", 1002)
            #expect(try await log.flush() == 0)
            var events = try await storage.stores.audit.events(AuditQuery(organizationID: organization.id, limit: 5000))
            #expect(events.count == 12)
            #expect(log.folding.pendingCount == 990)
            clock.advance(60)
            #expect(try await log.flush() == 1)
            events = try await storage.stores.audit.events(AuditQuery(organizationID: organization.id, limit: 5000))
            let flood = events.filter { $0.client == "10.0.0.1" && $0.reason == "signature_invalid" }
            #expect(flood.count == 11 && flood.map(\.count).reduce(0, +) == 1000)
            #expect(flood.last?.count == 990 && flood.last?.requestID == "r1000")
            #expect(flood.last?.actor == "user:wile" && flood.last?.actorClaimed == true)
            // A new interval starts afresh; successes are never folded.
            try await refuse("10.0.0.1", "signature_invalid", 2000)
            for _ in 1...20 {
                try await log.record(
                    organizationID: organization.id, actor: .user("wile"), action: "pat.create", refusal: nil as String?,
                    origin: AuditOrigin(requestID: nil, client: "10.0.0.1")
                )
            }
            events = try await storage.stores.audit.events(AuditQuery(organizationID: organization.id, limit: 5000))
            #expect(events.count == 13 + 1 + 20)
        }
    }

    @Test("one client inventing actors folds into `various` past its quota of keys", arguments: DatabaseKind.underTest)
    func inventedActors(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            var policy = AuditFolding.Policy()
            policy.keysPerClient = 4
            let log = AuditLog(store: storage.stores.audit, clock: Clock(), folding: policy)
            for n in 1...100 {
                try await log.record(
                    organizationID: nil, actor: .app("app_\(n)", claimed: true), action: "oauth.token", refusal: "invalid_client",
                    origin: AuditOrigin(requestID: "r\(n)", client: "10.0.0.9")
                )
            }
            try await log.flush(everything: true)
            let events = try await storage.stores.audit.events(AuditQuery(organizationID: nil, limit: 1000))
            // 4 keys of their own (one entry each), then the `various` key: 10 entries and one folded.
            #expect(events.count == 4 + 10 + 1)
            #expect(events.map(\.count).reduce(0, +) == 100)
            #expect(events.last?.actor == "various" && events.last?.count == 86)
        }
    }
}

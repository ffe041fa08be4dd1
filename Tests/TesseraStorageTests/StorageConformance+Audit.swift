import Foundation
import Testing
import TesseraCore
import TesseraStorage

/// The audit log (`AuditStore`; its folding: AuditStoreConformanceTests.swift).
extension StorageConformanceTests {
    @Test("audit log: appended events page by cursor, filter by action, stay per organization", arguments: DatabaseKind.underTest)
    func audit(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let (organization, _) = try await Self.seed(storage.stores)
            for n in 1...4 {
                try await storage.stores.audit.append(AuditEvent(
                    id: "evt_\(n)", organizationID: organization.id, occurredAt: Int64(n), actor: "user:wile",
                    action: n % 2 == 0 ? "pat.create" : "key.delete", target: "t\(n)", outcome: n == 4 ? "refused" : "success",
                    reason: n == 4 ? "pat_revoked" : nil, requestID: "r\(n)"
                ))
            }
            try await storage.stores.audit.append(AuditEvent(
                id: "evt_9", organizationID: nil, occurredAt: 9, actor: "anonymous", action: "pat.create", target: nil, outcome: "refused",
                reason: "x", requestID: nil
            ))
            let page = try await storage.stores.audit.events(organizationID: organization.id, after: nil, action: nil, limit: 3)
            #expect(page.map(\.id) == ["evt_1", "evt_2", "evt_3"])
            let rest = try await storage.stores.audit.events(organizationID: organization.id, after: "evt_3", action: nil, limit: 3)
            #expect(rest.map(\.id) == ["evt_4"])
            #expect(rest.first?.reason == "pat_revoked")
            let creations = try await storage.stores.audit.events(organizationID: organization.id, after: nil, action: "pat.create", limit: 10)
            #expect(creations.map(\.id) == ["evt_2", "evt_4"])

            // The console's view: newest first by a `before` cursor, outcome, actor and a text search.
            let audit = storage.stores.audit
            func ids(_ query: AuditQuery) async throws -> [String] { try await audit.events(query).map(\.id) }
            #expect(try await ids(AuditQuery(organizationID: organization.id, limit: 2, newestFirst: true)) == ["evt_4", "evt_3"])
            #expect(try await ids(AuditQuery(organizationID: organization.id, limit: 5, before: "evt_3", newestFirst: true)) == ["evt_2", "evt_1"])
            #expect(try await ids(AuditQuery(organizationID: organization.id, newestFirst: true, outcome: "refused")) == ["evt_4"])
            #expect(try await ids(AuditQuery(organizationID: organization.id, newestFirst: true, actor: "user:nobody")) == [])
            #expect(try await ids(AuditQuery(organizationID: organization.id, newestFirst: true, search: "PAT_REV")) == ["evt_4"], "reason, any case")
            #expect(try await ids(AuditQuery(organizationID: organization.id, newestFirst: true, search: "t3")) == ["evt_3"], "target")
            #expect(try await ids(AuditQuery(organizationID: organization.id, newestFirst: true, search: "pat_")).count == 1, "'_' is a character, not a wildcard")
            #expect(try await ids(AuditQuery(organizationID: organization.id, newestFirst: true, search: "%")) == [], "'%' too")
            let choices = try await audit.choices(organizationID: organization.id, limit: 10)
            #expect(choices.actions == ["key.delete", "pat.create"] && choices.actors == ["user:wile"])
        }
    }
}

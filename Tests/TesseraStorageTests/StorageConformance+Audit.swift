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
        }
    }
}

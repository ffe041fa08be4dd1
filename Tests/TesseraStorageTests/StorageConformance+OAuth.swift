import Foundation
import Testing
import TesseraCore
import TesseraStorage

/// OAuth applications (`ApplicationStore`).
extension StorageConformanceTests {
    @Test("applications: insert, read, list per organization, delete", arguments: DatabaseKind.underTest)
    func applications(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let (organization, _) = try await Self.seed(storage.stores)
            let application = ClientApplication(
                id: "app_1", organizationID: organization.id, name: "backup", secretHash: "h", allowedScopes: [PAMScope.obtain, PAMScope.read],
                publicKeyPEM: "pem", keyAlgorithm: .rs256, createdAt: Self.now
            )
            try await storage.stores.applications.insert(application)
            #expect(try await storage.stores.applications.application(id: "app_1") == application)
            #expect(try await storage.stores.applications.applications(organizationID: organization.id) == [application])
            #expect(try await storage.stores.applications.delete(id: "app_1", organizationID: UUID()) == false)
            #expect(try await storage.stores.applications.delete(id: "app_1", organizationID: organization.id))
            #expect(try await storage.stores.applications.application(id: "app_1") == nil)
        }
    }
}

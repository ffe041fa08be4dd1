import Foundation
import Testing
import TesseraCore
import TesseraStorage

/// Organizations and users (`DirectoryStore`).
extension StorageConformanceTests {
    @Test("unique names are enforced: organizations, users, key names per user", arguments: StoresUnderTest.all)
    func uniqueness(_ under: StoresUnderTest) async throws {
        try await ScratchDatabase.withStorage(under.kind) { storage, _ in
            let stores = under.stores(on: storage)
            let (organization, user) = try await Self.seed(stores)
            let again = Organization(domainName: "acme", name: "Other", createdAt: Self.now)
            await #expect(throws: DuplicateRecordError.self) { try await stores.directory.createOrganization(again, admin: nil) }
            let twin = User(organizationID: organization.id, username: "wile", passwordHash: "x", isAdmin: false, createdAt: Self.now)
            await #expect(throws: DuplicateRecordError.self) { try await stores.directory.createUser(twin) }
            let key = PublicKeyRecord(userID: user.id, name: "primary", algorithm: .es256, publicKeyPEM: "pem", fingerprint: "f", origin: .uploaded, createdAt: Self.now)
            try await stores.keys.insert(key)
            let clash = PublicKeyRecord(userID: user.id, name: "primary", algorithm: .rs256, publicKeyPEM: "pem2", fingerprint: "g", origin: .generated, createdAt: Self.now)
            await #expect(throws: DuplicateRecordError.self) { try await stores.keys.insert(clash) }
            #expect(try await stores.keys.keys(userID: user.id) == [key])
        }
    }

    @Test("an organization whose admin cannot be made is not made either (one transaction)", arguments: DatabaseKind.underTest)
    func atomicOrganization(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            _ = try await Self.seed(storage.stores)
            let other = Organization(domainName: "roadrunner", name: "RR", createdAt: Self.now)
            let duplicateAdmin = User(organizationID: other.id, username: "wile", passwordHash: "x", isAdmin: true, createdAt: Self.now)
            await #expect(throws: DuplicateRecordError.self) { try await storage.stores.directory.createOrganization(other, admin: duplicateAdmin) }
            #expect(try await storage.stores.directory.organization(domainName: "roadrunner") == nil)
            #expect(try await storage.stores.directory.organizationCount() == 1)
        }
    }
}

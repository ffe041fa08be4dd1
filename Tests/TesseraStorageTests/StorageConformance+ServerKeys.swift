import Foundation
import Testing
import TesseraCore
import TesseraStorage

/// The server's signing keys (`ServerKeyStore`).
extension StorageConformanceTests {
    @Test("server keys: concurrent rotations leave exactly one active key; retired keys publish until verify_until", arguments: DatabaseKind.underTest)
    func serverKeys(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let (organization, _) = try await Self.seed(storage.stores)
            let keys = storage.stores.serverKeys
            #expect(try await keys.activeKey(organizationID: organization.id) == nil)
            let made = try await Self.concurrently(8) {
                let key = ServerSigningKey(
                    id: "tsk_" + UUID().uuidString, organizationID: organization.id, algorithm: .es256, publicKeyPEM: "pem",
                    sealedPrivateKey: [1, 2, 3], createdAt: Self.now
                )
                try await keys.rotate(to: key, retireAt: Self.now, verifyUntil: Self.now.addingTimeInterval(600))
                return true
            }
            #expect(made == 8)
            let all = try await keys.keys(organizationID: organization.id)
            #expect(all.count == 8)
            #expect(all.filter { $0.retiredAt == nil }.count == 1, "one signing key, however the rotations interleaved")
            let active = try #require(try await keys.activeKey(organizationID: organization.id))
            #expect(all.first == active)
            #expect(try await keys.key(id: active.id) == active)
            #expect(try await keys.publishedKeys(at: Self.now.addingTimeInterval(599)).count == 8)
            #expect(try await keys.publishedKeys(at: Self.now.addingTimeInterval(600)).map(\.id) == [active.id])
        }
    }
}

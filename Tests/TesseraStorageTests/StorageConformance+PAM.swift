import Foundation
import Testing
import TesseraCore
import TesseraStorage

/// Credential providers and authentication tokens (`PAMStore`).
extension StorageConformanceTests {
    @Test("PAM: providers by id or name; tokens by id and short-token hash; filtered pages; revocation", arguments: DatabaseKind.underTest)
    func pam(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let (organization, _) = try await Self.seed(storage.stores)
            let pam = storage.stores.pam
            let provider = CredentialProvider(
                id: "atp_1", organizationID: organization.id, name: "backup", issuer: "https://issuer", issuerWhitelist: ["https://other"],
                defaultValidity: 3600, maximumValidity: 86_400, createdAt: Self.now
            )
            try await pam.insert(provider)
            #expect(try await pam.provider(identifier: "atp_1", organizationID: organization.id) == provider)
            #expect(try await pam.provider(identifier: "backup", organizationID: organization.id) == provider)
            #expect(try await pam.provider(identifier: "backup", organizationID: UUID()) == nil)
            #expect(try await pam.providers(organizationID: organization.id) == [provider])
            func token(_ n: Int, consumer: String, expires: Int64) -> AuthenticationToken {
                AuthenticationToken(
                    id: "atntkn_\(n)", organizationID: organization.id, credentialProviderID: "atp_1", creatorType: "app", creatorID: "app_1",
                    consumerType: "user", consumerID: consumer, sealedJWT: [UInt8](repeating: UInt8(n), count: 40),
                    shortTokenHash: n == 1 ? "short-hash" : nil, sealedShortToken: n == 1 ? [9, 9] : nil, revoked: false,
                    createTime: 1_000, updateTime: 1_000, expirationTime: expires
                )
            }
            for n in 1...5 { try await pam.insert(token(n, consumer: n <= 3 ? "alice" : "bob", expires: n == 5 ? 500 : 5_000)) }
            #expect(try await pam.token(id: "atntkn_1", organizationID: organization.id) == token(1, consumer: "alice", expires: 5_000))
            #expect(try await pam.token(shortTokenHash: "short-hash", organizationID: organization.id)?.id == "atntkn_1")
            let firstPage = try await pam.tokens(
                organizationID: organization.id,
                query: .init(consumerID: "alice", credentialProviderID: nil, revoked: nil, expired: nil, now: 1_000, after: nil, limit: 2)
            )
            #expect(firstPage.page.map(\.id) == ["atntkn_1", "atntkn_2"])
            #expect(firstPage.total == 3)
            let nextPage = try await pam.tokens(
                organizationID: organization.id,
                query: .init(consumerID: "alice", credentialProviderID: nil, revoked: nil, expired: nil, now: 1_000, after: "atntkn_2", limit: 2)
            )
            #expect(nextPage.page.map(\.id) == ["atntkn_3"])
            let expired = try await pam.tokens(
                organizationID: organization.id,
                query: .init(consumerID: nil, credentialProviderID: "atp_1", revoked: nil, expired: true, now: 1_000, after: nil, limit: 10)
            )
            #expect(expired.page.map(\.id) == ["atntkn_5"])
            let one = try await pam.setRevoked(id: "atntkn_4", organizationID: organization.id, revoked: true, at: 2_000)
            #expect(one?.revoked == true)
            #expect(one?.updateTime == 2_000)
            #expect(try await pam.setRevoked(consumerID: "alice", organizationID: organization.id, revoked: true, at: 3_000) == 3)
            let revoked = try await pam.tokens(
                organizationID: organization.id,
                query: .init(consumerID: nil, credentialProviderID: nil, revoked: true, expired: nil, now: 1_000, after: nil, limit: 10)
            )
            #expect(revoked.page.map(\.id) == ["atntkn_1", "atntkn_2", "atntkn_3", "atntkn_4"])
        }
    }
}

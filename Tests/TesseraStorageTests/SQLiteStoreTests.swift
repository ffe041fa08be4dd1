import Foundation
import Logging
import Testing
import TesseraCore
import TesseraStorage

/// The SQL stores on SQLite, through the core's storage protocols.
@Suite("SQL stores on SQLite")
struct SQLiteStoreTests {
    /// Opens a fresh database file, runs `body`, closes and deletes it.
    static func withStorage(_ body: (SQLStorage, String) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let reference = "sqlite:" + directory.appendingPathComponent("t.sqlite").path
        let storage = try await SQLStorage.open(reference, logger: Logger(label: "test"))
        do {
            try await body(storage, reference)
            try await storage.close()
        } catch {
            try? await storage.close()
            throw error
        }
    }

    static let now = Date(timeIntervalSince1970: 1_795_000_000)

    static func seed(_ stores: Stores) async throws -> (Organization, User) {
        let organization = Organization(domainName: "acme", name: "Acme", regions: ["us-west-2", "eu-west-1"], createdAt: now)
        let user = User(organizationID: organization.id, username: "wile", passwordHash: "$2b$04$hash", isAdmin: true, createdAt: now)
        try await stores.directory.createOrganization(organization, admin: user)
        return (organization, user)
    }

    @Test("records read back exactly as written; migrations run once")
    func roundTrip() async throws {
        try await Self.withStorage { storage, reference in
            let (organization, user) = try await Self.seed(storage.stores)
            #expect(try await storage.stores.directory.organization(domainName: "acme") == organization)
            #expect(try await storage.stores.directory.organization(id: organization.id) == organization)
            #expect(try await storage.stores.directory.user(username: "wile") == user)
            #expect(try await storage.stores.directory.organizationCount() == 1)
            // A second process opening the same file migrates nothing and sees the same data.
            let second = try await SQLStorage.open(reference, logger: Logger(label: "test"))
            #expect(try await second.stores.directory.user(id: user.id) == user)
            try await second.close()
        }
    }

    @Test("unique names are enforced: organizations, users, key names per user")
    func uniqueness() async throws {
        try await Self.withStorage { storage, _ in
            let (organization, user) = try await Self.seed(storage.stores)
            let again = Organization(domainName: "acme", name: "Other", createdAt: Self.now)
            await #expect(throws: DuplicateRecordError.self) { try await storage.stores.directory.createOrganization(again, admin: nil) }
            let twin = User(organizationID: organization.id, username: "wile", passwordHash: "x", isAdmin: false, createdAt: Self.now)
            await #expect(throws: DuplicateRecordError.self) { try await storage.stores.directory.createUser(twin) }
            let key = PublicKeyRecord(userID: user.id, name: "primary", algorithm: .es256, publicKeyPEM: "pem", fingerprint: "f", origin: .uploaded, createdAt: Self.now)
            try await storage.stores.keys.insert(key)
            let clash = PublicKeyRecord(userID: user.id, name: "primary", algorithm: .rs256, publicKeyPEM: "pem2", fingerprint: "g", origin: .generated, createdAt: Self.now)
            await #expect(throws: DuplicateRecordError.self) { try await storage.stores.keys.insert(clash) }
        }
    }

    @Test("an organization whose admin cannot be made is not made either (one transaction)")
    func atomicOrganization() async throws {
        try await Self.withStorage { storage, _ in
            let (_, _) = try await Self.seed(storage.stores)
            let other = Organization(domainName: "roadrunner", name: "RR", createdAt: Self.now)
            let duplicateAdmin = User(organizationID: other.id, username: "wile", passwordHash: "x", isAdmin: true, createdAt: Self.now)
            await #expect(throws: DuplicateRecordError.self) { try await storage.stores.directory.createOrganization(other, admin: duplicateAdmin) }
            #expect(try await storage.stores.directory.organization(domainName: "roadrunner") == nil)
        }
    }

    @Test("the signing key lookup finds (org by domain or id, user, key name) and nothing else")
    func signingKeyLookup() async throws {
        try await Self.withStorage { storage, _ in
            let (organization, user) = try await Self.seed(storage.stores)
            let key = PublicKeyRecord(userID: user.id, name: "primary", algorithm: .edDSA, publicKeyPEM: "pem", fingerprint: "f", origin: .uploaded, createdAt: Self.now)
            try await storage.stores.keys.insert(key)
            let byDomain = try await storage.stores.keys.signingKey(organization: "acme", username: "wile", keyName: "primary")
            #expect(byDomain?.key == key)
            #expect(byDomain?.user == user)
            #expect(byDomain?.organization == organization)
            let byID = try await storage.stores.keys.signingKey(organization: organization.id.uuidString.lowercased(), username: "wile", keyName: "primary")
            #expect(byID?.key == key)
            #expect(try await storage.stores.keys.signingKey(organization: "other", username: "wile", keyName: "primary") == nil)
            #expect(try await storage.stores.keys.signingKey(organization: "acme", username: "wile", keyName: "secondary") == nil)
            #expect(try await storage.stores.keys.delete(userID: user.id, name: "primary"))
            #expect(try await storage.stores.keys.delete(userID: user.id, name: "primary") == false)
            #expect(try await storage.stores.keys.signingKey(organization: "acme", username: "wile", keyName: "primary") == nil)
        }
    }

    @Test("PATs: lookup by hash, revocation keeps the first revocation time, only the owner revokes")
    func accessTokens() async throws {
        try await Self.withStorage { storage, _ in
            let (_, user) = try await Self.seed(storage.stores)
            let token = AccessToken(userID: user.id, name: "ci", environment: nil, secretHash: "abc", createdAt: Self.now, expiresAt: Self.now.addingTimeInterval(86_400))
            try await storage.stores.accessTokens.insert(token)
            #expect(try await storage.stores.accessTokens.accessToken(secretHash: "abc") == token)
            #expect(try await storage.stores.accessTokens.revoke(id: token.id, userID: UUID(), at: Self.now) == nil)
            let revoked = try await storage.stores.accessTokens.revoke(id: token.id, userID: user.id, at: Self.now.addingTimeInterval(10))
            #expect(revoked?.revokedAt == Self.now.addingTimeInterval(10))
            let again = try await storage.stores.accessTokens.revoke(id: token.id, userID: user.id, at: Self.now.addingTimeInterval(99))
            #expect(again?.revokedAt == Self.now.addingTimeInterval(10))
        }
    }

    @Test("first use is recorded once, even under concurrent attempts; expired entries are purged")
    func replay() async throws {
        try await Self.withStorage { storage, _ in
            let replay = storage.stores.replay
            let firsts = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 { group.addTask { try await replay.recordFirstUse(fingerprint: "t1", expiresAt: Self.now) } }
                return try await group.reduce(into: 0) { count, first in if first { count += 1 } }
            }
            #expect(firsts == 1)
            try await replay.purgeExpired(before: Self.now.addingTimeInterval(1))
            #expect(try await replay.recordFirstUse(fingerprint: "t1", expiresAt: Self.now))
        }
    }

    @Test("an unknown database reference is refused with a clear message")
    func badReference() async throws {
        await #expect(throws: TesseraError.self) { try await SQLStorage.open("mysql://x", logger: Logger(label: "test")) }
    }
}

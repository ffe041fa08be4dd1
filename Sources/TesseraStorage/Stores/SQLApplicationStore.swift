import Foundation
import SQLKit
import TesseraCore

/// OAuth applications on SQL; scopes are stored space-separated.
struct SQLApplicationStore: ApplicationStore {
    let backend: any SQLBackend

    func insert(_ application: ClientApplication) async throws {
        try await backend.transaction { db in
            try await db.raw("""
                INSERT INTO applications (id, organization_id, name, secret_hash, allowed_scopes, public_key_pem, key_algorithm, key_id, created_at)
                VALUES (\(bind: application.id), \(bind: application.organizationID.uuidString), \(bind: application.name),
                    \(bind: application.secretHash), \(bind: application.allowedScopes.joined(separator: " ")),
                    \(bind: application.publicKeyPEM), \(bind: application.keyAlgorithm?.rawValue), \(bind: application.keyID),
                    \(bind: application.createdAt.seconds))
                """).run()
        }
    }

    func application(id: String) async throws -> ClientApplication? {
        try await backend.read { db in
            try await db.raw("SELECT * FROM applications WHERE id = \(bind: id)").first().map { try Self.application($0) }
        }
    }

    func applications(organizationID: UUID) async throws -> [ClientApplication] {
        try await backend.read { db in
            try await db.raw("SELECT * FROM applications WHERE organization_id = \(bind: organizationID.uuidString) ORDER BY created_at, name")
                .all().map { try Self.application($0) }
        }
    }

    func rotateSecret(id: String, organizationID: UUID, secretHash: String, previousExpiresAt: Date?) async throws -> ClientApplication? {
        try await backend.transaction { db in
            let rows = try await db.raw("""
                UPDATE applications SET \(SecretRotationSQL.assignments(secretHash: secretHash, previousExpiresAt: previousExpiresAt))
                WHERE id = \(bind: id) AND organization_id = \(bind: organizationID.uuidString)
                RETURNING *
                """).all()
            guard let row = rows.first else { return nil }
            try await backend.announce(.application(id: id), in: db)
            return try Self.application(row)
        }
    }

    func delete(id: String, organizationID: UUID) async throws -> Bool {
        try await backend.transaction { db in
            try await backend.announce(.application(id: id), in: db)
            return !(try await db.raw("""
                DELETE FROM applications WHERE id = \(bind: id) AND organization_id = \(bind: organizationID.uuidString) RETURNING id
                """).all()).isEmpty
        }
    }

    static func application(_ row: any SQLRow) throws -> ClientApplication {
        let algorithmName = try row.optionalString("key_algorithm")
        return ClientApplication(
            id: try row.string("id"), organizationID: try row.uuid("organization_id"), name: try row.string("name"),
            secretHash: try row.string("secret_hash"),
            allowedScopes: try row.string("allowed_scopes").split(separator: " ").map(String.init),
            publicKeyPEM: try row.optionalString("public_key_pem"), keyAlgorithm: algorithmName.flatMap(SignatureAlgorithm.init(rawValue:)),
            keyID: try row.optionalString("key_id"), createdAt: try row.date("created_at"),
            previousSecretHash: try row.optionalString("previous_secret_hash"),
            previousSecretExpiresAt: try row.optionalDate("previous_secret_expires_at")
        )
    }
}

import Foundation
import SQLKit
import TesseraCore

/// The server's signing keys on SQL; the sealed private key is stored as base64 text.
struct SQLServerKeyStore: ServerKeyStore {
    let backend: any SQLBackend

    func rotate(to key: ServerSigningKey, retireAt: Date, verifyUntil: Date) async throws {
        try await backend.transaction { db in
            try await db.raw("""
                UPDATE server_signing_keys SET retired_at = \(bind: retireAt.seconds), verify_until = \(bind: verifyUntil.seconds)
                WHERE organization_id = \(bind: key.organizationID.uuidString) AND retired_at IS NULL
                """).run()
            try await db.raw("""
                INSERT INTO server_signing_keys (id, organization_id, algorithm, public_key_pem, sealed_private_key, created_at, retired_at, verify_until)
                VALUES (\(bind: key.id), \(bind: key.organizationID.uuidString), \(bind: key.algorithm.rawValue), \(bind: key.publicKeyPEM),
                    \(bind: Data(key.sealedPrivateKey).base64EncodedString()), \(bind: key.createdAt.seconds), NULL, NULL)
                """).run()
            try await backend.announce(.serverKeys(organizationID: key.organizationID), in: db)
        }
    }

    func activeKey(organizationID: UUID) async throws -> ServerSigningKey? {
        try await backend.read { db in
            try await db.raw("""
                SELECT * FROM server_signing_keys WHERE organization_id = \(bind: organizationID.uuidString) AND retired_at IS NULL
                ORDER BY created_at DESC
                """).first().map { try Self.key($0) }
        }
    }

    func publishedKeys(at date: Date) async throws -> [ServerSigningKey] {
        try await backend.read { db in
            try await db.raw("""
                SELECT * FROM server_signing_keys WHERE retired_at IS NULL OR verify_until > \(bind: date.seconds)
                ORDER BY organization_id, created_at DESC
                """).all().map { try Self.key($0) }
        }
    }

    func keys(organizationID: UUID) async throws -> [ServerSigningKey] {
        try await backend.read { db in
            try await db.raw("""
                SELECT * FROM server_signing_keys WHERE organization_id = \(bind: organizationID.uuidString)
                ORDER BY CASE WHEN retired_at IS NULL THEN 0 ELSE 1 END, created_at DESC, retired_at DESC
                """).all().map { try Self.key($0) }
        }
    }

    func key(id: String) async throws -> ServerSigningKey? {
        try await backend.read { db in
            try await db.raw("SELECT * FROM server_signing_keys WHERE id = \(bind: id)").first().map { try Self.key($0) }
        }
    }

    static func key(_ row: any SQLRow) throws -> ServerSigningKey {
        let algorithmName = try row.string("algorithm")
        guard let algorithm = SignatureAlgorithm(rawValue: algorithmName),
            let sealed = Data(base64Encoded: try row.string("sealed_private_key"))
        else {
            throw TesseraError(.internalFailure, "storage_corrupt", "server signing key row is unreadable (algorithm '\(algorithmName)')")
        }
        return ServerSigningKey(
            id: try row.string("id"), organizationID: try row.uuid("organization_id"), algorithm: algorithm,
            publicKeyPEM: try row.string("public_key_pem"), sealedPrivateKey: Array(sealed), createdAt: try row.date("created_at"),
            retiredAt: try row.optionalDate("retired_at"), verifyUntil: try row.optionalDate("verify_until")
        )
    }
}

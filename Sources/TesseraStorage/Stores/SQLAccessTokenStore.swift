import Foundation
import SQLKit
import TesseraCore

/// Personal access tokens on SQL.
struct SQLAccessTokenStore: AccessTokenStore {
    let backend: any SQLBackend

    func insert(_ token: AccessToken) async throws {
        try await backend.transaction { db in
            try await db.raw("""
                INSERT INTO access_tokens (id, user_id, name, environment, secret_hash, created_at, expires_at, revoked_at, last_used_at)
                VALUES (\(bind: token.id.uuidString), \(bind: token.userID.uuidString), \(bind: token.name), \(bind: token.environment),
                    \(bind: token.secretHash), \(bind: token.createdAt.seconds), \(bind: token.expiresAt.seconds),
                    \(bind: token.revokedAt?.seconds), \(bind: token.lastUsedAt?.seconds))
                """).run()
        }
    }

    func accessToken(secretHash: String) async throws -> AccessToken? {
        try await backend.read { db in
            try await db.raw("""
                SELECT * FROM access_tokens WHERE secret_hash = \(bind: secretHash) OR previous_secret_hash = \(bind: secretHash)
                """).first().map(Self.token)
        }
    }

    func accessTokens(userID: UUID) async throws -> [AccessToken] {
        try await backend.read { db in
            try await db.raw("SELECT * FROM access_tokens WHERE user_id = \(bind: userID.uuidString) ORDER BY created_at, name")
                .all().map(Self.token)
        }
    }

    func revoke(id: UUID, userID: UUID, at date: Date) async throws -> AccessToken? {
        try await backend.transaction { db in
            try await db.raw("""
                UPDATE access_tokens SET revoked_at = \(bind: date.seconds)
                WHERE id = \(bind: id.uuidString) AND user_id = \(bind: userID.uuidString) AND revoked_at IS NULL
                """).run()
            try await backend.announce(.accessToken(id: id), in: db)
            return try await db.raw("SELECT * FROM access_tokens WHERE id = \(bind: id.uuidString) AND user_id = \(bind: userID.uuidString)")
                .first().map(Self.token)
        }
    }

    func touch(id: UUID, at date: Date) async throws {
        try await backend.transaction { db in
            try await db.raw("UPDATE access_tokens SET last_used_at = \(bind: date.seconds) WHERE id = \(bind: id.uuidString)").run()
        }
    }

    func rotate(id: UUID, userID: UUID, secretHash: String, previousExpiresAt: Date?, at date: Date) async throws -> AccessToken? {
        try await backend.transaction { db in
            let rows = try await db.raw("""
                UPDATE access_tokens SET \(SecretRotationSQL.assignments(secretHash: secretHash, previousExpiresAt: previousExpiresAt))
                WHERE id = \(bind: id.uuidString) AND user_id = \(bind: userID.uuidString) AND revoked_at IS NULL
                    AND expires_at > \(bind: date.seconds)
                RETURNING *
                """).all()
            guard let row = rows.first else { return nil }
            try await backend.announce(.accessToken(id: id), in: db)
            return try Self.token(row)
        }
    }

    static func token(_ row: any SQLRow) throws -> AccessToken {
        AccessToken(
            id: try row.uuid("id"), userID: try row.uuid("user_id"), name: try row.string("name"),
            environment: try row.optionalString("environment"), secretHash: try row.string("secret_hash"),
            createdAt: try row.date("created_at"), expiresAt: try row.date("expires_at"),
            revokedAt: try row.optionalDate("revoked_at"), lastUsedAt: try row.optionalDate("last_used_at"),
            previousSecretHash: try row.optionalString("previous_secret_hash"),
            previousSecretExpiresAt: try row.optionalDate("previous_secret_expires_at")
        )
    }
}

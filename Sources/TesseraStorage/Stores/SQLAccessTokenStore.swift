import Foundation
import SQLKit
import TesseraCore

/// Personal access tokens on SQL.
struct SQLAccessTokenStore: AccessTokenStore {
    let backend: any SQLBackend

    func insert(_ token: AccessToken) async throws {
        try await backend.transaction { db in
            try await db.raw("""
                INSERT INTO access_tokens (id, user_id, name, environment, secret_hash, created_at, expires_at, revoked_at, last_used_at,
                    allowed_networks)
                VALUES (\(bind: token.id.uuidString), \(bind: token.userID.uuidString), \(bind: token.name), \(bind: token.environment),
                    \(bind: token.secretHash), \(bind: token.createdAt.seconds), \(bind: token.expiresAt.seconds),
                    \(bind: token.revokedAt?.seconds), \(bind: token.lastUsedAt?.seconds), \(bind: try Self.networksText(token.allowedNetworks)))
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

    func policy(organizationID: UUID) async throws -> PATPolicy {
        try await backend.read { db in
            guard let row = try await db.raw("SELECT * FROM pat_policies WHERE organization_id = \(bind: organizationID.uuidString)").first() else {
                return .unrestricted
            }
            return PATPolicy(
                maximumLifetimeDays: try row.decode(column: "max_lifetime_days", as: Int64?.self).map { Int($0) },
                expiryRequired: try row.bool("expiry_required")
            )
        }
    }

    func setPolicy(_ policy: PATPolicy, organizationID: UUID, at date: Date) async throws -> Int {
        try await backend.transaction { db in
            let maximum = policy.maximumLifetimeDays.map { Int64($0) }
            try await db.raw("""
                INSERT INTO pat_policies (organization_id, max_lifetime_days, expiry_required, updated_at)
                VALUES (\(bind: organizationID.uuidString), \(bind: maximum), \(bind: Int64(policy.expiryRequired ? 1 : 0)), \(bind: date.seconds))
                ON CONFLICT (organization_id) DO UPDATE SET max_lifetime_days = excluded.max_lifetime_days,
                    expiry_required = excluded.expiry_required, updated_at = excluded.updated_at
                """).run()
            guard let maximum else { return 0 }
            let longest = maximum * 86_400
            let shortened = try await db.raw("""
                UPDATE access_tokens SET expires_at = created_at + \(bind: longest)
                WHERE expires_at > created_at + \(bind: longest)
                    AND user_id IN (SELECT id FROM users WHERE organization_id = \(bind: organizationID.uuidString))
                RETURNING id
                """).all()
            for row in shortened { try await backend.announce(.accessToken(id: try row.uuid("id")), in: db) }
            return shortened.count
        }
    }

    /// A PAT's allowed networks as stored: a JSON array of canonical CIDR networks; NULL for any.
    static func networksText(_ networks: [ClientNetwork]) throws -> String? {
        networks.isEmpty ? nil : String(decoding: try JSONEncoder().encode(networks.map(\.description)), as: UTF8.self)
    }

    static func networks(_ text: String?) throws -> [ClientNetwork] {
        guard let text else { return [] }
        guard let texts = try? JSONDecoder().decode([String].self, from: Data(text.utf8)), let networks = try? ClientNetwork.list(texts) else {
            throw TesseraError(.internalFailure, "storage_corrupt", "access token row has allowed_networks '\(text)'")
        }
        return networks
    }

    static func token(_ row: any SQLRow) throws -> AccessToken {
        AccessToken(
            id: try row.uuid("id"), userID: try row.uuid("user_id"), name: try row.string("name"),
            environment: try row.optionalString("environment"), secretHash: try row.string("secret_hash"),
            createdAt: try row.date("created_at"), expiresAt: try row.date("expires_at"),
            revokedAt: try row.optionalDate("revoked_at"), lastUsedAt: try row.optionalDate("last_used_at"),
            previousSecretHash: try row.optionalString("previous_secret_hash"),
            previousSecretExpiresAt: try row.optionalDate("previous_secret_expires_at"),
            allowedNetworks: try networks(row.optionalString("allowed_networks"))
        )
    }
}

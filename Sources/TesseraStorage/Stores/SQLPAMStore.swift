import Foundation
import SQLKit
import TesseraCore

/// Credential providers and authentication tokens on SQL; sealed bytes as base64 text, times
/// in milliseconds.
struct SQLPAMStore: PAMStore {
    let backend: any SQLBackend

    func insert(_ provider: CredentialProvider) async throws {
        try await backend.transaction { db in
            let inserted = try await db.raw("""
                INSERT INTO credential_providers (id, organization_id, name, issuer, issuer_whitelist, default_validity, maximum_validity, created_at)
                VALUES (\(bind: provider.id), \(bind: provider.organizationID.uuidString), \(bind: provider.name), \(bind: provider.issuer),
                    \(bind: provider.issuerWhitelist.joined(separator: " ")), \(bind: Int64(provider.defaultValidity)),
                    \(bind: Int64(provider.maximumValidity)), \(bind: provider.createdAt.seconds))
                ON CONFLICT DO NOTHING RETURNING id
                """).all()
            guard !inserted.isEmpty else { throw DuplicateRecordError(what: "credential provider '\(provider.name)'") }
        }
    }

    func provider(identifier: String, organizationID: UUID) async throws -> CredentialProvider? {
        try await backend.read { db in
            try await db.raw("""
                SELECT * FROM credential_providers WHERE organization_id = \(bind: organizationID.uuidString)
                AND (id = \(bind: identifier) OR name = \(bind: identifier))
                """).first().map { try Self.provider($0) }
        }
    }

    func providers(organizationID: UUID) async throws -> [CredentialProvider] {
        try await backend.read { db in
            try await db.raw("SELECT * FROM credential_providers WHERE organization_id = \(bind: organizationID.uuidString) ORDER BY name")
                .all().map { try Self.provider($0) }
        }
    }

    func insert(_ token: AuthenticationToken) async throws {
        try await backend.transaction { db in
            try await db.raw("""
                INSERT INTO authentication_tokens (id, organization_id, credential_provider_id, creator_type, creator_id, consumer_type,
                    consumer_id, sealed_jwt, short_token_hash, sealed_short_token, revoked, create_time, update_time, expiration_time)
                VALUES (\(bind: token.id), \(bind: token.organizationID.uuidString), \(bind: token.credentialProviderID),
                    \(bind: token.creatorType), \(bind: token.creatorID), \(bind: token.consumerType), \(bind: token.consumerID),
                    \(bind: Data(token.sealedJWT).base64EncodedString()), \(bind: token.shortTokenHash),
                    \(bind: token.sealedShortToken.map { Data($0).base64EncodedString() }), \(bind: Int64(token.revoked ? 1 : 0)),
                    \(bind: token.createTime), \(bind: token.updateTime), \(bind: token.expirationTime))
                """).run()
        }
    }

    func token(id: String, organizationID: UUID?) async throws -> AuthenticationToken? {
        try await backend.read { db in
            let row: (any SQLRow)?
            if let organizationID {
                row = try await db.raw("SELECT * FROM authentication_tokens WHERE id = \(bind: id) AND organization_id = \(bind: organizationID.uuidString)").first()
            } else {
                row = try await db.raw("SELECT * FROM authentication_tokens WHERE id = \(bind: id)").first()
            }
            return try row.map { try Self.token($0) }
        }
    }

    func token(shortTokenHash: String, organizationID: UUID?) async throws -> AuthenticationToken? {
        try await backend.read { db in
            let row: (any SQLRow)?
            if let organizationID {
                row = try await db.raw("""
                    SELECT * FROM authentication_tokens WHERE short_token_hash = \(bind: shortTokenHash)
                    AND organization_id = \(bind: organizationID.uuidString)
                    """).first()
            } else {
                row = try await db.raw("SELECT * FROM authentication_tokens WHERE short_token_hash = \(bind: shortTokenHash)").first()
            }
            return try row.map { try Self.token($0) }
        }
    }

    func tokens(organizationID: UUID, query: AuthenticationTokenQuery) async throws -> (page: [AuthenticationToken], total: Int) {
        try await backend.read { db in
            var filter = SQLQueryString("organization_id = \(bind: organizationID.uuidString)")
            if let consumer = query.consumerID { filter = filter + SQLQueryString(" AND consumer_id = \(bind: consumer)") }
            if let provider = query.credentialProviderID { filter = filter + SQLQueryString(" AND credential_provider_id = \(bind: provider)") }
            if let revoked = query.revoked { filter = filter + SQLQueryString(" AND revoked = \(bind: Int64(revoked ? 1 : 0))") }
            if let expired = query.expired {
                filter = filter + (expired
                    ? SQLQueryString(" AND expiration_time <= \(bind: query.now)") : SQLQueryString(" AND expiration_time > \(bind: query.now)"))
            }
            let total = try await db.raw("SELECT COUNT(*) AS n FROM authentication_tokens WHERE " + filter).first()?.int("n") ?? 0
            var pageFilter = filter
            if let after = query.after { pageFilter = pageFilter + SQLQueryString(" AND id > \(bind: after)") }
            let rows = try await db.raw(
                "SELECT * FROM authentication_tokens WHERE " + pageFilter + SQLQueryString(" ORDER BY id LIMIT \(unsafeRaw: String(query.limit))")
            ).all()
            return (try rows.map { try Self.token($0) }, Int(total))
        }
    }

    func setRevoked(id: String, organizationID: UUID, revoked: Bool, at time: Int64) async throws -> AuthenticationToken? {
        try await backend.transaction { db in
            try await db.raw("""
                UPDATE authentication_tokens SET revoked = \(bind: Int64(revoked ? 1 : 0)), update_time = \(bind: time)
                WHERE id = \(bind: id) AND organization_id = \(bind: organizationID.uuidString)
                """).run()
            try await backend.announce(.authenticationTokens(organizationID: organizationID), in: db)
            return try await db.raw("SELECT * FROM authentication_tokens WHERE id = \(bind: id) AND organization_id = \(bind: organizationID.uuidString)")
                .first().map { try Self.token($0) }
        }
    }

    func setRevoked(consumerID: String, organizationID: UUID, revoked: Bool, at time: Int64) async throws -> Int {
        try await backend.transaction { db in
            try await backend.announce(.authenticationTokens(organizationID: organizationID), in: db)
            return try await db.raw("""
                UPDATE authentication_tokens SET revoked = \(bind: Int64(revoked ? 1 : 0)), update_time = \(bind: time)
                WHERE consumer_id = \(bind: consumerID) AND organization_id = \(bind: organizationID.uuidString)
                    AND revoked = \(bind: Int64(revoked ? 0 : 1))
                RETURNING id
                """).all().count
        }
    }

    static func provider(_ row: any SQLRow) throws -> CredentialProvider {
        CredentialProvider(
            id: try row.string("id"), organizationID: try row.uuid("organization_id"), name: try row.string("name"),
            issuer: try row.string("issuer"), issuerWhitelist: try row.string("issuer_whitelist").split(separator: " ").map(String.init),
            defaultValidity: Int(try row.int("default_validity")), maximumValidity: Int(try row.int("maximum_validity")),
            createdAt: try row.date("created_at")
        )
    }

    static func token(_ row: any SQLRow) throws -> AuthenticationToken {
        guard let jwt = Data(base64Encoded: try row.string("sealed_jwt")) else {
            throw TesseraError(.internalFailure, "storage_corrupt", "authentication token row has an unreadable sealed JWT")
        }
        return AuthenticationToken(
            id: try row.string("id"), organizationID: try row.uuid("organization_id"), credentialProviderID: try row.string("credential_provider_id"),
            creatorType: try row.string("creator_type"), creatorID: try row.string("creator_id"), consumerType: try row.string("consumer_type"),
            consumerID: try row.string("consumer_id"), sealedJWT: Array(jwt), shortTokenHash: try row.optionalString("short_token_hash"),
            sealedShortToken: try row.optionalString("sealed_short_token").flatMap { Data(base64Encoded: $0) }.map(Array.init),
            revoked: try row.bool("revoked"), createTime: try row.int("create_time"), updateTime: try row.int("update_time"),
            expirationTime: try row.int("expiration_time")
        )
    }
}

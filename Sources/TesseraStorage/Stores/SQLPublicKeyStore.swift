import Foundation
import SQLKit
import TesseraCore

/// Public keys on SQL.
struct SQLPublicKeyStore: PublicKeyStore {
    let backend: any SQLBackend

    func insert(_ key: PublicKeyRecord) async throws {
        try await backend.transaction { db in
            let inserted = try await db.raw("""
                INSERT INTO public_keys (id, user_id, name, algorithm, public_key_pem, fingerprint, origin, created_at, last_used_at)
                VALUES (\(bind: key.id.uuidString), \(bind: key.userID.uuidString), \(bind: key.name), \(bind: key.algorithm.rawValue),
                    \(bind: key.publicKeyPEM), \(bind: key.fingerprint), \(bind: key.origin.rawValue), \(bind: key.createdAt.seconds),
                    \(bind: key.lastUsedAt?.seconds))
                ON CONFLICT DO NOTHING RETURNING id
                """).all()
            guard !inserted.isEmpty else { throw DuplicateRecordError(what: "key '\(key.name)'") }
        }
    }

    func key(userID: UUID, name: String) async throws -> PublicKeyRecord? {
        try await backend.read { db in
            try await db.raw("SELECT * FROM public_keys WHERE user_id = \(bind: userID.uuidString) AND name = \(bind: name)")
                .first().map { try Self.key($0) }
        }
    }

    func keys(userID: UUID) async throws -> [PublicKeyRecord] {
        try await backend.read { db in
            try await db.raw("SELECT * FROM public_keys WHERE user_id = \(bind: userID.uuidString) ORDER BY created_at, name")
                .all().map { try Self.key($0) }
        }
    }

    func delete(userID: UUID, name: String) async throws -> Bool {
        try await backend.transaction { db in
            let deleted = try await db.raw("""
                DELETE FROM public_keys WHERE user_id = \(bind: userID.uuidString) AND name = \(bind: name) RETURNING id
                """).all()
            for row in deleted {
                try await backend.announce(.publicKey(id: try row.uuid("id")), in: db)
            }
            return !deleted.isEmpty
        }
    }

    func touch(id: UUID, at date: Date) async throws {
        try await backend.transaction { db in
            try await db.raw("UPDATE public_keys SET last_used_at = \(bind: date.seconds) WHERE id = \(bind: id.uuidString)").run()
        }
    }

    func signingKey(organization: String, username: String, keyName: String) async throws -> SigningKeyLookup? {
        try await backend.read { db in
            guard let row = try await db.raw("""
                SELECT k.*,
                    u.id AS u_id, u.organization_id AS u_organization_id, u.username AS u_username,
                    u.password_hash AS u_password_hash, u.is_admin AS u_is_admin, u.created_at AS u_created_at,
                    u.disabled_at AS u_disabled_at,
                    o.id AS o_id, o.domain_name AS o_domain_name, o.name AS o_name, o.description AS o_description,
                    o.private_pods AS o_private_pods, o.idp_enabled AS o_idp_enabled, o.erp AS o_erp, o.bank_name AS o_bank_name,
                    o.regions AS o_regions, o.platform AS o_platform, o.operating_mode AS o_operating_mode,
                    o.activation_state AS o_activation_state, o.created_at AS o_created_at
                FROM public_keys k
                JOIN users u ON u.id = k.user_id
                JOIN organizations o ON o.id = u.organization_id
                WHERE k.name = \(bind: keyName) AND u.username = \(bind: username)
                    AND (o.domain_name = \(bind: organization) OR o.id = \(bind: organization.uppercased()))
                """).first()
            else { return nil }
            return SigningKeyLookup(
                organization: try SQLDirectoryStore.organization(row, prefix: "o_"),
                user: try SQLDirectoryStore.user(row, prefix: "u_"),
                key: try Self.key(row)
            )
        }
    }

    static func key(_ row: any SQLRow) throws -> PublicKeyRecord {
        let algorithmName = try row.string("algorithm")
        let originName = try row.string("origin")
        guard let algorithm = SignatureAlgorithm(rawValue: algorithmName), let origin = PublicKeyRecord.Origin(rawValue: originName) else {
            throw TesseraError(.internalFailure, "storage_corrupt", "key row has algorithm '\(algorithmName)', origin '\(originName)'")
        }
        return PublicKeyRecord(
            id: try row.uuid("id"), userID: try row.uuid("user_id"), name: try row.string("name"), algorithm: algorithm,
            publicKeyPEM: try row.string("public_key_pem"), fingerprint: try row.string("fingerprint"), origin: origin,
            createdAt: try row.date("created_at"), lastUsedAt: try row.optionalDate("last_used_at")
        )
    }
}

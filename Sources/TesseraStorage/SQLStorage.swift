import Foundation
import Logging
import SQLKit
import TesseraCore

/// Opens a database by URL-ish reference, migrates it, and builds Tessera's stores on it.
public struct SQLStorage: Sendable {
    public let backend: any SQLBackend
    public let stores: Stores
    /// The wrapped data key the master key opens (`DataKeyVault`).
    public var dataKeys: any DataKeyStore { SQLDataKeyStore(backend: backend) }

    /// `reference` is `sqlite:PATH` (or a bare path ending in `.sqlite`/`.db`) or a PostgreSQL
    /// URL, `postgres://USER:PASSWORD@HOST:PORT/DATABASE` (also `postgresql://`).
    public static func open(_ reference: String, logger: Logger) async throws -> SQLStorage {
        let backend: any SQLBackend
        if reference.hasPrefix("sqlite:") {
            backend = try await SQLiteBackend.open(path: String(reference.dropFirst("sqlite:".count)), logger: logger)
        } else if reference.hasPrefix("postgres:") || reference.hasPrefix("postgresql:") || reference.hasPrefix("postgres+")
            || reference.hasPrefix("postgresql+")
        {
            backend = try await PostgresBackend.open(url: reference, logger: logger)
        } else if reference.hasSuffix(".sqlite") || reference.hasSuffix(".db") {
            backend = try await SQLiteBackend.open(path: reference, logger: logger)
        } else {
            throw TesseraError(
                .invalidRequest, "database_invalid",
                "database must be sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE (got '\(PostgresBackend.redacted(reference))')"
            )
        }
        do {
            try await Migrations.run(on: backend)
        } catch {
            try? await backend.close()
            throw error
        }
        return SQLStorage(backend: backend)
    }

    public init(backend: any SQLBackend) {
        self.backend = backend
        let keys = SQLPublicKeyStore(backend: backend)
        self.stores = Stores(
            directory: SQLDirectoryStore(backend: backend),
            accessTokens: SQLAccessTokenStore(backend: backend),
            keys: keys,
            replay: SQLReplayStore(backend: backend),
            serverKeys: SQLServerKeyStore(backend: backend),
            applications: SQLApplicationStore(backend: backend),
            pam: SQLPAMStore(backend: backend),
            audit: SQLAuditStore(backend: backend),
            tr50: SQLTR50Store(backend: backend),
            consoleSessions: SQLConsoleSessionStore(backend: backend)
        )
    }

    public func close() async throws { try await backend.close() }
}

extension Date {
    var seconds: Int64 { Int64(timeIntervalSince1970.rounded(.down)) }
    init(seconds: Int64) { self.init(timeIntervalSince1970: TimeInterval(seconds)) }
}

extension SQLRow {
    func string(_ column: String) throws -> String { try decode(column: column, as: String.self) }
    func optionalString(_ column: String) throws -> String? { try decode(column: column, as: String?.self) }
    func int(_ column: String) throws -> Int64 { try decode(column: column, as: Int64.self) }
    func bool(_ column: String) throws -> Bool { try int(column) != 0 }
    func date(_ column: String) throws -> Date { Date(seconds: try int(column)) }
    func optionalDate(_ column: String) throws -> Date? { try decode(column: column, as: Int64?.self).map(Date.init(seconds:)) }
    func uuid(_ column: String) throws -> UUID {
        let text = try string(column)
        guard let id = UUID(uuidString: text) else {
            throw TesseraError(.internalFailure, "storage_corrupt", "column \(column) holds '\(text)', not a UUID")
        }
        return id
    }
}

/// Organizations and users on SQL.
struct SQLDirectoryStore: DirectoryStore {
    let backend: any SQLBackend

    func createOrganization(_ organization: Organization, admin: User?) async throws {
        try await backend.transaction { db in
            let regions = String(decoding: try JSONEncoder().encode(organization.regions), as: UTF8.self)
            let inserted = try await db.raw("""
                INSERT INTO organizations (id, domain_name, name, description, private_pods, idp_enabled, erp, bank_name,
                    regions, platform, operating_mode, activation_state, created_at)
                VALUES (\(bind: organization.id.uuidString), \(bind: organization.domainName), \(bind: organization.name),
                    \(bind: organization.description), \(bind: Int64(organization.privatePods ? 1 : 0)),
                    \(bind: Int64(organization.idpEnabled ? 1 : 0)), \(bind: organization.erp), \(bind: organization.bankName),
                    \(bind: regions), \(bind: organization.platform), \(bind: organization.operatingMode),
                    \(bind: organization.activationState), \(bind: organization.createdAt.seconds))
                ON CONFLICT DO NOTHING RETURNING id
                """).all()
            guard !inserted.isEmpty else { throw DuplicateRecordError(what: "organization '\(organization.domainName)'") }
            if let admin { try await Self.insertUser(admin, db) }
        }
    }

    func createUser(_ user: User) async throws {
        try await backend.transaction { db in try await Self.insertUser(user, db) }
    }

    private static func insertUser(_ user: User, _ db: any SQLDatabase) async throws {
        let inserted = try await db.raw("""
            INSERT INTO users (id, organization_id, username, password_hash, is_admin, created_at)
            VALUES (\(bind: user.id.uuidString), \(bind: user.organizationID.uuidString), \(bind: user.username),
                \(bind: user.passwordHash), \(bind: Int64(user.isAdmin ? 1 : 0)), \(bind: user.createdAt.seconds))
            ON CONFLICT DO NOTHING RETURNING id
            """).all()
        guard !inserted.isEmpty else { throw DuplicateRecordError(what: "user '\(user.username)'") }
    }

    func organization(id: UUID) async throws -> Organization? {
        try await backend.read { db in
            try await db.raw("SELECT * FROM organizations WHERE id = \(bind: id.uuidString)").first().map { try Self.organization($0) }
        }
    }

    func organization(domainName: String) async throws -> Organization? {
        try await backend.read { db in
            try await db.raw("SELECT * FROM organizations WHERE domain_name = \(bind: domainName)").first().map { try Self.organization($0) }
        }
    }

    func organizationCount() async throws -> Int {
        try await backend.read { db in
            Int(try await db.raw("SELECT COUNT(*) AS n FROM organizations").first()?.int("n") ?? 0)
        }
    }

    func listOrganizations() async throws -> [Organization] {
        try await backend.read { db in
            try await db.raw("SELECT * FROM organizations ORDER BY domain_name").all().map { try Self.organization($0) }
        }
    }

    func user(username: String) async throws -> User? {
        try await backend.read { db in
            try await db.raw("SELECT * FROM users WHERE username = \(bind: username)").first().map { try Self.user($0) }
        }
    }

    func user(id: UUID) async throws -> User? {
        try await backend.read { db in
            try await db.raw("SELECT * FROM users WHERE id = \(bind: id.uuidString)").first().map { try Self.user($0) }
        }
    }

    func listUsers(organizationID: UUID) async throws -> [User] {
        try await backend.read { db in
            try await db.raw("SELECT * FROM users WHERE organization_id = \(bind: organizationID.uuidString) ORDER BY username")
                .all().map { try Self.user($0) }
        }
    }

    func setPasswordHash(userID: UUID, passwordHash: String) async throws {
        try await backend.transaction { db in
            try await db.raw("UPDATE users SET password_hash = \(bind: passwordHash) WHERE id = \(bind: userID.uuidString)").run()
        }
    }

    static func organization(_ row: any SQLRow, prefix: String = "") throws -> Organization {
        let regionsText = try row.string(prefix + "regions")
        let regions = (try? JSONDecoder().decode([String].self, from: Data(regionsText.utf8))) ?? []
        return Organization(
            id: try row.uuid(prefix + "id"), domainName: try row.string(prefix + "domain_name"), name: try row.string(prefix + "name"),
            description: try row.string(prefix + "description"), privatePods: try row.bool(prefix + "private_pods"),
            idpEnabled: try row.bool(prefix + "idp_enabled"), erp: try row.string(prefix + "erp"),
            bankName: try row.string(prefix + "bank_name"), regions: regions, platform: try row.string(prefix + "platform"),
            operatingMode: try row.string(prefix + "operating_mode"), activationState: try row.string(prefix + "activation_state"),
            createdAt: try row.date(prefix + "created_at")
        )
    }

    static func user(_ row: any SQLRow, prefix: String = "") throws -> User {
        User(
            id: try row.uuid(prefix + "id"), organizationID: try row.uuid(prefix + "organization_id"),
            username: try row.string(prefix + "username"), passwordHash: try row.string(prefix + "password_hash"),
            isAdmin: try row.bool(prefix + "is_admin"), createdAt: try row.date(prefix + "created_at")
        )
    }
}

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
            try await db.raw("SELECT * FROM access_tokens WHERE secret_hash = \(bind: secretHash)").first().map(Self.token)
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

    static func token(_ row: any SQLRow) throws -> AccessToken {
        AccessToken(
            id: try row.uuid("id"), userID: try row.uuid("user_id"), name: try row.string("name"),
            environment: try row.optionalString("environment"), secretHash: try row.string("secret_hash"),
            createdAt: try row.date("created_at"), expiresAt: try row.date("expires_at"),
            revokedAt: try row.optionalDate("revoked_at"), lastUsedAt: try row.optionalDate("last_used_at")
        )
    }
}

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

/// Single-use token fingerprints on SQL; the primary key makes first use atomic.
struct SQLReplayStore: ReplayStore {
    let backend: any SQLBackend

    func recordFirstUse(fingerprint: String, expiresAt: Date) async throws -> Bool {
        try await backend.transaction { db in
            let inserted = try await db.raw("""
                INSERT INTO used_tokens (fingerprint, expires_at) VALUES (\(bind: fingerprint), \(bind: expiresAt.seconds))
                ON CONFLICT (fingerprint) DO NOTHING RETURNING fingerprint
                """).all()
            return !inserted.isEmpty
        }
    }

    func contains(fingerprint: String) async throws -> Bool {
        try await backend.read { db in
            try await db.raw("SELECT fingerprint FROM used_tokens WHERE fingerprint = \(bind: fingerprint)").first() != nil
        }
    }

    func purgeExpired(before date: Date) async throws {
        try await backend.transaction { db in
            try await db.raw("DELETE FROM used_tokens WHERE expires_at < \(bind: date.seconds)").run()
        }
    }
}

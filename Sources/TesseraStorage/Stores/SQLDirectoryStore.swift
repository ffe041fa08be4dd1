import Foundation
import SQLKit
import TesseraCore

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

    func deleteUser(id: UUID) async throws -> Bool {
        try await backend.transaction { db in
            try await !db.raw("DELETE FROM users WHERE id = \(bind: id.uuidString) RETURNING id").all().isEmpty
        }
    }

    func setPasswordHash(userID: UUID, passwordHash: String) async throws {
        try await backend.transaction { db in
            try await db.raw("UPDATE users SET password_hash = \(bind: passwordHash) WHERE id = \(bind: userID.uuidString)").run()
        }
    }

    func setDisabled(userID: UUID, at date: Date?) async throws -> Bool {
        try await backend.transaction { db in
            let changed = try await db.raw("""
                UPDATE users SET disabled_at = \(bind: date.map(\.seconds)) WHERE id = \(bind: userID.uuidString) RETURNING id
                """).all()
            guard !changed.isEmpty else { return false }
            try await backend.announce(.user(id: userID), in: db)
            return true
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
            isAdmin: try row.bool(prefix + "is_admin"), createdAt: try row.date(prefix + "created_at"),
            disabledAt: try row.optionalDate(prefix + "disabled_at")
        )
    }
}

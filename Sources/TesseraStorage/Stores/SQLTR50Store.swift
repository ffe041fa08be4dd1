import Foundation
import SQLKit
import TesseraCore

/// TR50 roles, things, sessions, login failures and API log on SQL; lists as JSON text.
struct SQLTR50Store: TR50Store {
    let backend: any SQLBackend

    static func list(_ values: [String]) -> String { String(decoding: (try? JSONEncoder().encode(values)) ?? Data("[]".utf8), as: UTF8.self) }
    static func list(_ row: any SQLRow, _ column: String) throws -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data(try row.string(column).utf8))) ?? []
    }

    func upsertRole(_ role: Role, create: Bool) async throws -> Bool {
        try await backend.transaction { db in
            try await backend.announce(.tr50Role(organizationID: role.organizationID, key: role.key), in: db)
            if create {
                return !(try await db.raw("""
                    INSERT INTO tr50_roles (organization_id, role_key, commands, view_tags, update_tags)
                    VALUES (\(bind: role.organizationID.uuidString), \(bind: role.key), \(bind: Self.list(role.commands)),
                        \(bind: Self.list(role.viewTags)), \(bind: Self.list(role.updateTags)))
                    ON CONFLICT DO NOTHING RETURNING role_key
                    """).all()).isEmpty
            }
            return !(try await db.raw("""
                UPDATE tr50_roles SET commands = \(bind: Self.list(role.commands)), view_tags = \(bind: Self.list(role.viewTags)),
                    update_tags = \(bind: Self.list(role.updateTags))
                WHERE organization_id = \(bind: role.organizationID.uuidString) AND role_key = \(bind: role.key) RETURNING role_key
                """).all()).isEmpty
        }
    }

    func role(key: String, organizationID: UUID) async throws -> Role? {
        try await backend.read { db in
            try await db.raw("SELECT * FROM tr50_roles WHERE organization_id = \(bind: organizationID.uuidString) AND role_key = \(bind: key)")
                .first().map { try Self.role($0) }
        }
    }

    func roles(organizationID: UUID) async throws -> [Role] {
        try await backend.read { db in
            try await db.raw("SELECT * FROM tr50_roles WHERE organization_id = \(bind: organizationID.uuidString) ORDER BY role_key")
                .all().map { try Self.role($0) }
        }
    }

    func deleteRole(key: String, organizationID: UUID) async throws -> Bool {
        try await backend.transaction { db in
            try await backend.announce(.tr50Role(organizationID: organizationID, key: key), in: db)
            return !(try await db.raw("""
                DELETE FROM tr50_roles WHERE organization_id = \(bind: organizationID.uuidString) AND role_key = \(bind: key) RETURNING role_key
                """).all()).isEmpty
        }
    }

    func insertThing(_ thing: Thing) async throws -> Bool {
        try await backend.transaction { db in
            !(try await db.raw("""
                INSERT INTO tr50_things (id, organization_id, thing_key, name, tags, security_tags, created_at, updated_at)
                VALUES (\(bind: thing.id), \(bind: thing.organizationID.uuidString), \(bind: thing.key), \(bind: thing.name),
                    \(bind: Self.list(thing.tags)), \(bind: Self.list(thing.securityTags)), \(bind: thing.createdAt.seconds), \(bind: thing.updatedAt.seconds))
                ON CONFLICT DO NOTHING RETURNING id
                """).all()).isEmpty
        }
    }

    func updateThing(_ thing: Thing) async throws {
        try await backend.transaction { db in
            try await db.raw("""
                UPDATE tr50_things SET name = \(bind: thing.name), tags = \(bind: Self.list(thing.tags)),
                    security_tags = \(bind: Self.list(thing.securityTags)), updated_at = \(bind: thing.updatedAt.seconds)
                WHERE id = \(bind: thing.id) AND organization_id = \(bind: thing.organizationID.uuidString)
                """).run()
        }
    }

    func thing(keyOrID: String, organizationID: UUID) async throws -> Thing? {
        try await backend.read { db in
            try await db.raw("""
                SELECT * FROM tr50_things WHERE organization_id = \(bind: organizationID.uuidString)
                AND (thing_key = \(bind: keyOrID) OR id = \(bind: keyOrID))
                """).first().map { try Self.thing($0) }
        }
    }

    func things(organizationID: UUID) async throws -> [Thing] {
        try await backend.read { db in
            try await db.raw("SELECT * FROM tr50_things WHERE organization_id = \(bind: organizationID.uuidString) ORDER BY thing_key")
                .all().map { try Self.thing($0) }
        }
    }

    func deleteThing(id: String, organizationID: UUID) async throws -> Bool {
        try await backend.transaction { db in
            !(try await db.raw("""
                DELETE FROM tr50_things WHERE organization_id = \(bind: organizationID.uuidString) AND id = \(bind: id) RETURNING id
                """).all()).isEmpty
        }
    }

    func insertSession(_ session: TR50Session) async throws {
        try await backend.transaction { db in
            try await db.raw("""
                INSERT INTO tr50_sessions (id_hash, user_id, organization_id, created_at, expires_at)
                VALUES (\(bind: session.idHash), \(bind: session.userID.uuidString), \(bind: session.organizationID.uuidString),
                    \(bind: session.createdAt.seconds), \(bind: session.expiresAt.seconds))
                """).run()
        }
    }

    func session(idHash: String) async throws -> TR50Session? {
        try await backend.read { db in
            try await db.raw("SELECT * FROM tr50_sessions WHERE id_hash = \(bind: idHash)").first().map { row in
                TR50Session(
                    idHash: try row.string("id_hash"), userID: try row.uuid("user_id"), organizationID: try row.uuid("organization_id"),
                    createdAt: try row.date("created_at"), expiresAt: try row.date("expires_at")
                )
            }
        }
    }

    func deleteSession(idHash: String) async throws {
        try await backend.transaction { db in try await db.raw("DELETE FROM tr50_sessions WHERE id_hash = \(bind: idHash)").run() }
    }

    func recordLoginFailure(username: String, at date: Date) async throws {
        try await backend.transaction { db in
            try await db.raw("INSERT INTO tr50_login_failures (username, failed_at) VALUES (\(bind: username), \(bind: date.seconds))").run()
        }
    }

    func loginFailures(username: String, since date: Date) async throws -> [Date] {
        try await backend.read { db in
            try await db.raw("""
                SELECT failed_at FROM tr50_login_failures WHERE username = \(bind: username) AND failed_at >= \(bind: date.seconds) ORDER BY failed_at
                """).all().map { try $0.date("failed_at") }
        }
    }

    func clearLoginFailures(username: String) async throws {
        try await backend.transaction { db in try await db.raw("DELETE FROM tr50_login_failures WHERE username = \(bind: username)").run() }
    }

    func insertAppToken(hash: String, organizationID: UUID, roleKey: String, at date: Date) async throws {
        try await backend.transaction { db in
            try await db.raw("""
                INSERT INTO tr50_app_tokens (token_hash, organization_id, role_key, created_at)
                VALUES (\(bind: hash), \(bind: organizationID.uuidString), \(bind: roleKey), \(bind: date.seconds))
                """).run()
        }
    }

    func appToken(hash: String) async throws -> (organizationID: UUID, roleKey: String)? {
        try await backend.read { db in
            guard let row = try await db.raw("SELECT * FROM tr50_app_tokens WHERE token_hash = \(bind: hash)").first() else { return nil }
            return (try row.uuid("organization_id"), try row.string("role_key"))
        }
    }

    func bindThing(id: String, appID: String) async throws -> String {
        try await backend.transaction { db in
            try await db.raw("UPDATE tr50_things SET app_id = \(bind: appID) WHERE id = \(bind: id) AND app_id IS NULL").run()
            return try await db.raw("SELECT app_id FROM tr50_things WHERE id = \(bind: id)").first()?.optionalString("app_id") ?? appID
        }
    }

    func insertAppSession(_ session: TR50AppSession) async throws {
        try await backend.transaction { db in
            try await db.raw("""
                INSERT INTO tr50_app_sessions (id_hash, organization_id, role_key, app_id, thing_key, expires_at)
                VALUES (\(bind: session.idHash), \(bind: session.organizationID.uuidString), \(bind: session.roleKey), \(bind: session.appID),
                    \(bind: session.thingKey), \(bind: session.expiresAt.seconds))
                """).run()
        }
    }

    func appSession(idHash: String) async throws -> TR50AppSession? {
        try await backend.read { db in
            try await db.raw("SELECT * FROM tr50_app_sessions WHERE id_hash = \(bind: idHash)").first().map { row in
                TR50AppSession(
                    idHash: try row.string("id_hash"), organizationID: try row.uuid("organization_id"), roleKey: try row.string("role_key"),
                    appID: try row.string("app_id"), thingKey: try row.string("thing_key"), expiresAt: try row.date("expires_at")
                )
            }
        }
    }

    func appendLog(_ entry: APILogEntry) async throws {
        try await backend.transaction { db in
            try await db.raw("""
                INSERT INTO tr50_api_log (id, organization_id, occurred_at, command, success, error_code, who_am_i)
                VALUES (\(bind: entry.id), \(bind: entry.organizationID.uuidString), \(bind: entry.occurredAt), \(bind: entry.command),
                    \(bind: Int64(entry.success ? 1 : 0)), \(bind: entry.errorCode.map(Int64.init)), \(bind: entry.whoAmI))
                """).run()
        }
    }

    func log(organizationID: UUID, whoAmI: String?, limit: Int, offset: Int) async throws -> [APILogEntry] {
        try await backend.read { db in
            var filter = SQLQueryString("organization_id = \(bind: organizationID.uuidString)")
            if let whoAmI { filter = filter + SQLQueryString(" AND who_am_i = \(bind: whoAmI)") }
            return try await db.raw(
                "SELECT * FROM tr50_api_log WHERE " + filter
                    + SQLQueryString(" ORDER BY id DESC LIMIT \(unsafeRaw: String(limit)) OFFSET \(unsafeRaw: String(offset))")
            ).all().map { row in
                APILogEntry(
                    id: try row.string("id"), organizationID: try row.uuid("organization_id"), occurredAt: try row.int("occurred_at"),
                    command: try row.string("command"), success: try row.bool("success"),
                    errorCode: try row.decode(column: "error_code", as: Int64?.self).map(Int.init), whoAmI: try row.string("who_am_i")
                )
            }
        }
    }

    static func role(_ row: any SQLRow) throws -> Role {
        Role(
            organizationID: try row.uuid("organization_id"), key: try row.string("role_key"), commands: try list(row, "commands"),
            viewTags: try list(row, "view_tags"), updateTags: try list(row, "update_tags")
        )
    }

    static func thing(_ row: any SQLRow) throws -> Thing {
        Thing(
            organizationID: try row.uuid("organization_id"), id: try row.string("id"), key: try row.string("thing_key"),
            name: try row.string("name"), tags: try list(row, "tags"), securityTags: try list(row, "security_tags"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at")
        )
    }
}

import Foundation
import SQLKit
import TesseraCore

/// Web console sessions on SQL.
struct SQLConsoleSessionStore: ConsoleSessionStore {
    let backend: any SQLBackend

    func insert(_ session: ConsoleSession) async throws {
        try await backend.transaction { db in
            try await db.raw("""
                INSERT INTO console_sessions (id_hash, user_id, created_at, expires_at)
                VALUES (\(bind: session.idHash), \(bind: session.userID.uuidString), \(bind: session.createdAt.seconds), \(bind: session.expiresAt.seconds))
                """).run()
        }
    }

    func session(idHash: String) async throws -> ConsoleSession? {
        try await backend.read { db in
            try await db.raw("SELECT * FROM console_sessions WHERE id_hash = \(bind: idHash)").first().map { row in
                ConsoleSession(
                    idHash: try row.string("id_hash"), userID: try row.uuid("user_id"), createdAt: try row.date("created_at"),
                    expiresAt: try row.date("expires_at")
                )
            }
        }
    }

    func delete(idHash: String) async throws {
        try await backend.transaction { db in
            try await db.raw("DELETE FROM console_sessions WHERE id_hash = \(bind: idHash)").run()
        }
    }

    func deleteSessions(userID: UUID, keeping idHash: String?) async throws {
        try await backend.transaction { db in
            try await db.raw("""
                DELETE FROM console_sessions WHERE user_id = \(bind: userID.uuidString) AND id_hash <> \(bind: idHash ?? "")
                """).run()
        }
    }

    func purgeExpired(before date: Date) async throws {
        try await backend.transaction { db in
            try await db.raw("DELETE FROM console_sessions WHERE expires_at <= \(bind: date.seconds)").run()
        }
    }
}

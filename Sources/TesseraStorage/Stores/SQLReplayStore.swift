import Foundation
import SQLKit
import TesseraCore

/// Single-use token fingerprints on SQL; the primary key makes first use atomic.
struct SQLReplayStore: ReplayStore {
    let backend: any SQLBackend

    func recordFirstUse(fingerprint: String, expiresAt: Date) async throws -> Bool {
        try await backend.transaction { db in
            let inserted = try await db.raw("""
                INSERT INTO used_tokens (fingerprint, expires_at) VALUES (\(bind: fingerprint), \(bind: expiresAt.seconds))
                ON CONFLICT (fingerprint) DO NOTHING RETURNING fingerprint
                """).all()
            if RevocationMark.isMark(fingerprint) { try await backend.announce(.revocationMark(fingerprint), in: db) }
            return !inserted.isEmpty
        }
    }

    func recordFirstUse(fingerprint: String, expiresAt: Date, unlessRecorded earlier: String) async throws -> Bool {
        try await backend.transaction { db in
            // (SQLite reads `ON CONFLICT` after `INSERT … SELECT` only when the SELECT has a WHERE.)
            let inserted = try await db.raw("""
                INSERT INTO used_tokens (fingerprint, expires_at) SELECT \(bind: fingerprint), \(bind: expiresAt.seconds)
                WHERE NOT EXISTS (SELECT 1 FROM used_tokens WHERE fingerprint = \(bind: earlier))
                ON CONFLICT (fingerprint) DO NOTHING RETURNING fingerprint
                """).all()
            if RevocationMark.isMark(fingerprint) { try await backend.announce(.revocationMark(fingerprint), in: db) }
            return !inserted.isEmpty
        }
    }

    func contains(fingerprint: String) async throws -> Bool {
        try await backend.read { db in
            try await db.raw("SELECT fingerprint FROM used_tokens WHERE fingerprint = \(bind: fingerprint)").first() != nil
        }
    }

    func forgetMark(_ mark: String) async throws {
        precondition(RevocationMark.isMark(mark), "only revocation marks are forgotten")
        try await backend.transaction { db in
            try await db.raw("DELETE FROM used_tokens WHERE fingerprint = \(bind: mark)").run()
            try await backend.announce(.revocationMark(mark), in: db)
        }
    }

    func purgeExpired(before date: Date) async throws {
        try await backend.transaction { db in
            try await db.raw("DELETE FROM used_tokens WHERE expires_at < \(bind: date.seconds)").run()
        }
    }
}

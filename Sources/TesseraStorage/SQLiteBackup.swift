import Foundation
import Logging
import SQLKit
import SQLiteKit
import TesseraCore

#if canImport(Glibc)
import Glibc
#endif

/// `tessera admin backup`: a consistent copy of a SQLite database taken while a server is using
/// it. SQLite's `VACUUM INTO` copies one read transaction's snapshot (in WAL mode the server keeps
/// writing meanwhile, and the copy holds exactly the commits made before it started); the copy is
/// written beside the destination, checked (`PRAGMA integrity_check`), flushed to the storage and
/// only then renamed to the destination, so a destination that exists is always a whole backup.
public enum SQLiteBackup {
    /// What a finished backup holds.
    public struct Summary: Sendable {
        public let schemaVersion: Int
        public let bytes: Int
        /// Rows per table, for the tables an operator recognises (`users`, `access_tokens`…).
        public let rows: [(table: String, count: Int)]
    }

    static let countedTables = ["organizations", "users", "access_tokens", "public_keys", "applications", "authentication_tokens", "audit_events"]

    /// Copies the SQLite database at `source` to `destination`, which must not exist.
    public static func copy(source: String, destination: String, logger: Logger) async throws -> Summary {
        let files = FileManager.default
        guard files.fileExists(atPath: source) else {
            throw TesseraError(.invalidRequest, "database_missing", "there is no SQLite database at '\(source)'")
        }
        guard !files.fileExists(atPath: destination) else {
            throw TesseraError(.conflict, "backup_exists", "'\(destination)' already exists: name a new file (a backup never overwrites one)")
        }
        let directory = (destination as NSString).deletingLastPathComponent
        let partial = (directory.isEmpty ? "." : directory) + "/." + (destination as NSString).lastPathComponent + ".partial-\(getpid())"
        try? files.removeItem(atPath: partial)
        do {
            let schemaVersion = try await snapshot(source: source, into: partial, logger: logger)
            let rows = try await check(partial, logger: logger)
            try durablyRename(partial, to: destination)
            let bytes = (try? files.attributesOfItem(atPath: destination)[.size] as? Int) ?? 0
            return Summary(schemaVersion: schemaVersion, bytes: bytes, rows: rows)
        } catch {
            try? files.removeItem(atPath: partial)
            throw error
        }
    }

    /// `VACUUM INTO` on a connection of its own, after checking `source` is a Tessera database;
    /// returns its schema version.
    private static func snapshot(source: String, into partial: String, logger: Logger) async throws -> Int {
        let connection = try await SQLiteConnection.open(storage: .file(path: source), logger: logger)
        do {
            let db = connection.sql()
            _ = try await connection.query("PRAGMA busy_timeout = \(SQLiteBackend.busyTimeoutMilliseconds)")
            let tables = try await db.raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'tessera_migrations'").all()
            guard !tables.isEmpty else {
                throw TesseraError(.invalidRequest, "database_invalid", "'\(source)' is not a Tessera database (it has no tessera_migrations table)")
            }
            let version = try await db.raw("SELECT COALESCE(MAX(version), 0) AS version FROM tessera_migrations").first()?
                .decode(column: "version", as: Int.self) ?? 0
            try await db.raw("VACUUM INTO \(bind: partial)").run()
            try await connection.close()
            return version
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Opens the copy and checks it whole; returns its row counts.
    private static func check(_ path: String, logger: Logger) async throws -> [(table: String, count: Int)] {
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        do {
            let db = connection.sql()
            let verdict = try await db.raw("PRAGMA integrity_check").all().compactMap { try? $0.decode(column: "integrity_check", as: String.self) }
            guard verdict == ["ok"] else {
                throw TesseraError(.internalFailure, "backup_corrupt", "the copy failed SQLite's integrity check: \(verdict.prefix(5).joined(separator: "; "))")
            }
            var rows: [(table: String, count: Int)] = []
            for table in countedTables {
                let count = try await db.raw("SELECT COUNT(*) AS n FROM \(ident: table)").first()?.decode(column: "n", as: Int.self) ?? 0
                rows.append((table, count))
            }
            try await connection.close()
            return rows
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Flushes `partial` (mode 0600: it holds sealed keys and secret hashes), renames it to
    /// `destination`, and flushes the directory so the rename survives a power loss.
    private static func durablyRename(_ partial: String, to destination: String) throws {
        guard chmod(partial, 0o600) == 0 else { throw failure("cannot restrict '\(partial)' to its owner") }
        let file = open(partial, O_RDONLY)
        guard file >= 0 else { throw failure("cannot open '\(partial)' to flush it") }
        let flushed = fsync(file)
        close(file)
        guard flushed == 0 else { throw failure("cannot flush '\(partial)' to the storage") }
        guard rename(partial, destination) == 0 else { throw failure("cannot rename the copy to '\(destination)'") }
        let directory = (destination as NSString).deletingLastPathComponent
        let handle = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY)
        if handle >= 0 {
            _ = fsync(handle)
            close(handle)
        }
    }

    private static func failure(_ message: String) -> TesseraError {
        TesseraError(.internalFailure, "backup_failed", "\(message): \(String(cString: strerror(errno)))")
    }
}

import Foundation
import Logging
import SQLKit
import SQLiteKit
import TesseraCore

/// SQLite in WAL mode: one writer connection whose transactions run one after the other, committed
/// in groups (`GroupCommit`; one shared connection would otherwise interleave different requests'
/// `BEGIN…COMMIT`), and one reader connection, which in WAL mode sees only committed data.
public final class SQLiteBackend: SQLBackend {
    private let writerConnection: SQLiteConnection
    private let readerConnection: SQLiteConnection
    private let writer: any SQLDatabase
    private let reader: any SQLDatabase
    private let groupCommit: GroupCommit
    private let metrics = StorageMetrics(backend: "sqlite")
    /// How long a statement waits for another process's lock before `SQLITE_BUSY`.
    static let busyTimeoutMilliseconds = 30_000

    /// Opens (creating if needed) the database file at `path`.
    public static func open(path: String, logger: Logger) async throws -> SQLiteBackend {
        let writer = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        do {
            // Another process (a second server, `tessera admin`) may hold the write lock, for
            // instance while it migrates a new file with a flush per commit: wait for it rather
            // than fail.
            _ = try await writer.query("PRAGMA busy_timeout = \(Self.busyTimeoutMilliseconds)")
            // Switching a new file to WAL needs an exclusive lock and is refused at once (no busy
            // wait) while another process opens the same file: retry as long as the busy timeout.
            var attempts = 0
            while true {
                do {
                    _ = try await writer.query("PRAGMA journal_mode = WAL")
                    break
                } catch let error as SQLiteError where [.busy, .locked].contains(error.reason) && attempts < Self.busyTimeoutMilliseconds / 50 {
                    attempts += 1
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            for pragma in ["PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON"] {
                _ = try await writer.query(pragma)
            }
        } catch {
            try? await writer.close()
            throw error
        }
        let reader: SQLiteConnection
        do {
            reader = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        } catch {
            try? await writer.close()
            throw error
        }
        do {
            for pragma in ["PRAGMA busy_timeout = \(Self.busyTimeoutMilliseconds)", "PRAGMA foreign_keys = ON", "PRAGMA query_only = ON"] {
                _ = try await reader.query(pragma)
            }
        } catch {
            try? await reader.close()
            try? await writer.close()
            throw error
        }
        return SQLiteBackend(writer: writer, reader: reader)
    }

    private init(writer: SQLiteConnection, reader: SQLiteConnection) {
        self.writerConnection = writer
        self.readerConnection = reader
        self.writer = writer.sql()
        self.reader = reader.sql()
        self.groupCommit = GroupCommit(database: self.writer)
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        // No deadline on SQLite (a local file): only the outage classification, without a
        // closure of its own on this hot path.
        do { return try await metrics.read { try await body(reader) } } catch { throw DatabaseOutage.classify(error) ?? error }
    }

    /// Runs `body` in the next group commit (`GroupCommit`): concurrent transactions share one
    /// `BEGIN IMMEDIATE … COMMIT`, each in its own savepoint, and each returns once the group
    /// is durable (`synchronous = FULL`).
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        do { return try await metrics.transaction { try await groupCommit.transaction(body) } } catch { throw DatabaseOutage.classify(error) ?? error }
    }

    /// SQLite's own file lock serialises the migrations' `BEGIN IMMEDIATE` transactions, and each
    /// migration checks whether it ran before applying itself.
    public func withMigrationLock(_ body: @Sendable () async throws -> Void) async throws {
        try await body()
    }

    /// Nothing to announce: a SQLite file is served by one process (others see changes within
    /// the credential cache's lifetime).
    public func announce(_ change: CredentialChange, in db: any SQLDatabase) async throws {}

    public func credentialChanges() -> AsyncStream<CredentialChange>? { nil }

    /// Closes both connections, the writer even if closing the reader failed.
    public func close() async throws {
        let readerClosed = await Swift.Result { try await self.readerConnection.close() }
        try await writerConnection.close()
        try readerClosed.get()
    }
}

extension Result where Failure == any Error {
    init(_ body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

import Foundation
import Logging
import SQLKit
import NIOPosix
import SQLiteKit
import VaporCSQLite
import TesseraCore

/// SQLite in WAL mode, driven directly (`DirectSQLiteDatabase`: statements run on the calling
/// thread, prepared once and kept): one writer connection whose transactions run one after the
/// other, committed in groups (`GroupCommit`; one shared connection would otherwise interleave
/// different requests' `BEGIN…COMMIT`), and `readerCount` reader connections, which in WAL mode see
/// only committed data and do not wait for the writer.
public final class SQLiteBackend: SQLBackend {
    private let writerConnection: SQLiteConnectionBox
    private let readerConnections: [SQLiteConnectionBox]
    private let writer: DirectSQLiteDatabase
    private let reader: DirectSQLiteDatabase
    private let groupCommit: GroupCommit
    private let metrics = StorageMetrics(backend: "sqlite")
    /// How long a statement waits for another process's lock before `SQLITE_BUSY`.
    static let busyTimeoutMilliseconds = 30_000
    /// Reader connections: one per core of these machines, so concurrent reads rarely wait.
    static let readerCount = 2

    /// Opens (creating if needed) the database file at `path`.
    public static func open(path: String, logger: Logger) async throws -> SQLiteBackend {
        // Opening and the first pragmas may wait for another process's lock: off the caller's thread.
        let writer = try await NIOThreadPool.singleton.runIfActive { try SQLiteConnectionBox(path: path) }
        do {
            // Another process (a second server, `tessera admin`) may hold the write lock, for
            // instance while it migrates a new file with a flush per commit: wait for it rather
            // than fail.
            try await writer.executeOffloaded("PRAGMA busy_timeout = \(Self.busyTimeoutMilliseconds)")
            // Switching a new file to WAL needs an exclusive lock and is refused at once (no busy
            // wait) while another process opens the same file: retry as long as the busy timeout.
            var attempts = 0
            while true {
                do {
                    try await writer.executeOffloaded("PRAGMA journal_mode = WAL")
                    break
                } catch let error as SQLiteFailure
                    where [SQLITE_BUSY, SQLITE_LOCKED].contains(error.primaryCode) && attempts < Self.busyTimeoutMilliseconds / 50 {
                    attempts += 1
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            for pragma in ["PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON"] {
                try await writer.executeOffloaded(pragma)
            }
        } catch {
            writer.close()
            throw error
        }
        var readers: [SQLiteConnectionBox] = []
        do {
            for _ in 0..<readerCount {
                let reader = try await NIOThreadPool.singleton.runIfActive { try SQLiteConnectionBox(path: path) }
                readers.append(reader)
                for pragma in ["PRAGMA busy_timeout = \(Self.busyTimeoutMilliseconds)", "PRAGMA foreign_keys = ON", "PRAGMA query_only = ON"] {
                    try await reader.executeOffloaded(pragma)
                }
            }
        } catch {
            for reader in readers { reader.close() }
            writer.close()
            throw error
        }
        return SQLiteBackend(writer: writer, readers: readers, logger: logger)
    }

    private init(writer: SQLiteConnectionBox, readers: [SQLiteConnectionBox], logger: Logger) {
        self.writerConnection = writer
        self.readerConnections = readers
        self.writer = DirectSQLiteDatabase(connections: [writer], logger: logger)
        self.reader = DirectSQLiteDatabase(connections: readers, logger: logger)
        self.groupCommit = GroupCommit(database: self.writer, control: { try await writer.executeOffloaded($0) })
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

    /// Closes every connection.
    public func close() async throws {
        for reader in readerConnections { reader.close() }
        writerConnection.close()
    }
}

import Logging
import SQLKit
import TesseraCore

/// A database Tessera's stores run on: reads that see only committed data, and serialisable
/// transactions. Implemented for SQLite (`SQLiteBackend`) and PostgreSQL (`PostgresBackend`).
public protocol SQLBackend: Sendable {
    /// Runs read-only statements.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws. `body`
    /// may run more than once (a serialisation conflict is retried), so it must only touch `db`.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// Runs `body` holding a lock shared by every process on this database, so two servers
    /// starting at once do not both migrate.
    func withMigrationLock(_ body: @Sendable () async throws -> Void) async throws
    /// Tells every process sharing the database about `change` when `db`'s transaction commits.
    func announce(_ change: CredentialChange, in db: any SQLDatabase) async throws
    /// The changes announced by every process on this database (this one included), for as long
    /// as the backend is open; nil when the database has no such channel (SQLite).
    func credentialChanges() -> AsyncStream<CredentialChange>?
    /// Closes every connection; the backend is unusable afterwards.
    func close() async throws
}

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
    /// `databaseDeadline`: how long a PostgreSQL read or transaction may wait before failing as
    /// `database_unavailable` (`DatabaseOutage`).
    public static func open(
        _ reference: String, logger: Logger, databaseDeadline: Duration = DatabaseOutage.defaultDeadline
    ) async throws -> SQLStorage {
        let backend: any SQLBackend
        if reference.hasPrefix("sqlite:") {
            backend = try await SQLiteBackend.open(path: String(reference.dropFirst("sqlite:".count)), logger: logger)
        } else if reference.hasPrefix("postgres:") || reference.hasPrefix("postgresql:") || reference.hasPrefix("postgres+")
            || reference.hasPrefix("postgresql+")
        {
            backend = try await PostgresBackend.open(url: reference, logger: logger, deadline: databaseDeadline)
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

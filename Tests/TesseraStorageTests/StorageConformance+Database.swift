import Foundation
import Logging
import SQLKit
import Testing
import TesseraCore
import TesseraStorage

/// The database itself: migrations, transactions, durability, references.
extension StorageConformanceTests {
    @Test("records read back exactly as written; a second process sees them and migrates nothing", arguments: DatabaseKind.underTest)
    func roundTrip(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, reference in
            let (organization, user) = try await Self.seed(storage.stores)
            #expect(try await storage.stores.directory.organization(domainName: "acme") == organization)
            #expect(try await storage.stores.directory.organization(id: organization.id) == organization)
            #expect(try await storage.stores.directory.user(username: "wile") == user)
            #expect(try await storage.stores.directory.listUsers(organizationID: organization.id) == [user])
            #expect(try await storage.stores.directory.organizationCount() == 1)
            try await storage.stores.directory.setPasswordHash(userID: user.id, passwordHash: "$2b$04$other")
            let second = try await SQLStorage.open(reference, logger: Logger(label: "test"))
            #expect(try await second.stores.directory.user(id: user.id)?.passwordHash == "$2b$04$other")
            let versions = try await second.backend.read { db in
                try await db.raw("SELECT version FROM tessera_migrations ORDER BY version").all().map { try $0.decode(column: "version", as: Int64.self) }
            }
            #expect(versions == Array(1...Int64(versions.count)))
            try await second.close()
        }
    }

    @Test(
        "a database a newer Tessera migrated is refused with database_newer before anything is changed; without that row it migrates",
        arguments: DatabaseKind.underTest
    )
    func newerSchemaIsRefused(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, reference in
            func versions(_ storage: SQLStorage) async throws -> [Int64] {
                try await storage.backend.read { db in
                    try await db.raw("SELECT version FROM tessera_migrations ORDER BY version").all()
                        .map { try $0.decode(column: "version", as: Int64.self) }
                }
            }
            let latest = try #require(try await versions(storage).last)
            // The last migration undone, and a version from the future recorded: refusing must
            // come before this build applies anything it is missing.
            try await storage.backend.transaction { db in
                try await db.raw("DROP TABLE pat_policies").run()
                try await db.raw("ALTER TABLE access_tokens DROP COLUMN allowed_networks").run()
                try await db.raw("DELETE FROM tessera_migrations WHERE version = \(bind: latest)").run()
                try await db.raw("INSERT INTO tessera_migrations (version, applied_at) VALUES (999, 1)").run()
            }
            do {
                let opened = try await SQLStorage.open(reference, logger: Logger(label: "test"))
                try await opened.close()
                Issue.record("a database at schema version 999 was opened")
            } catch let error as TesseraError {
                #expect(error.code == "database_newer")
                #expect(error.kind == .internalFailure)
                #expect(error.message.contains("schema version 999; this build knows up to \(latest)"), "\(error.message)")
                #expect(error.message.contains("nothing was changed"))
                #expect(error.message.contains("restore the backup"))
            }
            #expect(try await versions(storage) == Array(1..<latest) + [999], "a migration ran on the refused database")
            try await storage.backend.transaction { db in
                try await db.raw("DELETE FROM tessera_migrations WHERE version = 999").run()
            }
            let reopened = try await SQLStorage.open(reference, logger: Logger(label: "test"))
            let result = await Result { try await versions(reopened) }
            try await reopened.close()
            #expect(try result.get() == Array(1...latest))
        }
    }

    @Test("servers starting at once on an empty database migrate it once between them", arguments: DatabaseKind.underTest)
    func concurrentMigration(_ kind: DatabaseKind) async throws {
        let database = try await ScratchDatabase.make(kind)
        // Two on SQLite: in one test process every SQLite connection shares sqlite-nio's thread
        // pool (one thread per core), where a connection waiting out another's lock holds a
        // thread; separate server processes do not share it.
        let starts = kind == .sqlite ? 2 : 4
        let results = await withTaskGroup(of: Result<SQLStorage, any Error>.self) { group in
            for _ in 0..<starts {
                group.addTask {
                    do { return .success(try await SQLStorage.open(database.reference, logger: Logger(label: "test"))) } catch { return .failure(error) }
                }
            }
            return await group.reduce(into: [Result<SQLStorage, any Error>]()) { $0.append($1) }
        }
        let opened = results.compactMap { try? $0.get() }
        let checked = await Result {
            for case .failure(let error) in results { Issue.record(error, "a concurrent start failed") }
            try #require(opened.count == starts)
            let rows = try await opened[0].backend.read { db in
                try await db.raw("SELECT version, COUNT(*) AS n FROM tessera_migrations GROUP BY version").all()
            }
            #expect(!rows.isEmpty)
            for row in rows { #expect(try row.decode(column: "n", as: Int64.self) == 1) }
            let (organization, _) = try await Self.seed(opened[1].stores)
            #expect(try await opened[0].stores.directory.organization(id: organization.id) != nil)
        }
        for storage in opened { try await storage.close() }
        try await database.drop()
        try checked.get()
    }

    @Test("a transaction that fails half-way leaves nothing behind", arguments: DatabaseKind.underTest)
    func rollback(_ kind: DatabaseKind) async throws {
        struct Abort: Error {}
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            await #expect(throws: Abort.self) {
                try await storage.backend.transaction { db in
                    try await db.raw("INSERT INTO used_tokens (fingerprint, expires_at) VALUES ('half', 1)").run()
                    throw Abort()
                }
            }
            let recorded = try await storage.stores.replay.contains(fingerprint: "half")
            #expect(recorded == false)
        }
    }

    @Test("concurrent transactions (one SQLite group commit) keep their own outcomes: the failed ones leave nothing, the others all land",
          arguments: DatabaseKind.underTest)
    func concurrentTransactionsKeepTheirOutcomes(_ kind: DatabaseKind) async throws {
        struct Abort: Error {}
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let backend = storage.backend
            let outcomes = try await Self.each(Array(0..<64)) { index -> Bool in
                do {
                    try await backend.transaction { db in
                        try await db.raw("INSERT INTO used_tokens (fingerprint, expires_at) VALUES (\(bind: "group-\(index)"), 1)").run()
                        // A body that failed after writing, and one that failed on the database itself.
                        if index % 4 == 1 { throw Abort() }
                        if index % 4 == 2 { try await db.raw("INSERT INTO used_tokens (fingerprint, expires_at) VALUES (\(bind: "group-\(index)"), 1)").run() }
                    }
                    return true
                } catch {
                    return false
                }
            }
            #expect(outcomes == (0..<64).map { $0 % 4 == 0 || $0 % 4 == 3 })
            for index in 0..<64 {
                let recorded = try await storage.stores.replay.contains(fingerprint: "group-\(index)")
                #expect(recorded == outcomes[index], "transaction \(index): answered \(outcomes[index]), recorded \(recorded)")
            }
            // The writer is usable after failures in a group.
            try await backend.transaction { db in
                try await db.raw("INSERT INTO used_tokens (fingerprint, expires_at) VALUES ('after', 1)").run()
            }
            #expect(try await storage.stores.replay.contains(fingerprint: "after"))
        }
    }

    @Test("commits reach the storage: SQLite runs WAL with synchronous = FULL on the writer; PostgreSQL sessions commit synchronously, fsync on",
          arguments: DatabaseKind.underTest)
    func durableCommits(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, reference in
            switch kind {
            case .sqlite:
                // On the connection every write goes through (the writer), as the server opens it.
                let (journal, synchronous) = try await storage.backend.transaction { db in
                    (
                        try await db.raw("PRAGMA journal_mode").first()?.decode(column: "journal_mode", as: String.self),
                        try await db.raw("PRAGMA synchronous").first()?.decode(column: "synchronous", as: Int.self)
                    )
                }
                #expect(journal == "wal")
                #expect(synchronous == 2, "PRAGMA synchronous is \(synchronous.map(String.init) ?? "unknown"), not 2 (FULL): a power loss could undo acknowledged commits")
            case .postgres:
                let settings = try await storage.backend.transaction { db in
                    var settings: [String: String] = [:]
                    for name in ["synchronous_commit", "fsync"] {
                        settings[name] = try await db.raw("SELECT current_setting(\(bind: name)) AS value").first()?.decode(column: "value", as: String.self)
                    }
                    return settings
                }
                #expect(settings["synchronous_commit"] == "on", "Tessera's transactions must wait for the commit record to be flushed")
                #expect(settings["fsync"] == "on", "the test server runs fsync=off: durability would be tested against the page cache")
                // A database (or role) whose default is asynchronous commits does not weaken Tessera's.
                let adminURL = try #require(PostgresTestServer.url)
                let name = try #require(URLComponents(string: reference)?.path.dropFirst())
                try await ScratchDatabase.administer(adminURL, "ALTER DATABASE \(name) SET synchronous_commit = off")
                let reopened = try await SQLStorage.open(reference, logger: Logger(label: "test"))
                let result = await Result {
                    try await reopened.backend.transaction { db in
                        try await db.raw("SELECT current_setting('synchronous_commit') AS value").first()?.decode(column: "value", as: String.self)
                    }
                }
                try await reopened.close()
                #expect(try result.get() == "on", "a database default of synchronous_commit = off reached Tessera's sessions")
            }
        }
    }

    @Test("PostgreSQL: pooled connections idle for 5 s are closed (the pool's timers stay short-lived; docs/operations.md, \"The soak\")")
    func idlePooledConnectionsClose() async throws {
        try await ScratchDatabase.withStorage(.postgres) { storage, _ in
            // Other sessions on this database: the pool's connections and the LISTEN connection.
            func otherSessions() async throws -> Int {
                try await storage.backend.read { db in
                    try await db.raw("""
                        SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
                        """).first()?.decode(column: "n", as: Int.self) ?? -1
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<6 {
                    group.addTask { _ = try await storage.backend.read { db in try await db.raw("SELECT pg_sleep(0.3)").run() } }
                }
                try await group.waitForAll()
            }
            let busy = try await otherSessions()
            #expect(busy >= 5, "six concurrent reads should have opened several pooled connections, saw \(busy) other sessions")
            try await Task.sleep(for: .seconds(7))
            let idle = try await otherSessions()
            #expect(idle <= 1, "\(idle) other sessions 7 s after the load: idle pooled connections were not closed after 5 s")
        }
    }

    @Test("the PostgreSQL server for the conformance suite is reachable (without one: cancelled, under CI: failed)")
    func postgresServer() async throws {
        let database = try await ScratchDatabase.make(.postgres)
        try await database.drop()
    }

    @Test("unknown, malformed and unreachable database references are refused with clear messages")
    func badReferences() async throws {
        let logger = Logger(label: "test")
        do {
            _ = try await SQLStorage.open("mysql://x", logger: logger)
            Issue.record("mysql:// was accepted")
        } catch let error as TesseraError {
            #expect(error.code == "database_invalid")
            #expect(error.message.contains("postgres://USER:PASSWORD@HOST:PORT/DATABASE"))
        }
        do {
            _ = try await SQLStorage.open("postgres://nobody:secret@127.0.0.1:1/none?sslmode=disable", logger: logger)
            Issue.record("an unreachable server was accepted")
        } catch let error as TesseraError {
            #expect(error.code == "database_unreachable")
            #expect(error.message.contains("postgres://nobody:***@127.0.0.1:1/none"))
            #expect(!error.message.contains("secret"), "the password is never shown")
        }
        for url in ["postgres://app:pa#ss@127.0.0.1:1/none", "postgres://app:p@ss@127.0.0.1:1/none", "postgres://app:pa ss@127.0.0.1:1/none"] {
            do {
                _ = try await SQLStorage.open(url, logger: logger)
                Issue.record("\(url) was accepted")
            } catch let error as TesseraError {
                #expect(!error.message.contains("pa#ss") && !error.message.contains("p@ss") && !error.message.contains("pa ss"), "\(error.message)")
                #expect(error.message.contains("app:***@"), "\(error.message)")
            }
        }
        do {
            _ = try await SQLStorage.open("postgres://127.0.0.1/none", logger: logger)
            Issue.record("a URL without a user was accepted")
        } catch let error as TesseraError {
            #expect(error.code == "database_invalid")
        }
    }
}

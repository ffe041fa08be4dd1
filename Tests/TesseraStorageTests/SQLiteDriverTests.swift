import Foundation
import Logging
import NIOCore
import SQLKit
import Testing
import TesseraCore

@testable import TesseraStorage

/// The SQLite driver under the stores (`SQLiteConnectionBox`, `DirectSQLiteDatabase`): values
/// come back exactly as bound, kept statements stay right after failures, schema changes and the
/// cache's bound, concurrent callers keep their own results, and SQLite's errors reach
/// `DatabaseOutage` with their codes.
@Suite("SQLite driver")
struct SQLiteDriverTests {
    private struct Row: Decodable, Equatable {
        let id: Int64
        let text: String?
        let blob: [UInt8]?
        let real: Double?
    }

    private func withBackend(_ body: (any SQLBackend) async throws -> Void) async throws {
        try await ScratchDatabase.withStorage(.sqlite) { storage, _ in
            try await storage.backend.transaction { db in
                try await db.raw("CREATE TABLE driver_values (id INTEGER PRIMARY KEY, text TEXT, blob BLOB, real REAL)").run()
            }
            try await body(storage.backend)
        }
    }

    @Test("values read back exactly as bound: empty text is not NULL, non-ASCII and NUL survive, 64-bit extremes, empty and binary blobs")
    func valuesRoundTrip() async throws {
        try await withBackend { backend in
            let rows = [
                Row(id: 1, text: "", blob: [], real: 0),
                Row(id: 2, text: "K\u{212A}ç😀\u{0}tail", blob: [0, 255, 1, 0], real: -1.5e300),
                Row(id: Int64.max, text: nil, blob: nil, real: nil),
                Row(id: Int64.min, text: String(repeating: "x", count: 100_000), blob: Array(repeating: 7, count: 70_000), real: .pi),
            ]
            for row in rows {
                try await backend.transaction { db in
                    try await db.raw("""
                        INSERT INTO driver_values (id, text, blob, real) VALUES (\(bind: row.id), \(bind: row.text), \(bind: row.blob.map { Data($0) }), \(bind: row.real))
                        """).run()
                }
            }
            let read = try await backend.read { db in
                try await db.raw("SELECT id, text, blob, real, text IS NULL AS text_null FROM driver_values ORDER BY id").all()
            }
            #expect(read.count == rows.count)
            for (stored, expected) in zip(read, rows.sorted { $0.id < $1.id }) {
                #expect(try stored.decode(column: "id", as: Int64.self) == expected.id)
                #expect(try stored.decode(column: "text", as: String?.self) == expected.text)
                #expect(try stored.decode(column: "text_null", as: Bool.self) == (expected.text == nil))
                #expect(try stored.decode(column: "blob", as: Data?.self).map { Array($0) } == expected.blob)
                #expect(try stored.decode(column: "real", as: Double?.self) == expected.real)
                #expect(stored.allColumns == ["id", "text", "blob", "real", "text_null"])
                #expect(!stored.contains(column: "missing"))
            }
        }
    }

    @Test("a statement that fails (constraint, bad SQL) leaves the connection and its kept statements usable")
    func failuresLeaveTheConnectionUsable() async throws {
        try await withBackend { backend in
            func insert(_ id: Int64) async throws {
                try await backend.transaction { db in
                    try await db.raw("INSERT INTO driver_values (id, text) VALUES (\(bind: id), 'a')").run()
                }
            }
            try await insert(1)
            for _ in 0..<3 {
                let error = try #require(await #expect(throws: SQLiteFailure.self) { try await insert(1) })
                #expect(error.primaryCode == 19)  // SQLITE_CONSTRAINT
                #expect(error.message.contains("UNIQUE constraint failed"))
                #expect(DatabaseOutage.classify(error) == nil)  // not an outage
            }
            await #expect(throws: SQLiteFailure.self) {
                try await backend.read { db in try await db.raw("SELEC nonsense").run() }
            }
            try await insert(2)
            let count = try await backend.read { db in
                try await db.raw("SELECT count(*) AS n FROM driver_values").first()?.decode(column: "n", as: Int.self)
            }
            #expect(count == 2)
        }
    }

    @Test("a kept SELECT * sees a column another connection's migration adds; more distinct statements than the cache keeps all run right")
    func keptStatementsFollowTheSchemaAndTheBound() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-driver-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("t.sqlite").path
        // A writer and one reader, as the backend has: the reader's kept statement must notice the
        // writer's ALTER TABLE (with two readers a call may land on the one that never prepared it).
        let writerConnection = try SQLiteConnectionBox(path: path)
        let readerConnection = try SQLiteConnectionBox(path: path)
        defer { writerConnection.close(); readerConnection.close() }
        let writer = DirectSQLiteDatabase(connections: [writerConnection], logger: Logger(label: "test"))
        let reader = DirectSQLiteDatabase(connections: [readerConnection], logger: Logger(label: "test"))
        try await writer.raw("CREATE TABLE driver_values (id INTEGER PRIMARY KEY, text TEXT)").run()
        try await writer.raw("INSERT INTO driver_values (id, text) VALUES (1, 'a')").run()
        func columns() async throws -> [String] {
            try await reader.raw("SELECT * FROM driver_values").first()?.allColumns ?? []
        }
        #expect(try await columns() == ["id", "text"])
        try await writer.raw("ALTER TABLE driver_values ADD COLUMN added TEXT DEFAULT 'new'").run()
        let row = try await reader.raw("SELECT * FROM driver_values").first()
        #expect(row?.allColumns == ["id", "text", "added"])
        #expect(try row?.decode(column: "added", as: String.self) == "new")
        for value in 0..<(SQLiteConnectionBox.statementCacheLimit * 2 + 3) {
            let read = try await reader.raw(SQLQueryString("SELECT \(unsafeRaw: String(value)) AS v, added FROM driver_values")).first()
            #expect(try read?.decode(column: "v", as: Int.self) == value)
            #expect(try read?.decode(column: "added", as: String.self) == "new")
        }
    }

    @Test("a kept statement is not compiled again when new values are bound to its LIMIT or LIKE pattern")
    func bindingsDoNotRecompile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-driver-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let connection = try SQLiteConnectionBox(path: directory.appendingPathComponent("t.sqlite").path)
        defer { connection.close() }
        let db = DirectSQLiteDatabase(connections: [connection], logger: Logger(label: "test"))
        try await db.raw("CREATE TABLE names (id INTEGER PRIMARY KEY, name TEXT)").run()
        for (id, name) in ["ann", "anna", "bob", "annette", "bea"].enumerated() {
            try await db.raw("INSERT INTO names (id, name) VALUES (\(bind: id), \(bind: name))").run()
        }
        let query = { (pattern: String, limit: Int) in
            SQLQueryString("SELECT id FROM names WHERE name LIKE \(bind: pattern) ORDER BY id LIMIT \(bind: limit)")
        }
        for (pattern, limit, expected) in [("ann%", 10, 3), ("ann%", 2, 2), ("b%", 1, 1), ("%", 4, 4), ("zz%", 3, 0), ("ann%", 1, 1)] {
            #expect(try await db.raw(query(pattern, limit)).all().count == expected, "\(pattern) LIMIT \(limit)")
        }
        let sql = db.serialize(query("", 0)).sql
        #expect(connection.recompilations(of: sql) == 0)
    }

    @Test("concurrent reads and group-committed writes each get their own results")
    func concurrentCallers() async throws {
        try await withBackend { backend in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in 1...200 {
                    group.addTask {
                        let text = "row \(id)"
                        try await backend.transaction { db in
                            try await db.raw("INSERT INTO driver_values (id, text) VALUES (\(bind: Int64(id)), \(bind: text))").run()
                        }
                        let read = try await backend.read { db in
                            try await db.raw("SELECT text FROM driver_values WHERE id = \(bind: Int64(id))").first()?.decode(column: "text", as: String.self)
                        }
                        #expect(read == text)
                    }
                }
                try await group.waitForAll()
            }
            let count = try await backend.read { db in
                try await db.raw("SELECT count(*) AS n FROM driver_values").first()?.decode(column: "n", as: Int.self)
            }
            #expect(count == 200)
        }
    }

    @Test("SQLite's disk-full and write errors are outages (storage_full, database_unavailable); other errors are not")
    func errorsClassified() {
        #expect(DatabaseOutage.classify(SQLiteFailure(code: 13, message: "database or disk is full"))?.code == "storage_full")
        #expect(DatabaseOutage.classify(SQLiteFailure(code: 778, message: "disk I/O error"))?.code == "database_unavailable")
        #expect(DatabaseOutage.classify(SQLiteFailure(code: 1034, message: "disk I/O error"))?.code == "database_unavailable")
        #expect(DatabaseOutage.classify(SQLiteFailure(code: 2067, message: "UNIQUE constraint failed")) == nil)
        #expect(DatabaseOutage.classify(SQLiteFailure(code: 1, message: "syntax error")) == nil)
    }
}

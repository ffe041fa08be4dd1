import Foundation
import Logging
import PostgresKit
import PostgresNIO
import Testing
import TesseraStorage

/// The databases the conformance suite runs on.
enum DatabaseKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { self == .sqlite ? "SQLite" : "PostgreSQL" }

    /// SQLite always; PostgreSQL when a server is configured, and always under `CI=true` (where
    /// a missing server then fails every PostgreSQL case instead of skipping it).
    static var underTest: [DatabaseKind] {
        PostgresTestServer.url != nil || PostgresTestServer.required ? [.sqlite, .postgres] : [.sqlite]
    }
}

/// The PostgreSQL server the tests may use, from the environment.
enum PostgresTestServer {
    static let environmentVariable = "TESSERA_TEST_POSTGRES_URL"
    static var url: String? { ProcessInfo.processInfo.environment[environmentVariable].flatMap { $0.isEmpty ? nil : $0 } }
    static var required: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
    static let howToConfigure =
        "set \(environmentVariable)=postgres://USER@HOST:PORT/DB (a role that may CREATE DATABASE), or run scripts/test with Debian's postgresql installed"
}

/// A new, empty database for one test: a SQLite file in a temporary directory, or a database
/// made on the PostgreSQL server `TESSERA_TEST_POSTGRES_URL` names (`scripts/with-postgres`
/// starts one; `scripts/test` does so by itself when Debian's postgresql is installed).
struct ScratchDatabase: Sendable {
    /// What `SQLStorage.open` takes.
    let reference: String
    let drop: @Sendable () async throws -> Void

    static func make(_ kind: DatabaseKind) async throws -> ScratchDatabase {
        switch kind {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-store-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return ScratchDatabase(reference: "sqlite:" + directory.appendingPathComponent("t.sqlite").path) {
                try? FileManager.default.removeItem(at: directory)
            }
        case .postgres:
            guard let adminURL = PostgresTestServer.url else {
                throw ScratchDatabaseError(message: "there is no PostgreSQL to test against: \(PostgresTestServer.howToConfigure)")
            }
            let name = "tessera_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
            try await administer(adminURL, "CREATE DATABASE \(name)")
            guard var components = URLComponents(string: adminURL) else {
                throw ScratchDatabaseError(message: "\(PostgresTestServer.environmentVariable) is not a URL")
            }
            components.path = "/" + name
            return ScratchDatabase(reference: components.string ?? adminURL) {
                try await administer(adminURL, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            }
        }
    }

    /// Runs one statement on an administrative connection.
    static func administer(_ url: String, _ statement: String) async throws {
        let logger = Logger(label: "test.postgres")
        let configuration = try SQLPostgresConfiguration(url: url).coreConfiguration
        let connection = try await PostgresConnection.connect(
            on: PostgresConnection.defaultEventLoopGroup.any(), configuration: configuration, id: 1, logger: logger
        ).get()
        do {
            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    /// Makes a database, opens it, runs `body`, closes and drops it.
    static func withStorage(_ kind: DatabaseKind, _ body: (SQLStorage, String) async throws -> Void) async throws {
        let database = try await make(kind)
        do {
            let storage = try await SQLStorage.open(database.reference, logger: Logger(label: "test"))
            do {
                try await body(storage, database.reference)
                try await storage.close()
            } catch {
                try? await storage.close()
                throw error
            }
        } catch {
            try? await database.drop()
            throw error
        }
        try await database.drop()
    }
}

struct ScratchDatabaseError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

extension Result where Failure == any Error {
    /// The outcome of an async throwing body, so cleanup can run before the error is rethrown.
    init(_ body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

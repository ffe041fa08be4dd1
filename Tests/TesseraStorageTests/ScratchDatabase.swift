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

    /// Both, always. Without a PostgreSQL server each PostgreSQL case is cancelled by name with
    /// the reason (`ScratchDatabase.make`; `scripts/test` counts them as skipped), and under CI
    /// it fails instead.
    static var underTest: [DatabaseKind] { allCases }
}

/// The PostgreSQL server the tests may use, from the environment.
enum PostgresTestServer {
    static let environmentVariable = "TESSERA_TEST_POSTGRES_URL"
    static var url: String? { ProcessInfo.processInfo.environment[environmentVariable].flatMap { $0.isEmpty ? nil : $0 } }
    /// Under CI a missing server fails the PostgreSQL cases instead of skipping them.
    static var required: Bool { ContinuousIntegration.isOn }
    static let howToConfigure =
        "set \(environmentVariable)=postgres://USER@HOST:PORT/DB (a role that may CREATE DATABASE), or run scripts/test with Debian's postgresql installed"
}

/// Whether this is a CI run, decided as `Tests/e2e/conftest.py` does: any `CI` but an empty or
/// false-like value (`true`, `1`, `yes`, `TRUE` all count; `.ci/run` exports `CI=true`).
enum ContinuousIntegration {
    static let falseValues: Set<String> = ["", "0", "false", "no", "off", "n", "f"]
    static var value: String? { ProcessInfo.processInfo.environment["CI"] }
    static var isOn: Bool { !falseValues.contains((value ?? "").trimmingCharacters(in: .whitespaces).lowercased()) }
}

/// A new, empty database for one test: a SQLite file in a temporary directory, or a database
/// made on the PostgreSQL server `TESSERA_TEST_POSTGRES_URL` names (`scripts/with-postgres`
/// starts one; `scripts/test` does so by itself when Debian's postgresql is installed). Without
/// a server, making a PostgreSQL database cancels the calling test case (fails it under CI).
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
                if PostgresTestServer.required {
                    throw ScratchDatabaseError(
                        message: "CI=\(ContinuousIntegration.value ?? "") but there is no PostgreSQL to test against: \(PostgresTestServer.howToConfigure)"
                    )
                }
                // A warning names the case in the output (a cancelled case alone would count as
                // passed); scripts/test counts the "Skipped:" warnings.
                let reason = "Skipped: PostgreSQL case, no server configured; \(PostgresTestServer.howToConfigure)"
                Issue.record(Comment(rawValue: reason), severity: .warning)
                try Test.cancel(Comment(rawValue: reason))
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

import Foundation
import Testing
import TesseraCore
import TesseraStorage

/// The storage conformance suite: every test runs, unchanged, on SQLite and on PostgreSQL,
/// through the core's storage protocols only. One file per concern, as sql-kit's
/// `SQLKitBenchmark` does: StorageConformance+Database, +Directory, +Lake, +Replay, +ServerKeys,
/// +OAuth, +PAM, +Audit, +TR50, +Console, +DataKey, +CredentialCache; this file holds the suite
/// and what its tests share. The tests of the stores the Lake verification path reads also run
/// behind the per-process credential cache (`StoresUnderTest`).
@Suite("Storage conformance (SQLite and PostgreSQL)")
struct StorageConformanceTests {
    static let now = Date(timeIntervalSince1970: 1_795_000_000)

    static func seed(_ stores: Stores) async throws -> (Organization, User) {
        let organization = Organization(domainName: "acme", name: "Acme", regions: ["us-west-2", "eu-west-1"], createdAt: now)
        let user = User(organizationID: organization.id, username: "wile", passwordHash: "$2b$04$hash", isAdmin: true, createdAt: now)
        try await stores.directory.createOrganization(organization, admin: user)
        return (organization, user)
    }

    /// Counts of `true` among concurrent runs of `attempt`.
    static func concurrently(_ count: Int, _ attempt: @escaping @Sendable () async throws -> Bool) async throws -> Int {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<count { group.addTask { try await attempt() } }
            return try await group.reduce(into: 0) { total, won in if won { total += 1 } }
        }
    }

    /// Runs `body` on every element concurrently; the results in the elements' order.
    static func each<Input: Sendable, Output: Sendable>(
        _ inputs: [Input], _ body: @escaping @Sendable (Input) async throws -> Output
    ) async throws -> [Output] {
        try await withThrowingTaskGroup(of: (Int, Output).self) { group in
            for (index, input) in inputs.enumerated() { group.addTask { (index, try await body(input)) } }
            var results = [Output?](repeating: nil, count: inputs.count)
            for try await (index, output) in group { results[index] = output }
            return results.compactMap { $0 }
        }
    }

    /// The code of the `TesseraError` `body` throws, nil if it throws nothing.
    static func code(_ body: () async throws -> Void) async -> String? {
        do { try await body() } catch let error as TesseraError { return error.code } catch { return "\(error)" }
        return nil
    }
}

/// What a conformance test runs on: a database, with its SQL stores as opened or behind the
/// per-process credential cache (`Stores.caching(lifetime:)`, as the server reads them), which
/// must behave the same.
struct StoresUnderTest: Sendable, CustomTestStringConvertible {
    enum Layer: Sendable {
        case sql
        case cached
    }

    let kind: DatabaseKind
    let layer: Layer

    var testDescription: String { layer == .sql ? kind.testDescription : kind.testDescription + ", cached" }

    /// Every database, each without and with the cache.
    static var all: [StoresUnderTest] {
        DatabaseKind.underTest.flatMap { kind in [Layer.sql, .cached].map { StoresUnderTest(kind: kind, layer: $0) } }
    }

    /// The stores to test. The cache lives an hour: every read it can serve in a test, it serves.
    func stores(on storage: SQLStorage) -> Stores {
        layer == .sql ? storage.stores : storage.stores.caching(lifetime: .seconds(3600))
    }
}

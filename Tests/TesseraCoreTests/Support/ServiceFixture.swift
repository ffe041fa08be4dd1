import Foundation
import Logging
import Synchronization
import Testing
import TesseraCore
import TesseraStorage

/// A clock a test moves by hand.
final class MovableClock: TesseraClock {
    private let current: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_795_000_000)) { current = Mutex(start) }

    func now() -> Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// The core's services (`TesseraServices`, as the server composes them) on a scratch SQLite
/// database, with a movable clock, a random data key and one organization `acme` whose admin is
/// `wile`. Each test makes its own (`ServiceFixture.with`); the database is removed afterwards.
struct ServiceFixture: Sendable {
    let services: TesseraServices
    let clock: MovableClock
    let dataKey: MasterKey
    let organization: Organization
    let user: User

    static var settings: CoreSettings {
        var settings = CoreSettings()
        settings.bcryptCost = 4
        return settings
    }

    /// Opens the database, runs `body`, closes the database and removes it, whatever `body` did.
    static func with(settings: CoreSettings = settings, _ body: (ServiceFixture) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-core-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let storage = try await SQLStorage.open("sqlite:" + directory.appendingPathComponent("t.sqlite").path, logger: Logger(label: "test"))
        let outcome: Result<Void, any Error>
        do {
            let fixture = try await make(stores: storage.stores, settings: settings)
            try await body(fixture)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        try await storage.close()
        try outcome.get()
    }

    static func make(stores: Stores, settings: CoreSettings) async throws -> ServiceFixture {
        let clock = MovableClock()
        let dataKey = try MasterKey(bytes: MasterKey.generate())
        let services = TesseraServices(stores: stores, dataKey: dataKey, settings: settings, clock: clock, issuer: { "https://tessera.test" })
        let (organization, user) = try await services.directory.createOrganization(
            Organization(domainName: "acme", name: "Acme", createdAt: clock.now()), adminUsername: "wile", adminPassword: "correct horse battery"
        )
        return ServiceFixture(services: services, clock: clock, dataKey: dataKey, organization: organization, user: try #require(user))
    }
}

/// The code of the `TesseraError` `body` throws; nil if it throws nothing. Any other error fails
/// the test.
func refusalCode(_ body: () async throws -> Void) async -> String? {
    do {
        try await body()
        return nil
    } catch let error as TesseraError {
        return error.code
    } catch {
        Issue.record(error, "not a TesseraError")
        return "\(error)"
    }
}

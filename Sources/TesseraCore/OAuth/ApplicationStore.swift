import Foundation

/// OAuth applications. Every method is one transaction.
public protocol ApplicationStore: Sendable {
    func insert(_ application: ClientApplication) async throws
    func application(id: String) async throws -> ClientApplication?
    func applications(organizationID: UUID) async throws -> [ClientApplication]
    /// Deletes; false if the organization has no such application.
    func delete(id: String, organizationID: UUID) async throws -> Bool
}

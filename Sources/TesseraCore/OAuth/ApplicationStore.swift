import Foundation

/// OAuth applications. Every method is one transaction.
public protocol ApplicationStore: Sendable {
    func insert(_ application: ClientApplication) async throws
    func application(id: String) async throws -> ClientApplication?
    func applications(organizationID: UUID) async throws -> [ClientApplication]
    /// Makes `secretHash` the application's secret; the one it replaces stays accepted until
    /// `previousExpiresAt` (nil: it stops at once). Announces `.application(id:)`. The
    /// application as now stored, or nil if the organization has no such application.
    func rotateSecret(id: String, organizationID: UUID, secretHash: String, previousExpiresAt: Date?) async throws -> ClientApplication?
    /// Deletes; false if the organization has no such application.
    func delete(id: String, organizationID: UUID) async throws -> Bool
}

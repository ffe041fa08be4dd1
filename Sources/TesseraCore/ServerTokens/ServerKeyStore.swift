import Foundation

/// The server's signing keys. Every method is one transaction.
public protocol ServerKeyStore: Sendable {
    /// Adds a key as the organization's signing key, retiring the current one (if any) at
    /// `retireAt`, verifying until `verifyUntil`; atomically.
    func rotate(to key: ServerSigningKey, retireAt: Date, verifyUntil: Date) async throws
    /// The organization's signing key (the one not retired), if it has one.
    func activeKey(organizationID: UUID) async throws -> ServerSigningKey?
    /// Every key of every organization still in the JWKS at `date`.
    func publishedKeys(at date: Date) async throws -> [ServerSigningKey]
    func keys(organizationID: UUID) async throws -> [ServerSigningKey]
    func key(id: String) async throws -> ServerSigningKey?
}

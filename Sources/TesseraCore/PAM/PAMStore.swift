import Foundation

/// Credential providers and authentication tokens. Every method is one transaction.
public protocol PAMStore: Sendable {
    func insert(_ provider: CredentialProvider) async throws
    /// By id or by name, within the organization.
    func provider(identifier: String, organizationID: UUID) async throws -> CredentialProvider?
    func providers(organizationID: UUID) async throws -> [CredentialProvider]
    func insert(_ token: AuthenticationToken) async throws
    /// By id, within the organization (any organization when nil: ids are unique server-wide).
    func token(id: String, organizationID: UUID?) async throws -> AuthenticationToken?
    /// By the short token's keyed hash, within the organization (any when nil: hashes are unique).
    func token(shortTokenHash: String, organizationID: UUID?) async throws -> AuthenticationToken?
    /// One page (ordered by id) and the total matching count.
    func tokens(organizationID: UUID, query: AuthenticationTokenQuery) async throws -> (page: [AuthenticationToken], total: Int)
    /// Sets `revoked` on one token; returns the updated record.
    func setRevoked(id: String, organizationID: UUID, revoked: Bool, at time: Int64) async throws -> AuthenticationToken?
    /// Sets `revoked` on every token of a consumer; returns how many changed.
    func setRevoked(consumerID: String, organizationID: UUID, revoked: Bool, at time: Int64) async throws -> Int
}

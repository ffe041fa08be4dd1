import Foundation

/// Appends audit events and reads them back; there is no way to change or remove one.
public protocol AuditStore: Sendable {
    func append(_ event: AuditEvent) async throws
    /// Events matching `query`, oldest first (newest first if it says so).
    func events(_ query: AuditQuery) async throws -> [AuditEvent]
    /// The actions and the actors an organization's events name, sorted (at most `limit` each),
    /// to offer as filter choices.
    func choices(organizationID: UUID, limit: Int) async throws -> (actions: [String], actors: [String])
}

extension AuditStore {
    /// Events of an organization after `cursor` (an event id), oldest first.
    public func events(organizationID: UUID, after cursor: String?, action: String?, limit: Int) async throws -> [AuditEvent] {
        try await events(AuditQuery(organizationID: organizationID, after: cursor, action: action, limit: limit))
    }
}

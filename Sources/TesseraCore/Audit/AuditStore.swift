import Foundation

/// Appends audit events and reads them back; there is no way to change or remove one.
public protocol AuditStore: Sendable {
    func append(_ event: AuditEvent) async throws
    /// Events matching `query`, oldest first.
    func events(_ query: AuditQuery) async throws -> [AuditEvent]
}

extension AuditStore {
    /// Events of an organization after `cursor` (an event id), oldest first.
    public func events(organizationID: UUID, after cursor: String?, action: String?, limit: Int) async throws -> [AuditEvent] {
        try await events(AuditQuery(organizationID: organizationID, after: cursor, action: action, limit: limit))
    }
}

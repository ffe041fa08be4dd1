import Foundation

/// One entry of the append-only audit log: who did what, to what, when, and how it ended.
public struct AuditEvent: Sendable, Equatable {
    /// Time-ordered: `evt_` + 13-digit milliseconds + random; sorting by id sorts by time.
    public var id: String
    public var organizationID: UUID?
    /// Milliseconds since 1970.
    public var occurredAt: Int64
    /// `user:<name>`, `app:<client id>`, or `anonymous`.
    public var actor: String
    /// e.g. `pat.create`, `key.delete`, `oauth.token`, `pam.generate`, `lake.authenticate`.
    public var action: String
    public var target: String?
    /// `success` or `refused`.
    public var outcome: String
    /// The error code of a refusal.
    public var reason: String?
    public var requestID: String?

    public init(
        id: String, organizationID: UUID?, occurredAt: Int64, actor: String, action: String, target: String?, outcome: String,
        reason: String?, requestID: String?
    ) {
        self.id = id
        self.organizationID = organizationID
        self.occurredAt = occurredAt
        self.actor = actor
        self.action = action
        self.target = target
        self.outcome = outcome
        self.reason = reason
        self.requestID = requestID
    }
}

/// Appends audit events and reads them back; there is no way to change or remove one.
public protocol AuditStore: Sendable {
    func append(_ event: AuditEvent) async throws
    /// Events of an organization after `cursor` (an event id), oldest first.
    func events(organizationID: UUID, after cursor: String?, action: String?, limit: Int) async throws -> [AuditEvent]
}

/// Records audit events with the time and a sortable id.
public struct AuditLog: Sendable {
    private let store: any AuditStore
    private let clock: any TesseraClock

    public init(store: any AuditStore, clock: any TesseraClock) {
        self.store = store
        self.clock = clock
    }

    public func record(
        organizationID: UUID?, actor: String, action: String, target: String? = nil, refusal: TesseraError? = nil, requestID: String?
    ) async throws {
        let id = sortableID(at: clock.now())
        let occurred = Int64(id.prefix(13)) ?? clock.now().unixSeconds * 1000
        try await store.append(AuditEvent(
            id: "evt_" + id, organizationID: organizationID, occurredAt: occurred, actor: actor,
            action: action, target: target, outcome: refusal == nil ? "success" : "refused", reason: refusal?.code, requestID: requestID
        ))
    }

    public func events(organizationID: UUID, after cursor: String?, action: String?, limit: Int) async throws -> [AuditEvent] {
        try await store.events(organizationID: organizationID, after: cursor, action: action, limit: limit)
    }
}

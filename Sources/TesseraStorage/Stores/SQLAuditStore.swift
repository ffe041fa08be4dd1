import Foundation
import SQLKit
import TesseraCore

/// The audit log on SQL: insert and select only.
struct SQLAuditStore: AuditStore {
    let backend: any SQLBackend

    func append(_ event: AuditEvent) async throws {
        try await backend.transaction { db in
            try await db.raw("""
                INSERT INTO audit_events (id, organization_id, occurred_at, actor, actor_claimed, action, target, outcome, reason, request_id,
                    client, event_count)
                VALUES (\(bind: event.id), \(bind: event.organizationID?.uuidString), \(bind: event.occurredAt), \(bind: event.actor),
                    \(bind: Int64(event.actorClaimed ? 1 : 0)), \(bind: event.action), \(bind: event.target), \(bind: event.outcome),
                    \(bind: event.reason), \(bind: event.requestID), \(bind: event.client), \(bind: Int64(event.count)))
                """).run()
        }
    }

    func events(_ query: AuditQuery) async throws -> [AuditEvent] {
        try await backend.read { db in
            var filter = if let organizationID = query.organizationID {
                SQLQueryString("organization_id = \(bind: organizationID.uuidString)")
            } else {
                SQLQueryString("organization_id IS NULL")
            }
            if let cursor = query.after { filter = filter + SQLQueryString(" AND id > \(bind: cursor)") }
            if let action = query.action { filter = filter + SQLQueryString(" AND action = \(bind: action)") }
            let limit = max(0, query.limit)
            let rows = try await db.raw(
                "SELECT * FROM audit_events WHERE " + filter + SQLQueryString(" ORDER BY id LIMIT \(unsafeRaw: String(limit))")
            ).all()
            return try rows.map { row in
                AuditEvent(
                    id: try row.string("id"), organizationID: try row.optionalString("organization_id").flatMap(UUID.init(uuidString:)),
                    occurredAt: try row.int("occurred_at"), actor: try row.string("actor"), actorClaimed: try row.bool("actor_claimed"),
                    action: try row.string("action"), target: try row.optionalString("target"), outcome: try row.string("outcome"),
                    reason: try row.optionalString("reason"), requestID: try row.optionalString("request_id"),
                    client: try row.optionalString("client"), count: Int(try row.int("event_count"))
                )
            }
        }
    }
}

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

    func choices(organizationID: UUID, limit: Int) async throws -> (actions: [String], actors: [String]) {
        try await backend.read { db in
            let bounded = SQLQueryString(" LIMIT \(unsafeRaw: String(max(0, limit)))")
            let actions = try await db.raw(
                "SELECT DISTINCT action FROM audit_events WHERE organization_id = \(bind: organizationID.uuidString) ORDER BY action" + bounded
            ).all().map { try $0.string("action") }
            let actors = try await db.raw(
                "SELECT DISTINCT actor FROM audit_events WHERE organization_id = \(bind: organizationID.uuidString) ORDER BY actor" + bounded
            ).all().map { try $0.string("actor") }
            return (actions, actors)
        }
    }

    func events(_ query: AuditQuery) async throws -> [AuditEvent] {
        try await backend.read { db in
            var filter = if let organizationID = query.organizationID {
                SQLQueryString("organization_id = \(bind: organizationID.uuidString)")
            } else {
                SQLQueryString("organization_id IS NULL")
            }
            if query.newestFirst {
                if let cursor = query.before { filter = filter + SQLQueryString(" AND id < \(bind: cursor)") }
            } else if let cursor = query.after {
                filter = filter + SQLQueryString(" AND id > \(bind: cursor)")
            }
            if let action = query.action { filter = filter + SQLQueryString(" AND action = \(bind: action)") }
            if let outcome = query.outcome { filter = filter + SQLQueryString(" AND outcome = \(bind: outcome)") }
            if let actor = query.actor { filter = filter + SQLQueryString(" AND actor = \(bind: actor)") }
            if let search = query.search, !search.isEmpty {
                // LIKE with its wildcards escaped; lower() folds ASCII alike on both databases.
                let pattern = "%" + search.lowercased().replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
                filter = filter + SQLQueryString("""
                     AND (lower(actor) LIKE \(bind: pattern) ESCAPE '\\' OR lower(action) LIKE \(bind: pattern) ESCAPE '\\'
                     OR lower(COALESCE(target, '')) LIKE \(bind: pattern) ESCAPE '\\' OR lower(COALESCE(reason, '')) LIKE \(bind: pattern) ESCAPE '\\')
                    """)
            }
            let limit = max(0, query.limit)
            let order = query.newestFirst ? "DESC" : "ASC"
            let rows = try await db.raw(
                "SELECT * FROM audit_events WHERE " + filter + SQLQueryString(" ORDER BY id \(unsafeRaw: order) LIMIT \(unsafeRaw: String(limit))")
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

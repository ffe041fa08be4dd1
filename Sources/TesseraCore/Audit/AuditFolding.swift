import Foundation
import Synchronization

/// Keeps a flood of refusals from flooding the audit log (docs/audit.md, "Folding").
///
/// Refusals are grouped by key: organization, actor (and whether it was only claimed), action,
/// reason and client address. A key's interval starts at its first refusal and lasts
/// `policy.interval`. In an interval, the first `policy.individually` refusals of a key are each
/// written as they happen; the rest are only counted, and when the interval ends one entry is
/// written for them, with `count` set, the target and request id of the last of them and its
/// time. So a key writes at most `individually + 1` entries per interval, and the counts of its
/// entries add up to the number of refusals.
///
/// Actors come from what a credential claims, so one client could invent a new actor per request:
/// a client with `policy.keysPerClient` keys open (or a process with `policy.keys`) has its next
/// new keys folded into one per action and reason, with actor `various` and no organization.
/// Counts not yet written are lost if the process is killed (a graceful stop writes them).
public final class AuditFolding: Sendable {
    /// The knobs; the defaults are docs/audit.md's.
    public struct Policy: Sendable, Equatable {
        /// How long a key's interval lasts, in seconds.
        public var interval: TimeInterval = 60
        /// Refusals of a key written one by one in an interval before the rest are counted.
        public var individually = 10
        /// Keys one client address may have open before its new ones fold together.
        public var keysPerClient = 32
        /// Keys the process keeps open before new ones fold together.
        public var keys = 10_000

        public init() {}
    }

    struct Key: Hashable {
        var organizationID: UUID?
        var actor: String
        var actorClaimed: Bool
        var action: String
        var reason: String?
        var client: String?

        init(_ event: AuditEvent) {
            organizationID = event.organizationID
            actor = event.actor
            actorClaimed = event.actorClaimed
            action = event.action
            reason = event.reason
            client = event.client
        }

        /// The key of the refusals folded together because too many keys were open.
        var overflow: Key {
            var key = self
            key.organizationID = nil
            key.actor = "various"
            key.actorClaimed = true
            return key
        }
    }

    struct Interval {
        var start: Date
        var written: Int
        /// The folded entry being counted, if any refusal was folded yet.
        var folded: AuditEvent?
    }

    struct State {
        var intervals: [Key: Interval] = [:]
        var keysPerClient: [String: Int] = [:]
        /// Folded entries of intervals that ended, waiting to be written.
        var due: [AuditEvent] = []
    }

    public let policy: Policy
    private let state = Mutex(State())

    public init(policy: Policy) {
        self.policy = policy
    }

    /// Whether `event` (a refusal) is to be written now; if not, it has been counted.
    func admit(_ event: AuditEvent, at now: Date) -> Bool {
        state.withLock { state in
            var key = Key(event)
            if let open = state.intervals[key], now.timeIntervalSince(open.start) >= policy.interval {
                close(key, in: &state)
            }
            if state.intervals[key] == nil,
                state.keysPerClient[key.client ?? "", default: 0] >= policy.keysPerClient || state.intervals.count >= policy.keys
            {
                key = key.overflow
                if let open = state.intervals[key], now.timeIntervalSince(open.start) >= policy.interval { close(key, in: &state) }
            }
            guard var interval = state.intervals[key] else {
                state.intervals[key] = Interval(start: now, written: 1, folded: nil)
                state.keysPerClient[key.client ?? "", default: 0] += 1
                return true
            }
            defer { state.intervals[key] = interval }
            if interval.written < policy.individually {
                interval.written += 1
                return true
            }
            var folded = interval.folded ?? AuditEvent(
                id: "", organizationID: key.organizationID, occurredAt: event.occurredAt, actor: key.actor, actorClaimed: key.actorClaimed,
                action: key.action, target: nil, outcome: event.outcome, reason: key.reason, requestID: nil, client: key.client, count: 0
            )
            folded.count += 1
            folded.occurredAt = event.occurredAt
            folded.target = event.target
            folded.requestID = event.requestID
            interval.folded = folded
            return false
        }
    }

    /// The folded entries whose interval has ended by `now` (or all, with `everything`); their
    /// keys start afresh.
    func takeDue(at now: Date, everything: Bool) -> [AuditEvent] {
        state.withLock { state in
            for (key, interval) in state.intervals where everything || now.timeIntervalSince(interval.start) >= policy.interval {
                close(key, in: &state)
            }
            defer { state.due = [] }
            return state.due
        }
    }

    /// Refusals counted but not yet written, over every key (for tests and metrics).
    public var pendingCount: Int {
        state.withLock { state in state.intervals.values.reduce(0) { $0 + ($1.folded?.count ?? 0) } + state.due.reduce(0) { $0 + $1.count } }
    }

    private func close(_ key: Key, in state: inout State) {
        guard let interval = state.intervals.removeValue(forKey: key) else { return }
        if let folded = interval.folded { state.due.append(folded) }
        let client = key.client ?? ""
        state.keysPerClient[client, default: 1] -= 1
        if state.keysPerClient[client] == 0 { state.keysPerClient[client] = nil }
    }
}

import Foundation

/// One entry of the append-only audit log: who did what, to what, when, from where, and how it
/// ended. A folded entry stands for `count` identical refusals (see `AuditFolding`).
public struct AuditEvent: Sendable, Equatable {
    /// Time-ordered: `evt_` + 13-digit milliseconds + random; sorting by id sorts by time.
    public var id: String
    public var organizationID: UUID?
    /// Milliseconds since 1970 (for a folded entry: of the last refusal it counts).
    public var occurredAt: Int64
    /// `user:<name>`, `app:<client id>`, `jwt:<whoami>`, `cli:<OS user>`, or `anonymous`.
    public var actor: String
    /// True when `actor` is what a refused credential claimed, not who was authenticated.
    public var actorClaimed: Bool
    /// e.g. `pat.create`, `key.delete`, `oauth.token`, `pam.generateJwt`, `lake.authenticate`.
    public var action: String
    public var target: String?
    /// `success` or `refused`.
    public var outcome: String
    /// The error code of a refusal.
    public var reason: String?
    public var requestID: String?
    /// The client's address (behind a trusted proxy: the one it forwarded), or the host a CLI
    /// command ran on.
    public var client: String?
    /// How many decisions this entry stands for: 1, or more for a folded entry.
    public var count: Int

    public init(
        id: String, organizationID: UUID?, occurredAt: Int64, actor: String, actorClaimed: Bool = false, action: String, target: String?,
        outcome: String, reason: String?, requestID: String?, client: String? = nil, count: Int = 1
    ) {
        self.id = id
        self.organizationID = organizationID
        self.occurredAt = occurredAt
        self.actor = actor
        self.actorClaimed = actorClaimed
        self.action = action
        self.target = target
        self.outcome = outcome
        self.reason = reason
        self.requestID = requestID
        self.client = client
        self.count = count
    }
}

/// Which events to read back, oldest first.
public struct AuditQuery: Sendable, Equatable {
    /// Whose events: one organization's, or those filed under none (`nil`: refusals whose
    /// credential claimed no existing organization).
    public var organizationID: UUID?
    /// Events after this id (a cursor), oldest first.
    public var after: String?
    /// Events before this id, newest first (the console's view); takes precedence over `after`.
    public var before: String?
    /// Newest first (with `before` as the cursor), instead of oldest first.
    public var newestFirst: Bool
    public var action: String?
    /// `success` or `refused`.
    public var outcome: String?
    public var actor: String?
    /// Text the actor, action, target or reason contains (case-insensitively for ASCII).
    public var search: String?
    public var limit: Int

    public init(
        organizationID: UUID?, after: String? = nil, action: String? = nil, limit: Int = 100, before: String? = nil, newestFirst: Bool = false,
        outcome: String? = nil, actor: String? = nil, search: String? = nil
    ) {
        self.organizationID = organizationID
        self.after = after
        self.before = before
        self.newestFirst = newestFirst
        self.action = action
        self.outcome = outcome
        self.actor = actor
        self.search = search
        self.limit = limit
    }
}

/// Who made a decision happen: an authenticated principal, or what a refused credential claimed.
public struct AuditActor: Sendable, Hashable {
    public var name: String
    /// True when the credential naming this actor was not (or could not be) verified.
    public var claimed: Bool

    public init(_ name: String, claimed: Bool = false) {
        self.name = String(name.prefix(AuditLog.maximumFieldLength))
        self.claimed = claimed
    }

    public static let anonymous = AuditActor("anonymous")
    public static func user(_ username: String, claimed: Bool = false) -> AuditActor { AuditActor("user:" + username, claimed: claimed) }
    public static func app(_ clientID: String, claimed: Bool = false) -> AuditActor { AuditActor("app:" + clientID, claimed: claimed) }
    /// An administrator at the command line: `cli:<OS user name>`.
    public static func cli(_ osUser: String) -> AuditActor { AuditActor("cli:" + osUser) }
}

/// Where a decision was asked for: the request (or CLI run) id and the client's address.
public struct AuditOrigin: Sendable, Hashable {
    public var requestID: String?
    public var client: String?

    public init(requestID: String?, client: String?) {
        self.requestID = requestID
        self.client = client
    }
}

/// Records audit events with the time and a sortable id. Successes are appended at once;
/// refusals go through `AuditFolding`, so that a flood of one refusal cannot flood the log.
public struct AuditLog: Sendable {
    /// Actors and targets come from callers (claimed names, paths): they are cut to this length.
    public static let maximumFieldLength = 200

    private let store: any AuditStore
    private let clock: any TesseraClock
    /// The folding state of this process's refusals.
    public let folding: AuditFolding

    public init(store: any AuditStore, clock: any TesseraClock, folding: AuditFolding.Policy = .init()) {
        self.store = store
        self.clock = clock
        self.folding = AuditFolding(policy: folding)
    }

    /// Records one decision: a success (`refusal` nil) is appended; a refusal is appended unless
    /// its key already had `policy.individually` entries in the current interval, in which case it
    /// is counted and written folded when the interval ends (`flush`).
    public func record(
        organizationID: UUID?, actor: AuditActor, action: String, target: String? = nil, refusal: String? = nil, origin: AuditOrigin
    ) async throws {
        let now = clock.now()
        let event = AuditEvent(
            id: "", organizationID: organizationID, occurredAt: Self.milliseconds(now), actor: actor.name, actorClaimed: actor.claimed,
            action: action, target: target.map { String($0.prefix(Self.maximumFieldLength)) }, outcome: refusal == nil ? "success" : "refused",
            reason: refusal.map { String($0.prefix(Self.maximumFieldLength)) }, requestID: origin.requestID, client: origin.client
        )
        if refusal != nil, !folding.admit(event, at: now) { return }
        try await store.append(stamped(event, at: now, keepingTime: false))
    }

    /// Records what the caller did (a refusal carries its `TesseraError` code).
    public func record(
        organizationID: UUID?, actor: AuditActor, action: String, target: String? = nil, refusal: TesseraError?, origin: AuditOrigin
    ) async throws {
        try await record(organizationID: organizationID, actor: actor, action: action, target: target, refusal: refusal?.code, origin: origin)
    }

    /// Writes the folded entries whose interval has ended (all of them with `everything`, as at
    /// shutdown). Returns how many entries it wrote.
    @discardableResult
    public func flush(everything: Bool = false) async throws -> Int {
        let now = clock.now()
        let due = folding.takeDue(at: now, everything: everything)
        for event in due {
            try await store.append(stamped(event, at: now, keepingTime: true))
        }
        return due.count
    }

    public func events(_ query: AuditQuery) async throws -> [AuditEvent] {
        try await store.events(query)
    }

    /// The actions and actors an organization's events name, to filter by.
    public func choices(organizationID: UUID, limit: Int = 200) async throws -> (actions: [String], actors: [String]) {
        try await store.choices(organizationID: organizationID, limit: limit)
    }

    public func events(organizationID: UUID, after cursor: String?, action: String?, limit: Int) async throws -> [AuditEvent] {
        try await store.events(AuditQuery(organizationID: organizationID, after: cursor, action: action, limit: limit))
    }

    /// Gives the event its id (the time it is written); `occurredAt` becomes that time too, but
    /// a folded entry keeps the time of the last refusal it counts.
    private func stamped(_ event: AuditEvent, at date: Date, keepingTime: Bool) -> AuditEvent {
        var stamped = event
        let id = sortableID(at: date)
        stamped.id = "evt_" + id
        if !keepingTime { stamped.occurredAt = Int64(id.prefix(13)) ?? event.occurredAt }
        return stamped
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }
}

import Foundation

/// A signed-on web console session, stored by the keyed hash of its cookie value.
public struct ConsoleSession: Sendable, Equatable {
    public var idHash: String
    public var userID: UUID
    public var createdAt: Date
    public var expiresAt: Date

    public init(idHash: String, userID: UUID, createdAt: Date, expiresAt: Date) {
        self.idHash = idHash
        self.userID = userID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// Why the console refused a sign-on: in words for the page, and as the audit reason
/// (`invalid_credentials`, or `locked_out` for an attempt while the account is locked).
public struct ConsoleSignOnError: Error, Sendable, Equatable {
    public let message: String
    public let reason: String
}

/// Web console sessions: password sign-on (with the shared lockout), a random session id that
/// only the browser holds (the database keeps its keyed hash, so a stolen database opens no
/// session), and CSRF tokens bound to the session (a keyed hash of the session id, so they need
/// no storage and differ per session).
public struct ConsoleSessionService: Sendable {
    /// A session lasts this long from sign-on.
    public static let lifetime: TimeInterval = 8 * 3600

    private let store: any ConsoleSessionStore
    private let lockout: SignOnLockout
    private let directory: DirectoryManager
    private let hasher: SecretHasher
    private let clock: any TesseraClock
    /// Where a form's one-time token is recorded when the form is sent (the atomic first-use
    /// record single-use JWTs use, so it holds across replicas).
    private let submissions: any ReplayStore

    public init(
        store: any ConsoleSessionStore, lockout: SignOnLockout, directory: DirectoryManager, hasher: SecretHasher, clock: any TesseraClock,
        submissions: any ReplayStore
    ) {
        self.store = store
        self.lockout = lockout
        self.directory = directory
        self.hasher = hasher
        self.clock = clock
        self.submissions = submissions
    }

    /// A new one-time token for the forms of one page: sending it twice (reload, back,
    /// double click) is caught by `isFirstSubmission`.
    public func formToken() -> String { SecretGenerator.base62(length: 24) }

    /// Whether this is the first time a form with `token` is sent in this session; records it.
    public func isFirstSubmission(of token: String, sessionID: String) async throws -> Bool {
        guard !token.isEmpty, token.count <= 64 else { return false }
        let fingerprint = "console-form:" + hasher.hash(sessionID + ":" + token)
        return try await submissions.recordFirstUse(fingerprint: fingerprint, expiresAt: clock.now().addingTimeInterval(Self.lifetime))
    }

    /// Checks the password and opens a session; returns the session id for the cookie.
    public func signOn(username: String, password: String) async throws -> (sessionID: String, user: User) {
        let user: User
        do {
            (user, _) = try await lockout.authenticate(username: username, password: password)
        } catch SignOnRefusal.locked(let until) {
            throw ConsoleSignOnError(message: Self.lockedMessage(until), reason: "locked_out")
        } catch SignOnRefusal.invalidCredentials(lockedUntil: .some(let until)) {
            // This failure locked the account: it was itself a wrong password.
            throw ConsoleSignOnError(message: Self.lockedMessage(until), reason: "invalid_credentials")
        } catch SignOnRefusal.invalidCredentials {
            throw ConsoleSignOnError(message: "The username or password is incorrect.", reason: "invalid_credentials")
        } catch SignOnRefusal.disabled {
            throw ConsoleSignOnError(message: "This account is disabled. Ask an administrator to enable it.", reason: "user_disabled")
        }
        let sessionID = SecretGenerator.base62(length: 43)
        let now = clock.now()
        try await store.insert(ConsoleSession(idHash: hasher.hash(sessionID), userID: user.id, createdAt: now, expiresAt: now.addingTimeInterval(Self.lifetime)))
        return (sessionID, user)
    }

    static func lockedMessage(_ until: Date) -> String {
        "Too many failed sign-ons: this account is locked until \(until.iso8601). Try again then, or ask an administrator to unlock it."
    }

    /// The signed-on user and organization of a live session, or nil.
    public func resolve(_ sessionID: String) async throws -> (User, Organization)? {
        guard sessionID.count <= 128, let session = try await store.session(idHash: hasher.hash(sessionID)), session.expiresAt > clock.now(),
            let user = try await directory.user(id: session.userID), !user.isDisabled, let organization = try await directory.organization(id: user.organizationID)
        else { return nil }
        return (user, organization)
    }

    public func signOff(_ sessionID: String) async throws {
        try await store.delete(idHash: hasher.hash(sessionID))
    }

    /// Ends the user's console sessions, but `keeping` (the one making the change) if given.
    public func signOffAll(userID: UUID, keeping sessionID: String? = nil) async throws {
        try await store.deleteSessions(userID: userID, keeping: sessionID.map(hasher.hash))
    }

    /// The CSRF token forms of this session must carry.
    public func csrfToken(for sessionID: String) -> String {
        hasher.hash("console-csrf:" + sessionID)
    }

    /// Whether `token` is this session's CSRF token (compared in constant time).
    public func isValidCSRF(_ token: String?, for sessionID: String) -> Bool {
        guard let token else { return false }
        return constantTimeEqual(token, csrfToken(for: sessionID))
    }

    /// A keyed hash vouching that the console generated `publicKeyPEM` (so the key it saves is
    /// recorded as generated, not uploaded).
    public func generatedKeyAttestation(_ publicKeyPEM: String, sessionID: String) -> String {
        hasher.hash("console-generated-key:" + sessionID + ":" + publicKeyPEM)
    }

    public func purgeExpired() async throws {
        try await store.purgeExpired(before: clock.now())
    }
}

import Foundation

/// Why a password sign-on was refused.
public enum SignOnRefusal: Error, Sendable, Equatable {
    /// Wrong username or password (the same whichever); `lockedUntil` if this failure locked it.
    case invalidCredentials(lockedUntil: Date?)
    /// Too many failures: no password is checked until then.
    case locked(until: Date)
    /// The password was right but an administrator disabled the user.
    case disabled
}

/// Password sign-on with lockout, shared by every front door that takes a password form (TR50
/// `api.authenticate`, the web console): the 8th failure within 30 minutes locks the username for
/// 30 minutes from that failure; a success clears the count. The count is per username and
/// shared, so failures at one front door count at the other.
public struct SignOnLockout: Sendable {
    public static let threshold = 8
    public static let window: TimeInterval = 30 * 60

    private let failures: any LoginFailureStore
    private let directory: DirectoryManager
    private let clock: any TesseraClock

    public init(failures: any LoginFailureStore, directory: DirectoryManager, clock: any TesseraClock) {
        self.failures = failures
        self.directory = directory
        self.clock = clock
    }

    /// The user and organization, or a `SignOnRefusal`.
    public func authenticate(username: String, password: String) async throws -> (User, Organization) {
        let now = clock.now()
        let recent = try await failures.loginFailures(username: username, since: now.addingTimeInterval(-Self.window))
        if recent.count >= Self.threshold, let last = recent.last {
            TesseraMetrics.refusal(.password, code: "locked_out")
            throw SignOnRefusal.locked(until: last.addingTimeInterval(Self.window))
        }
        let signedOn: (User, Organization)
        do {
            signedOn = try await directory.authenticate(username: username, password: password)
        } catch let error as TesseraError where error.code == "user_disabled" {
            throw SignOnRefusal.disabled
        } catch let error as TesseraError where error.kind == .unauthenticated {
            try await failures.recordLoginFailure(username: username, at: now)
            throw SignOnRefusal.invalidCredentials(lockedUntil: recent.count + 1 >= Self.threshold ? now.addingTimeInterval(Self.window) : nil)
        }
        if !recent.isEmpty { try await failures.clearLoginFailures(username: username) }
        return signedOn
    }
}

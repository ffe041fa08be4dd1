import Foundation

/// One decision of a TR50 envelope (TesseraServer's `TR50Envelope`), told to its observer (the TR50 front door audits it):
/// the command (`api.authenticate` for the `auth` entry), who ran it, and how it ended.
public struct TR50Decision: Sendable {
    public var command: String
    /// The authenticated caller; nil when authentication failed or was missing.
    public var principal: TR50Principal?
    /// What the envelope claimed when no principal was authenticated: `user:<username>` or
    /// `app:<appId>` from `api.authenticate`, or a session JWT's unverified `jwt:<whoami>`. Never
    /// a secret (no session id, password or token).
    public var claimant: String?
    /// The organization domain name or id the claimant named, if any (a JWT's `org`).
    public var claimedOrganization: String?
    public var outcome: TR50Outcome

    public init(command: String, principal: TR50Principal?, claimant: String?, claimedOrganization: String?, outcome: TR50Outcome) {
        self.command = command
        self.principal = principal
        self.claimant = claimant
        self.claimedOrganization = claimedOrganization
        self.outcome = outcome
    }
}

/// Told each decision of a TR50 envelope as it is made.
public typealias TR50Observer = @Sendable (TR50Decision) async -> Void

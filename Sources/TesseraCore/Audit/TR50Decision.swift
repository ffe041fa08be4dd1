import Foundation

/// One decision `TR50Service.execute` made, told to its observer (the TR50 front door audits it):
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

    /// What an envelope claims: `auth`'s username or appId, else the credential's unverified
    /// claims when it is a JWT (a bare session id claims nothing).
    public static func claims(auth: JSONValue?, credential: String?) -> (claimant: String?, organization: String?) {
        if case .object(let fields)? = auth, case .object(let params)? = fields["params"] {
            if let appID = params["appId"]?.stringValue { return ("app:" + appID, nil) }
            if let username = params["username"]?.stringValue { return ("user:" + username, nil) }
        }
        guard let credential, credential.contains("."), let jws = try? CompactJWS(credential) else { return (nil, nil) }
        let who = jws.payload["whoami"]?.stringValue.map { "jwt:" + $0 } ?? jws.payload["sub"]?.stringValue
        return (who, jws.payload["org"]?.stringValue)
    }

    /// The command name of an envelope entry, if it has one.
    public static func command(of entry: JSONValue) -> String {
        if case .object(let fields) = entry, let name = fields["command"]?.stringValue { return name }
        return "(none)"
    }
}

/// Told each decision of a TR50 envelope as it is made.
public typealias TR50Observer = @Sendable (TR50Decision) async -> Void

/// The kind of credential a request presented, as the access log and the metrics name it:
/// `CredentialKind`'s bearer kinds, and the passwords, client credentials and sessions of the
/// other doors. Never the credential itself.
public enum PresentedCredential: String, Sendable, CaseIterable {
    case lakeJWT = "lake_jwt"
    case accessToken = "access_token"
    case pamJWT = "pam_jwt"
    case pamShortToken = "pam_short_token"
    case tr50JWT = "tr50_jwt"
    /// A bearer credential that is none of the above (a PAT sent alone, a stray string).
    case opaque
    /// A username and password (HTTP Basic, the console's sign-on, TR50's `api.authenticate`).
    case password
    /// An OAuth client secret (client_secret_basic or client_secret_post).
    case clientSecret = "client_secret"
    /// An OAuth client assertion (private_key_jwt).
    case privateKeyJWT = "private_key_jwt"
    /// A TR50 session id (the `sessionId` header or the envelope's `auth`).
    case tr50Session = "tr50_session"
    /// A TR50 application token (`api.authenticate` with `appToken`).
    case tr50AppToken = "tr50_app_token"
    /// The console's session cookie.
    case consoleSession = "console_session"

    public init(_ kind: CredentialKind) {
        switch kind {
        case .lakeJWT: self = .lakeJWT
        case .accessToken: self = .accessToken
        case .pamJWT: self = .pamJWT
        case .pamShortToken: self = .pamShortToken
        case .tr50JWT: self = .tr50JWT
        case .opaque: self = .opaque
        }
    }
}

import Hummingbird
import Synchronization
import TesseraCore

/// What the access log says of one request beyond its method, route and status: the kind of
/// credential the caller presented and the code of a refusal, noted by the front doors as they
/// learn them. `AccessLogMiddleware` makes one per request, only when it is going to log the
/// request, and reads it when the response is ready.
final class AccessLogNote: Sendable {
    private struct State {
        var credential: PresentedCredential?
        var code: String?
    }

    private let state = Mutex(State())

    var credential: PresentedCredential? { state.withLock { $0.credential } }
    var code: String? { state.withLock { $0.code } }

    /// The credential the request presents (the last one noted: an envelope's own login
    /// outranks the header it came with).
    func credential(_ kind: PresentedCredential?) {
        guard let kind else { return }
        state.withLock { $0.credential = kind }
    }

    /// The code of the refusal the response carries: a front door's error path notes what it
    /// renders (and replaces what was noted before); the audit log notes the reason of a refusal
    /// it records only when nothing is noted yet (a TR50 answer or a console page, whose refusal
    /// is no error document).
    func refusal(_ code: String, replacing: Bool = true) {
        state.withLock { state in
            if replacing || state.code == nil { state.code = code }
        }
    }
}

/// The kinds of credential the access log names: `CredentialKind`'s bearer kinds, and the
/// passwords, client credentials and sessions of the other doors. Never the credential itself.
enum PresentedCredential: String, Sendable {
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

    init(_ kind: CredentialKind) {
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

/// A request context carrying the access log's note of its request (nil when the request is
/// not logged), so that the root `ErrorMiddleware` can note the refusal it renders.
protocol AccessLogNoting: RequestContext {
    var accessLog: AccessLogNote? { get }
}

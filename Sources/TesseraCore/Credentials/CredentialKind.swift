/// The kinds of credential Tessera issues or checks, told apart in this one place (forward-auth,
/// introspection and TR50 all ask it), by what each kind carries on its face:
/// - a PAM derived short token starts `sk-`;
/// - a JWT (three dot-separated parts) is by its header `typ`: `at+jwt` an access token,
///   `tr50+jwt` a TR50 session JWT; otherwise a `jti` starting `atntkn_` is a PAM JWT, and
///   anything else a Lake self-signed JWT (whose verifier gives the precise reason if it is not);
/// - anything else is opaque: a PAT, or a TR50 session id where TR50 takes one.
/// Classification decides only which verifier runs; it trusts nothing.
public enum CredentialKind: String, Sendable, CaseIterable {
    case lakeJWT = "lake_jwt"
    case accessToken = "access_token"
    case pamJWT = "pam_jwt"
    case pamShortToken = "pam_short_token"
    case tr50JWT = "tr50_jwt"
    /// Neither a JWT nor a short token: a PAT (or a TR50 session id).
    case opaque

    /// The prefix of every PAM derived short token.
    public static let shortTokenPrefix = "sk-"
    /// The prefix of every PAM authentication token id, the `jti` of its JWT.
    public static let authenticationTokenPrefix = "atntkn_"
    /// The `typ` of access tokens (RFC 9068).
    public static let accessTokenType = "at+jwt"
    /// The `typ` of TR50 session JWTs.
    public static let tr50TokenType = "tr50+jwt"

    /// The kind `credential` presents itself as. A JWT that does not even parse is a Lake JWT
    /// (the Lake verifier then names what is wrong with it).
    public static func of(_ credential: String) -> CredentialKind {
        classify(credential).kind
    }

    /// The kind, with the JWS the classification parsed (`CompactJWS` with its defaults), so the
    /// verifier need not parse it again; nil for a short token, an opaque credential, or a JWT
    /// that does not parse.
    public static func classify(_ credential: String) -> (kind: CredentialKind, jws: CompactJWS?) {
        if credential.hasPrefix(shortTokenPrefix) { return (.pamShortToken, nil) }
        guard credential.utf8.contains(UInt8(ascii: ".")) else { return (.opaque, nil) }
        guard let jws = try? CompactJWS(credential) else { return (.lakeJWT, nil) }
        switch jws.header["typ"]?.stringValue?.lowercased() {
        case accessTokenType: return (.accessToken, jws)
        case tr50TokenType: return (.tr50JWT, jws)
        default:
            return (jws.payload["jti"]?.stringValue?.hasPrefix(authenticationTokenPrefix) == true ? .pamJWT : .lakeJWT, jws)
        }
    }

    /// Whether the kind is a JWT.
    public var isJWT: Bool {
        switch self {
        case .lakeJWT, .accessToken, .pamJWT, .tr50JWT: true
        case .pamShortToken, .opaque: false
        }
    }
}

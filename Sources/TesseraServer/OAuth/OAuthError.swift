import Hummingbird
import TesseraCore

/// An RFC 6749 §5.2 error: `{"error", "error_description"}` with its status, `no-store`; the one
/// wire format of the OAuth endpoints' refusals (`OAuthController.refusing` makes them).
struct OAuthError: FrontDoorError {
    let status: HTTPResponse.Status
    let error: String
    let description: String
    var challenge: String? = nil
    var retryAfter: Int? = nil
    /// RFC 9449 §8: the nonce the next DPoP proof must carry (`DPoP-Nonce`).
    var dpopNonce: String? = nil

    static func invalidRequest(_ description: String) -> OAuthError { OAuthError(status: .badRequest, error: "invalid_request", description: description) }
    static func invalidGrant(_ description: String) -> OAuthError { OAuthError(status: .badRequest, error: "invalid_grant", description: description) }
    static func unsupportedGrantType(_ description: String) -> OAuthError {
        OAuthError(status: .badRequest, error: "unsupported_grant_type", description: description)
    }

    static func invalidScope(_ description: String) -> OAuthError { OAuthError(status: .badRequest, error: "invalid_scope", description: description) }

    /// RFC 6749 §5.2: 401, with a Basic challenge when the client tried Basic.
    static func invalidClient(_ description: String, basic: Bool) -> OAuthError {
        OAuthError(status: .unauthorized, error: "invalid_client", description: description, challenge: basic ? #"Basic realm="tessera""# : nil)
    }

    /// The database is out of reach: RFC 6749's `temporarily_unavailable`, `503` with `Retry-After`.
    static func unavailable(_ error: TesseraError) -> OAuthError {
        OAuthError(
            status: .serviceUnavailable, error: "temporarily_unavailable", description: "\(error.code): \(error.message)",
            retryAfter: TesseraError.retryAfterSeconds
        )
    }

    /// A core refusal of the assertion becomes `invalid_grant`, keeping the specific reason.
    static func grant(_ error: TesseraError) -> OAuthError {
        switch error.kind {
        case .unauthenticated, .forbidden, .notFound: invalidGrant("\(error.code): \(error.message)")
        case .invalidRequest, .conflict: invalidRequest("\(error.code): \(error.message)")
        case .internalFailure: OAuthError(status: .internalServerError, error: "server_error", description: error.message)
        case .unavailable: unavailable(error)
        }
    }

    /// A refused DPoP proof at the token endpoint (RFC 9449 §5): `use_dpop_nonce` with the nonce
    /// to use when the proof lacked a current one, else `invalid_dpop_proof`; the description
    /// keeps Tessera's reason.
    static func dpop(_ error: TesseraError, nonce: String) -> OAuthError {
        guard error.code.hasPrefix("dpop_") else { return grant(error) }
        let nonceNeeded = error.code == "dpop_nonce_required"
        return OAuthError(
            status: .badRequest, error: nonceNeeded ? "use_dpop_nonce" : "invalid_dpop_proof", description: "\(error.code): \(error.message)",
            dpopNonce: nonceNeeded ? nonce : nil
        )
    }

    /// A failed client authentication, or a refused grant, counts against the limits.
    var refusesCredential: Bool { status == .unauthorized || error == "invalid_grant" }

    var code: String { error }

    func response(from request: Request, context: some RequestContext) -> Response {
        var headers: HTTPFields = [.cacheControl: "no-store", .pragma: "no-cache"]
        if let challenge { headers[.wwwAuthenticate] = challenge }
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if let dpopNonce { headers[.dpopNonce] = dpopNonce }
        return JSONResponse.make(.object([("error", .string(error)), ("error_description", .string(description))]), status: status, headers: headers)
    }
}

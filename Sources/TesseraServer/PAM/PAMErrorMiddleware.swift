import Foundation
import Hummingbird
import TesseraCore

/// The PAM API's one error path: every core refusal of a PAM request becomes a `PAMError`, and
/// is audited once under the request's action (`pam.<action>`, `pam.list`, or `pam.unknown` for
/// an action that does not exist) with the application whose access token was verified (else
/// what the token claimed, marked as claimed) and the target the request named.
struct PAMErrorMiddleware: RouterMiddleware {
    typealias Context = TesseraRequestContext
    let audit: RequestAuditor
    /// For the `DPoP-Nonce` of a refusal that wants one.
    let nonces: DPoPNonces

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let attribution = RequestAttribution(target: context.parameters.get("instanceId"))
        context.attribution = attribution
        do {
            return try await next(request, context)
        } catch let error as TesseraError {
            if !error.isServerSide {
                await auditRefusal(error, request: request, context: context, attribution)
            }
            throw PAMError(error, requestID: context.id, dpopNonce: error.code == "dpop_nonce_required" ? nonces.current() : nil)
        }
    }

    private func auditRefusal(_ error: TesseraError, request: Request, context: Context, _ attribution: RequestAttribution) async {
        var actor = attribution.actor
        var organizationID = attribution.organizationID
        if organizationID == nil, actor == .anonymous {
            let claimed = await audit.claimedIdentity(bearer: request.headers[.authorization].flatMap(DPoPRequest.credential)?.token)
            actor = claimed.actor
            organizationID = claimed.organization?.id
        }
        await audit.record(
            context,
            organizationID: organizationID,
            actor: actor,
            action: Self.action(request),
            target: attribution.target,
            refusal: error.code
        )
    }

    /// `pam.list` for the list; `pam.<action>` for a known action, `pam.unknown` for any other
    /// name (so a caller cannot invent audit actions).
    static func action(_ request: Request) -> String {
        guard request.method == .post, let name = request.uri.path.split(separator: "/").last.map(String.init) else { return "pam.list" }
        return PAMController.actions.contains(name) ? "pam.\(name)" : "pam.unknown"
    }
}

/// A refusal of the PAM API (DESIGN §1.2): `{"error", "error_description", "requestId"}` with
/// the status of the core error's kind; a refused credential is always `invalid_token` (the
/// specific code then leads the description) with an RFC 6750 challenge, or RFC 9449's `DPoP`
/// challenge (and `DPoP-Nonce` when one is wanted) for a refused proof or binding.
struct PAMError: FrontDoorError {
    let status: HTTPResponse.Status
    let error: String
    let description: String
    let requestID: String
    let challenge: String?
    let dpopNonce: String?

    init(_ refusal: TesseraError, requestID: String, dpopNonce: String? = nil) {
        self.status =
            switch refusal.kind {
            case .unauthenticated: .unauthorized
            case .forbidden: .forbidden
            case .invalidRequest: .badRequest
            case .notFound: .notFound
            case .conflict: .conflict
            case .internalFailure: .internalServerError
            case .unavailable: .serviceUnavailable
            }
        self.error = refusal.kind == .unauthenticated ? "invalid_token" : refusal.code
        self.description = error == refusal.code ? refusal.message : "\(refusal.code): \(refusal.message)"
        self.requestID = requestID
        self.challenge =
            if DPoPRequest.isDPoPRefusal(refusal.code) {
                DPoPRequest.challenge(for: refusal.code)
            } else if refusal.kind == .unauthenticated {
                #"Bearer realm="tessera", error="invalid_token""#
            } else {
                nil
            }
        self.dpopNonce = dpopNonce
    }

    var refusesCredential: Bool { status == .unauthorized }

    var code: String { error }

    func response(from request: Request, context: some RequestContext) -> Response {
        var headers: HTTPFields = [.cacheControl: "no-store", .pragma: "no-cache"]
        if let challenge { headers[.wwwAuthenticate] = challenge }
        if let dpopNonce { headers[.dpopNonce] = dpopNonce }
        if status == .serviceUnavailable { headers[.retryAfter] = String(TesseraError.retryAfterSeconds) }
        let document = OrderedJSON.object([
            ("error", .string(error)), ("error_description", .string(description)), ("requestId", .string(requestID)),
        ])
        return JSONResponse.make(document, status: status, headers: headers)
    }
}

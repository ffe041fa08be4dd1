import Foundation
import Hummingbird
import Logging
import TesseraCore

/// Applies the failed-authentication limits (`FailureRateLimiter`) to every request that may
/// carry a credential: a client or an account over its limit gets `429 Too Many Requests` with
/// `Retry-After` before anything is verified; a request refused as unauthenticated (a `401`, or a
/// TR50 answer whose authentication failed) counts one failure for its client address and, for a
/// password (HTTP Basic: a username or client id), for that account. Bearer tokens name no
/// account here: their claims are unverified, so counting them would let anyone lock a victim
/// out, and a signature cannot be guessed anyway.
///
/// `/auth/verify` is asked by a reverse proxy on behalf of many users: it is limited only when
/// that proxy is a trusted proxy (so each forwarded client counts on its own); otherwise the
/// proxy, not Tessera, should limit its clients.
struct AuthenticationThrottleMiddleware: RouterMiddleware {
    typealias Context = TesseraRequestContext
    let limiter: FailureRateLimiter
    /// Proxies whose `X-Forwarded-For` is believed (their own address is not the client's).
    let trustedProxies: Set<String>
    /// Where a `429` is recorded (each one is a refusal).
    let audit: RequestAuditor

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let client = ClientAddress.resolve(peer: context.clientAddress, forwardedFor: request.headers[.xForwardedFor], trusted: trustedProxies)
        var context = context
        context.client = client
        guard limiter.isEnabled, Self.mayCarryCredential(request), !isUntrustedForwardAuth(request, peer: context.clientAddress) else {
            var response = try await next(request, context)
            response.headers[.tesseraAuthenticationFailed] = nil
            return response
        }
        let account = Self.claimedAccount(request)
        if let wait = limiter.retryAfter(client: client, account: account) {
            context.logger.notice("failed-authentication limit reached", metadata: ["client": "\(client ?? "?")", "retry_after": "\(wait)"])
            await auditRateLimited(request, context: context)
            context.accessLog?.refusal("rate_limited")
            var headers = HTTPFields()
            headers[.retryAfter] = String(wait)
            let document = OrderedJSON.object([
                ("error", .string("too_many_requests")), ("code", .string("rate_limited")),
                ("message", .string("too many failed authentications from this client or for this account; retry in \(wait) s")),
            ])
            return JSONResponse.make(document, status: .tooManyRequests, headers: headers)
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as TesseraError where error.kind == .unauthenticated {
            limiter.recordFailure(client: client, account: account)
            throw error
        } catch let error as any FrontDoorError where error.refusesCredential {
            limiter.recordFailure(client: client, account: account)
            throw error
        }
        if response.status == .unauthorized || response.headers[.tesseraAuthenticationFailed] != nil {
            response.headers[.tesseraAuthenticationFailed] = nil
            limiter.recordFailure(client: client, account: account)
        }
        return response
    }

    /// A `429` is a refusal like any other: filed under the action the request asked for, with
    /// the account a password claims (the limit is checked before any credential is read).
    private func auditRateLimited(_ request: Request, context: Context) async {
        let claimed = request.headers[.authorization].flatMap { BasicCredentials.parse($0) }
        let actor: AuditActor = claimed.map { .user($0.0, claimed: true) } ?? .anonymous
        await audit.record(context, organizationID: nil, actor: actor, action: Self.action(of: request), target: nil, refusal: "rate_limited")
    }

    /// The audit action of the front door a request is for.
    static func action(of request: Request) -> String {
        let path = request.uri.path
        switch path {
        case "/oauth2/token", "/api/v2/iauths_system/oauth2/token": return "oauth.token"
        case "/oauth2/introspect": return "oauth.introspect"
        case "/oauth2/revoke": return "oauth.revoke"
        case "/auth/verify": return "forward_auth.verify"
        case "/console/sign-in": return "console.sign-on"
        case "/api" where request.method == .post: return "tr50.request"
        default:
            if path.hasPrefix("/v2/") { return "pam.request" }
            if path.hasPrefix("/api/") {
                return request.headers[.authorization]?.lowercased().hasPrefix("basic") == true ? "password.authenticate" : "lake.authenticate"
            }
            return path.hasPrefix("/console") ? "console.request" : "http.request"
        }
    }

    /// A forward-auth call not made by a trusted proxy (see the type's documentation).
    private func isUntrustedForwardAuth(_ request: Request, peer: String?) -> Bool {
        request.uri.path == "/auth/verify" && !(peer.map(trustedProxies.contains) ?? false)
    }

    /// Everything but health checks, metrics scrapes, published keys and the console's static files.
    static func mayCarryCredential(_ request: Request) -> Bool {
        let path = request.uri.path
        return !(path == "/health" || path == "/metrics" || path.hasPrefix("/.well-known/") || path.hasPrefix("/console/static/"))
    }

    /// The account a password credential claims (HTTP Basic: a username, or a client id for
    /// client_secret_basic); nil for anything else.
    static func claimedAccount(_ request: Request) -> String? {
        guard let authorization = request.headers[.authorization], let (username, _) = BasicCredentials.parse(authorization) else { return nil }
        return "basic:" + username
    }
}

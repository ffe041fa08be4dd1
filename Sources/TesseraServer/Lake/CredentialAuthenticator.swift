import Foundation
import Hummingbird
import TesseraCore

/// Reads `Authorization` and fills the context's principal: `Bearer` is a Lake self-signed JWT,
/// `Basic` a username and password. A request without the header passes through unauthenticated
/// (routes that need a caller call `requirePrincipal()`); a bad credential is refused here.
///
/// It is also where the Lake and management API audits its refusals, each once: a refused
/// credential (`lake.authenticate`, `password.authenticate`) against the user and organization it
/// claimed, and any later refusal (no credential, not an admin, a bad request…) under the action
/// the route stands for, with the authenticated caller or `anonymous`.
struct CredentialAuthenticator: RouterMiddleware {
    typealias Context = TesseraRequestContext
    let lakeVerifier: LakeAssertionVerifier
    let directory: DirectoryManager
    let audit: RequestAuditor

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let authorization = request.headers[.authorization] {
            do {
                context.principal = try await authenticate(authorization, client: context.client, note: context.accessLog)
            } catch let error as TesseraError {
                if !error.isServerSide { await auditRefusal(error, authorization: authorization, request: request, context: context) }
                throw error
            }
        }
        do {
            return try await next(request, context)
        } catch let error as TesseraError where !error.isServerSide {
            await auditRefusal(error.code, request: request, context: context)
            throw error
        } catch let error as HTTPError where (400..<500).contains(error.status.code) {
            await auditRefusal(ErrorMiddleware<Context>.translate(error).code, request: request, context: context)
            throw error
        }
    }

    /// Records a refused credential against the organization and user it claimed, if they exist.
    private func auditRefusal(_ error: TesseraError, authorization: String, request: Request, context: Context) async {
        var claimed = AuditActor.anonymous
        var claimedOrganization: Organization?
        if let credential = BearerCredential.parse(authorization), let jws = try? CompactJWS(credential) {
            claimed = jws.payload["sub"]?.stringValue.map { .user($0, claimed: true) } ?? .anonymous
            claimedOrganization = await audit.claimedOrganization(jws.payload["org_id"]?.stringValue ?? jws.payload["org_key"]?.stringValue)
        } else if let (username, _) = BasicCredentials.parse(authorization) {
            claimed = .user(username, claimed: true)
            if let user = try? await directory.user(username: username) {
                claimedOrganization = try? await directory.organization(id: user.organizationID)
            }
        }
        await audit.record(
            context, organizationID: claimedOrganization?.id, actor: claimed,
            action: authorization.lowercased().hasPrefix("basic") ? "password.authenticate" : "lake.authenticate",
            target: request.uri.path, refusal: error.code
        )
    }

    /// Records a refusal after authentication (or without a credential) under the route's action.
    private func auditRefusal(_ code: String, request: Request, context: Context) async {
        let (action, target) = Self.action(request)
        let actor: AuditActor = context.principal.map { .user($0.user.username) } ?? .anonymous
        await audit.record(context, organizationID: context.principal?.organization.id, actor: actor, action: action, target: target, refusal: code)
    }

    /// The audit action of a Lake or management API request, and its target: the same names the
    /// successful change is recorded under; `api.read` (target: the path) for what only reads.
    static func action(_ request: Request) -> (action: String, target: String?) {
        let parts = request.uri.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let route = parts.dropFirst().joined(separator: "/")  // without "api"
        let last = parts.count > 1 ? parts.last : nil
        switch (request.method, route) {
        case (.post, "users/me/access-tokens"): return ("pat.create", nil)
        case (.post, "users/me/keys"): return ("key.create", nil)
        case (.post, "admin/users"): return ("user.create", nil)
        case (.post, "admin/signing-keys/rotate"): return ("signing_key.rotate", nil)
        case (.post, "admin/applications"): return ("application.create", nil)
        case (.post, "admin/credential-providers"): return ("credential_provider.create", nil)
        case (.post, "admin/tr50/app-tokens"): return ("tr50.app_token.create", nil)
        case (.put, "admin/pat-policy"): return ("pat_policy.update", nil)
        case (.post, "users/me/password"): return ("user.password_change", nil)
        default: break
        }
        if request.method == .post, route.hasPrefix("admin/users/"), parts.count == 5 {
            if route.hasSuffix("/unlock") { return ("user.unlock", parts[3]) }
            if route.hasSuffix("/password-reset") { return ("user.password_reset", parts[3]) }
            if route.hasSuffix("/disable") { return ("user.disable", parts[3]) }
            if route.hasSuffix("/enable") { return ("user.enable", parts[3]) }
        }
        if request.method == .post, route.hasPrefix("admin/applications/"), route.hasSuffix("/rotate-secret"), parts.count == 5 {
            return ("application.secret_rotate", parts[3])
        }
        if request.method == .post, route.hasPrefix("users/me/access-tokens/"), route.hasSuffix("/rotate"), parts.count == 6 {
            return ("pat.rotate", parts[4])
        }
        if request.method == .delete {
            if route.hasPrefix("users/me/access-tokens/") { return ("pat.revoke", last) }
            if route.hasPrefix("users/me/keys/") { return ("key.delete", last) }
            if route.hasPrefix("admin/applications/") { return ("application.delete", last) }
            if route.hasPrefix("admin/users/") { return ("user.delete", last) }
        }
        return ("api.read", request.uri.path)
    }

    /// The caller an `Authorization` header proves, for a request from `client` (a PAT's allowed
    /// networks must contain it); `note` learns the kind of credential it presents (a bearer is a
    /// Lake JWT, Basic a password).
    func authenticate(_ authorization: String, client: String?, note: AccessLogNote? = nil) async throws -> Principal {
        if let credential = BearerCredential.parse(authorization) {
            note?.credential(.lakeJWT)
            return .lakeToken(try await lakeVerifier.verify(credential, .request(client: client)))
        }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2 else {
            throw TesseraError(.unauthenticated, "authorization_malformed", "Authorization header must be 'Bearer <JWT>' or 'Basic <base64>'")
        }
        let credential = parts[1].trimmingCharacters(in: .whitespaces)
        switch parts[0].lowercased() {
        case "bearer":
            note?.credential(.lakeJWT)
            return .lakeToken(try await lakeVerifier.verify(credential, .request(client: client)))
        case "basic":
            note?.credential(.password)
            guard let (username, password) = BasicCredentials.parse(authorization) else {
                throw TesseraError(.unauthenticated, "basic_malformed", "Basic credentials must be base64 of 'username:password'")
            }
            let (user, organization) = try await directory.authenticate(username: username, password: password)
            return .password(user, organization)
        default:
            throw TesseraError(
                .unauthenticated, "authorization_malformed",
                "Authorization scheme '\(parts[0])' is not supported; use Bearer or Basic"
            )
        }
    }
}

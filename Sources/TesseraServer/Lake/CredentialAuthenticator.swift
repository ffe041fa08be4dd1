import Foundation
import Hummingbird
import TesseraCore

/// Reads `Authorization` and fills the context's principal: `Bearer` is a Lake self-signed JWT,
/// `Basic` a username and password. A request without the header passes through unauthenticated
/// (routes that need a caller call `requirePrincipal()`); a bad credential is refused here.
struct CredentialAuthenticator: RouterMiddleware {
    typealias Context = TesseraRequestContext
    let tessera: Tessera

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let authorization = request.headers[.authorization] else {
            return try await next(request, context)
        }
        var context = context
        do {
            context.principal = try await authenticate(authorization)
        } catch let error as TesseraError {
            await auditRefusal(error, authorization: authorization, context: context)
            throw error
        }
        return try await next(request, context)
    }

    /// Records a refused credential against the organization and user it claimed, if they exist.
    private func auditRefusal(_ error: TesseraError, authorization: String, context: Context) async {
        var claimedUser: String?
        var claimedOrganization: Organization?
        if let credential = BearerCredential.parse(authorization), let jws = try? CompactJWS(credential) {
            claimedUser = jws.payload["sub"]?.stringValue
            claimedOrganization = await tessera.claimedOrganization(jws.payload["org_id"]?.stringValue ?? jws.payload["org_key"]?.stringValue)
        } else if let (username, _) = BasicCredentials.parse(authorization) {
            claimedUser = username
            if let user = try? await tessera.directory.user(username: username) {
                claimedOrganization = try? await tessera.directory.organization(id: user.organizationID)
            }
        }
        await tessera.audit(
            context, organizationID: claimedOrganization?.id, actor: claimedUser.map { "user:\($0)" } ?? "anonymous",
            action: authorization.lowercased().hasPrefix("basic") ? "password.authenticate" : "lake.authenticate", refusal: error
        )
    }

    func authenticate(_ authorization: String) async throws -> Principal {
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2 else {
            throw TesseraError(.unauthenticated, "authorization_malformed", "Authorization header must be 'Bearer <JWT>' or 'Basic <base64>'")
        }
        let credential = parts[1].trimmingCharacters(in: .whitespaces)
        switch parts[0].lowercased() {
        case "bearer":
            return .lakeToken(try await tessera.lakeVerifier.verify(credential))
        case "basic":
            guard let (username, password) = BasicCredentials.parse(authorization) else {
                throw TesseraError(.unauthenticated, "basic_malformed", "Basic credentials must be base64 of 'username:password'")
            }
            let (user, organization) = try await tessera.directory.authenticate(username: username, password: password)
            return .password(user, organization)
        default:
            throw TesseraError(
                .unauthenticated, "authorization_malformed",
                "Authorization scheme '\(parts[0])' is not supported; use Bearer or Basic"
            )
        }
    }
}

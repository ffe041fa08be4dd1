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
        context.principal = try await authenticate(authorization)
        return try await next(request, context)
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
            guard let decoded = Data(base64Encoded: credential).flatMap({ String(data: $0, encoding: .utf8) }),
                let colon = decoded.firstIndex(of: ":")
            else {
                throw TesseraError(.unauthenticated, "basic_malformed", "Basic credentials must be base64 of 'username:password'")
            }
            let (user, organization) = try await tessera.directory.authenticate(
                username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...])
            )
            return .password(user, organization)
        default:
            throw TesseraError(
                .unauthenticated, "authorization_malformed",
                "Authorization scheme '\(parts[0])' is not supported; use Bearer or Basic"
            )
        }
    }
}

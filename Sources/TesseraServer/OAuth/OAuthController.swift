import Foundation
import Hummingbird
import TesseraCore

/// OAuth 2.0 around the server's own keys: the JWKS, RFC 8414 metadata, and the token endpoint
/// with the RFC 7523 jwt-bearer grant (a Lake self-signed JWT traded for an RFC 9068 access token).
struct OAuthController {
    static let jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    let tessera: Tessera

    var wellKnown: RouteCollection<TesseraRequestContext> {
        let routes = RouteCollection(context: TesseraRequestContext.self)
        routes.get("jwks.json", use: jwks)
        routes.get("oauth-authorization-server", use: metadata)
        return routes
    }

    @Sendable func jwks(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let keys = try await tessera.keyRing.publishedJWKs().map { members in OrderedJSON.object(members.map { ($0.0, .string($0.1)) }) }
        return JSONResponse.make(.object([("keys", .array(keys))]), headers: [.cacheControl: "public, max-age=60"])
    }

    @Sendable func metadata(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let issuer = tessera.issuerURL.value
        return JSONResponse.make(.object([
            ("issuer", .string(issuer)),
            ("token_endpoint", .string(issuer + "/oauth2/token")),
            ("jwks_uri", .string(issuer + "/.well-known/jwks.json")),
            ("grant_types_supported", .array([.string(Self.jwtBearer)])),
            ("token_endpoint_auth_methods_supported", .array([.string("none")])),
            ("response_types_supported", .array([])),
            ("token_endpoint_auth_signing_alg_values_supported", .array(SignatureAlgorithm.allCases.map { .string($0.rawValue) })),
        ]))
    }

    @Sendable func token(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let form = try await FormBody.read(request, limit: tessera.configuration.maximumBodySize)
        let grantType = try form.required("grant_type")
        guard grantType == Self.jwtBearer else {
            throw OAuthError.unsupportedGrantType("grant_type '\(grantType)' is not supported; this server supports \(Self.jwtBearer)")
        }
        if form.parameters["scope"] != nil {
            throw OAuthError(status: .badRequest, error: "invalid_scope", description: "the jwt-bearer grant takes no scope")
        }
        let principal: LakePrincipal
        do {
            principal = try await tessera.lakeVerifier.verify(try form.required("assertion"))
        } catch let error as TesseraError {
            throw OAuthError.grant(error)
        }
        let issued = try await tessera.accessTokenIssuer.issue(
            subject: principal.user.username, organization: principal.organization,
            clientID: "lake:\(principal.user.username)/\(principal.key.name)", scope: nil, notAfter: principal.accessToken.expiresAt
        )
        return JSONResponse.make(
            .object([
                ("access_token", .string(issued.token)),
                ("token_type", .string("Bearer")),
                ("expires_in", .integer(issued.claims.expiresAt - issued.claims.issuedAt)),
            ]),
            headers: [.cacheControl: "no-store", .init("Pragma")!: "no-cache"]
        )
    }
}

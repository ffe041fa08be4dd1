import Foundation
import Hummingbird
import TesseraCore

/// OAuth 2.0 around the server's own keys: the JWKS, RFC 8414 metadata, and the token endpoint
/// with the RFC 7523 jwt-bearer grant (a Lake self-signed JWT traded for an RFC 9068 access token).
struct OAuthController {
    static let jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    static let clientCredentials = "client_credentials"
    static let clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
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
            ("introspection_endpoint", .string(issuer + "/oauth2/introspect")),
            ("revocation_endpoint", .string(issuer + "/oauth2/revoke")),
            ("jwks_uri", .string(issuer + "/.well-known/jwks.json")),
            ("grant_types_supported", .array([.string(Self.clientCredentials), .string(Self.jwtBearer)])),
            ("token_endpoint_auth_methods_supported", .array(["client_secret_basic", "client_secret_post", "private_key_jwt"].map(OrderedJSON.string))),
            ("scopes_supported", .array(PAMScope.known.map(OrderedJSON.string))),
            ("response_types_supported", .array([])),
            ("token_endpoint_auth_signing_alg_values_supported", .array(SignatureAlgorithm.allCases.map { .string($0.rawValue) })),
        ]))
    }

    /// The token endpoint; every issuance and refusal goes to the audit log.
    @Sendable func token(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        do {
            let (response, issued, organizationID) = try await issue(request)
            await tessera.audit(
                context, organizationID: organizationID, actor: issued.claims.clientID.hasPrefix("app_") ? "app:\(issued.claims.clientID)" : "user:\(issued.claims.subject)",
                action: "oauth.token", target: issued.claims.tokenID
            )
            return response
        } catch let error as OAuthError {
            await tessera.audit(
                context, organizationID: nil, actor: "anonymous", action: "oauth.token",
                refusal: TesseraError(.unauthenticated, error.error, error.description)
            )
            throw error
        }
    }

    private func issue(_ request: Request) async throws -> (Response, AccessTokenIssuer.Issued, UUID) {
        let form = try await FormBody.read(request, limit: tessera.configuration.maximumBodySize)
        let grantType = try form.required("grant_type")
        switch grantType {
        case Self.jwtBearer: return try await jwtBearerGrant(form)
        case Self.clientCredentials: return try await clientCredentialsGrant(form, request: request)
        default:
            throw OAuthError.unsupportedGrantType(
                "grant_type '\(grantType)' is not supported; this server supports \(Self.clientCredentials) and \(Self.jwtBearer)"
            )
        }
    }

    /// RFC 6749 §4.4: the client authenticates (secret or private_key_jwt) and gets its scopes.
    private func clientCredentialsGrant(_ form: FormBody, request: Request) async throws -> (Response, AccessTokenIssuer.Issued, UUID) {
        let application = try await authenticateClient(form, request: request)
        let granted: [String]
        if let requested = form.parameters["scope"] {
            granted = requested.split(separator: " ").map(String.init)
            guard !granted.isEmpty else { throw OAuthError.invalidScope("scope is empty") }
            if let refused = granted.first(where: { !PAMScope.allows(application.allowedScopes, $0) }) {
                throw OAuthError.invalidScope("scope '\(refused)' is not granted to \(application.id); it may have \(application.allowedScopes.joined(separator: " "))")
            }
        } else {
            granted = application.allowedScopes
        }
        guard let organization = try await tessera.directory.organization(id: application.organizationID) else {
            throw OAuthError.invalidClient("the application's organization no longer exists", basic: false)
        }
        let issued = try await tessera.accessTokenIssuer.issue(
            subject: application.id, organization: organization, clientID: application.id, scope: granted.joined(separator: " ")
        )
        return (Self.tokenResponse(issued), issued, organization.id)
    }

    /// RFC 7662: the client authenticates; the answer covers its own organization's tokens.
    @Sendable func introspect(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let form = try await FormBody.read(request, limit: tessera.configuration.maximumBodySize)
        let (_, organization) = try await clientAndOrganization(form, request: request)
        let answer = try await tessera.introspector.introspect(
            try form.required("token"), organization: organization, issuer: tessera.issuerURL.value, audience: tessera.configuration.accessTokenAudience
        )
        var members: [(String, OrderedJSON)] = [("active", .bool(answer.active))]
        if let value = answer.tokenType { members.append(("token_type", .string(value))) }
        if let value = answer.scope { members.append(("scope", .string(value))) }
        if let value = answer.clientID { members.append(("client_id", .string(value))) }
        if let value = answer.subject { members.append(("sub", .string(value))) }
        if let value = answer.issuer { members.append(("iss", .string(value))) }
        if let value = answer.audience { members.append(("aud", .array(value.map(OrderedJSON.string)))) }
        if let value = answer.expiresAt { members.append(("exp", .integer(value))) }
        if let value = answer.issuedAt { members.append(("iat", .integer(value))) }
        if let value = answer.tokenID { members.append(("jti", .string(value))) }
        if let value = answer.role { members.append(("role", .string(value))) }
        return JSONResponse.make(.object(members), headers: [.cacheControl: "no-store"])
    }

    /// RFC 7009: 200 whether or not the token was known.
    @Sendable func revoke(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let form = try await FormBody.read(request, limit: tessera.configuration.maximumBodySize)
        let (application, organization) = try await clientAndOrganization(form, request: request)
        try await tessera.introspector.revoke(
            try form.required("token"), clientID: application.id, organization: organization, issuer: tessera.issuerURL.value,
            audience: tessera.configuration.accessTokenAudience
        )
        await tessera.audit(context, organizationID: organization.id, actor: "app:\(application.id)", action: "oauth.revoke")
        return Response(status: .ok, headers: [.cacheControl: "no-store"])
    }

    private func clientAndOrganization(_ form: FormBody, request: Request) async throws -> (ClientApplication, Organization) {
        let application = try await authenticateClient(form, request: request)
        guard let organization = try await tessera.directory.organization(id: application.organizationID) else {
            throw OAuthError.invalidClient("the application's organization no longer exists", basic: false)
        }
        return (application, organization)
    }

    /// Exactly one of client_secret_basic, client_secret_post, private_key_jwt.
    private func authenticateClient(_ form: FormBody, request: Request) async throws -> ClientApplication {
        let basic = request.headers[.authorization].flatMap { BasicCredentials.parse($0, formEncoded: true) }
        let post = form.parameters["client_secret"].map { (form.parameters["client_id"] ?? "", $0) }
        let assertion = form.parameters["client_assertion"]
        let methods = [basic != nil, post != nil, assertion != nil].filter { $0 }.count
        guard methods == 1 else {
            if methods == 0 {
                throw OAuthError.invalidClient(
                    "authenticate the client with HTTP Basic, client_id and client_secret, or a client_assertion", basic: request.headers[.authorization] != nil
                )
            }
            throw OAuthError.invalidRequest("use exactly one client authentication method")
        }
        do {
            if let (clientID, secret) = basic ?? post {
                return try await tessera.clients.authenticate(clientID: clientID, secret: secret)
            }
            guard form.parameters["client_assertion_type"] == Self.clientAssertionType else {
                throw OAuthError.invalidRequest("client_assertion_type must be \(Self.clientAssertionType)")
            }
            let issuer = tessera.issuerURL.value
            let application = try await tessera.clients.authenticate(assertion: assertion ?? "", audiences: [issuer + "/oauth2/token", issuer])
            if let clientID = form.parameters["client_id"], clientID != application.id {
                throw OAuthError.invalidClient("client_id does not match the client assertion", basic: false)
            }
            return application
        } catch let error as TesseraError {
            let detail = error.code == "invalid_client" ? error.message : "\(error.code): \(error.message)"
            throw OAuthError.invalidClient(detail, basic: basic != nil)
        }
    }

    static func tokenResponse(_ issued: AccessTokenIssuer.Issued) -> Response {
        var members: [(String, OrderedJSON)] = [
            ("access_token", .string(issued.token)),
            ("token_type", .string("Bearer")),
            ("expires_in", .integer(issued.claims.expiresAt - issued.claims.issuedAt)),
        ]
        if let scope = issued.claims.scope { members.append(("scope", .string(scope))) }
        return JSONResponse.make(.object(members), headers: [.cacheControl: "no-store", .init("Pragma")!: "no-cache"])
    }

    /// RFC 7523 §2.1: a Lake self-signed JWT as the authorization grant.
    private func jwtBearerGrant(_ form: FormBody) async throws -> (Response, AccessTokenIssuer.Issued, UUID) {
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
        return (Self.tokenResponse(issued), issued, principal.organization.id)
    }
}

import Foundation
import Hummingbird
import TesseraCore

/// OAuth 2.0 around the server's own keys: the JWKS, RFC 8414 metadata, the token endpoint
/// (client_credentials, and the RFC 7523 jwt-bearer grant: a Lake self-signed JWT traded for an
/// RFC 9068 access token), introspection and revocation. Every refusal is an `OAuthError`, made
/// and audited in one place (`refusing`).
struct OAuthController {
    static let jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    static let clientCredentials = "client_credentials"
    static let clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

    let keyRing: ServerKeyRing
    let clients: ClientAuthenticator
    let lakeVerifier: LakeAssertionVerifier
    let introspector: TokenIntrospector
    let directory: DirectoryManager
    /// Where a refused client's claimed id is looked up (to file the refusal under its organization).
    let applications: any ApplicationStore
    /// Mints access tokens, `iss` being the issuer URL of the moment.
    let accessTokenIssuer: @Sendable () -> AccessTokenIssuer
    let issuerURL: IssuerURL
    /// `aud` of the access tokens introspection and revocation accept.
    let accessTokenAudience: String
    let audit: RequestAuditor
    let bodyLimit: Int
    /// Checks the DPoP proof a token request may carry (RFC 9449 §5).
    let dpop: DPoPProofVerifier

    var endpoints: RouteCollection<TesseraRequestContext> {
        let routes = RouteCollection(context: TesseraRequestContext.self)
        routes.get(".well-known/jwks.json", use: jwks)
        routes.get(".well-known/oauth-authorization-server", use: metadata)
        routes.post("oauth2/token", use: token)
        routes.post("api/v2/iauths_system/oauth2/token", use: token)
        routes.post("oauth2/introspect", use: introspect)
        routes.post("oauth2/revoke", use: revoke)
        return routes
    }

    @Sendable func jwks(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let keys = try await keyRing.publishedJWKs().map { members in OrderedJSON.object(members.map { ($0.0, .string($0.1)) }) }
        return JSONResponse.make(.object([("keys", .array(keys))]), headers: [.cacheControl: "public, max-age=60"])
    }

    @Sendable func metadata(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let issuer = issuerURL.value
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
            ("dpop_signing_alg_values_supported", .array(DPoPProofVerifier.algorithms.map { .string($0.rawValue) })),
        ]))
    }

    /// The token endpoint; every issuance and every refusal goes to the audit log, once.
    @Sendable func token(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        try await refusing("oauth.token", context) { decision in
            let (response, issued, organizationID) = try await issue(request, decision, client: context.client)
            let clientID = issued.claims.clientID
            await audit.record(
                context, organizationID: organizationID, actor: clientID.hasPrefix("app_") ? .app(clientID) : .user(issued.claims.subject),
                action: "oauth.token", target: issued.claims.tokenID
            )
            return response
        }
    }

    /// The one error path of the OAuth endpoints: runs `body`; a refusal becomes its `OAuthError`
    /// (a body that is not an acceptable form: `invalid_request`) and is audited under `action`
    /// with the client (or Lake user) authenticated so far, else the one the request claimed,
    /// and the most specific reason known.
    private func refusing(
        _ action: String, _ context: TesseraRequestContext, _ body: (ClientDecision) async throws -> Response
    ) async throws -> Response {
        let decision = ClientDecision()
        defer { context.accessLog?.credential(decision.credential) }
        do {
            return try await body(decision)
        } catch let refusal as FormBody.Refusal {
            let error = OAuthError.invalidRequest(refusal.message)
            await auditRefusal(error, decision, action: action, context: context)
            throw error
        } catch let error as TesseraError where error.isServerSide {
            // Our failure (the database out of reach…), in the OAuth format: not audited.
            throw OAuthError.grant(error)
        } catch {
            await auditRefusal(error, decision, action: action, context: context)
            throw error
        }
    }

    private func readForm(_ request: Request) async throws -> FormBody {
        try await FormBody.read(request, limit: bodyLimit)
    }

    private func issue(_ request: Request, _ decision: ClientDecision, client: String?) async throws -> (Response, AccessTokenIssuer.Issued, UUID) {
        decision.claim(from: request)
        let form = try await readForm(request)
        decision.claim(from: form)
        let grantType = try form.required("grant_type")
        decision.target = "grant_type:" + grantType
        let thumbprint = try await dpopThumbprint(request, decision)
        switch grantType {
        case Self.jwtBearer: return try await jwtBearerGrant(form, decision, dpopThumbprint: thumbprint, client: client)
        case Self.clientCredentials: return try await clientCredentialsGrant(form, request: request, decision, dpopThumbprint: thumbprint)
        default:
            throw OAuthError.unsupportedGrantType(
                "grant_type '\(grantType)' is not supported; this server supports \(Self.clientCredentials) and \(Self.jwtBearer)"
            )
        }
    }

    /// RFC 9449 §5: the thumbprint of the key of the request's DPoP proof, if it has one, which
    /// the token will be bound to; a refused proof is `invalid_dpop_proof` or `use_dpop_nonce`.
    private func dpopThumbprint(_ request: Request, _ decision: ClientDecision) async throws -> String? {
        let proofs = DPoPRequest.proofs(request)
        guard !proofs.isEmpty else { return nil }
        do {
            return try await dpop.verify(proofs, method: "POST", url: issuerURL.value + request.uri.path, accessToken: nil)
        } catch {
            guard !error.isServerSide else { throw error }
            decision.reason = error.code
            throw OAuthError.dpop(error, nonce: dpop.nonces.current())
        }
    }

    /// RFC 6749 §4.4: the client authenticates (secret or private_key_jwt) and gets its scopes.
    private func clientCredentialsGrant(
        _ form: FormBody, request: Request, _ decision: ClientDecision, dpopThumbprint: String?
    ) async throws -> (Response, AccessTokenIssuer.Issued, UUID) {
        let application = try await authenticateClient(form, request: request, decision)
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
        guard let organization = try await directory.organization(id: application.organizationID) else {
            throw OAuthError.invalidClient("the application's organization no longer exists", basic: false)
        }
        let issued = try await accessTokenIssuer().issue(
            subject: application.id, organization: organization, clientID: application.id, scope: granted.joined(separator: " "),
            dpopThumbprint: dpopThumbprint
        )
        return (Self.tokenResponse(issued), issued, organization.id)
    }

    /// RFC 7662: the client authenticates; the answer covers its own organization's tokens. A
    /// refusal is audited (`oauth.introspect`); an answer is not (it changes nothing).
    @Sendable func introspect(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        try await refusing("oauth.introspect", context) { decision in try await introspect(request, decision) }
    }

    private func introspect(_ request: Request, _ decision: ClientDecision) async throws -> Response {
        decision.claim(from: request)
        let form = try await readForm(request)
        decision.claim(from: form)
        let (_, organization) = try await clientAndOrganization(form, request: request, decision)
        let answer = try await introspector.introspect(
            try form.required("token"), organization: organization, issuer: issuerURL.value, audience: accessTokenAudience
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
        if let value = answer.dpopThumbprint { members.append(("cnf", .object([("jkt", .string(value))]))) }
        return JSONResponse.make(.object(members), headers: [.cacheControl: "no-store"])
    }

    /// RFC 7009: 200 whether or not the token was known. Audited (`oauth.revoke`, target: the
    /// token's `jti` when it has one), as is a refusal.
    @Sendable func revoke(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        try await refusing("oauth.revoke", context) { decision in
            decision.claim(from: request)
            let form = try await readForm(request)
            decision.claim(from: form)
            decision.target = form.parameters["token"].flatMap { try? CompactJWS($0) }.flatMap { $0.payload["jti"]?.stringValue }
            let (application, organization) = try await clientAndOrganization(form, request: request, decision)
            try await introspector.revoke(
                try form.required("token"), clientID: application.id, organization: organization, issuer: issuerURL.value,
                audience: accessTokenAudience
            )
            await audit.record(context, organizationID: organization.id, actor: .app(application.id), action: "oauth.revoke", target: decision.target)
            return Response(status: .ok, headers: [.cacheControl: "no-store"])
        }
    }

    private func clientAndOrganization(
        _ form: FormBody, request: Request, _ decision: ClientDecision
    ) async throws -> (ClientApplication, Organization) {
        let application = try await authenticateClient(form, request: request, decision)
        guard let organization = try await directory.organization(id: application.organizationID) else {
            throw OAuthError.invalidClient("the application's organization no longer exists", basic: false)
        }
        return (application, organization)
    }

    /// Exactly one of client_secret_basic, client_secret_post, private_key_jwt.
    private func authenticateClient(_ form: FormBody, request: Request, _ decision: ClientDecision) async throws -> ClientApplication {
        let application = try await authenticateClient(form, request: request, reasons: decision)
        decision.authenticated(application)
        return application
    }

    private func authenticateClient(_ form: FormBody, request: Request, reasons decision: ClientDecision) async throws -> ClientApplication {
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
        decision.credential = assertion == nil ? .clientSecret : .privateKeyJWT
        do {
            if let (clientID, secret) = basic ?? post {
                return try await clients.authenticate(clientID: clientID, secret: secret)
            }
            guard form.parameters["client_assertion_type"] == Self.clientAssertionType else {
                throw OAuthError.invalidRequest("client_assertion_type must be \(Self.clientAssertionType)")
            }
            let issuer = issuerURL.value
            let application = try await clients.authenticate(assertion: assertion ?? "", audiences: [issuer + "/oauth2/token", issuer])
            if let clientID = form.parameters["client_id"], clientID != application.id {
                throw OAuthError.invalidClient("client_id does not match the client assertion", basic: false)
            }
            return application
        } catch let error as TesseraError where !error.isServerSide {
            decision.reason = error.code
            let detail = error.code == "invalid_client" ? error.message : "\(error.code): \(error.message)"
            throw OAuthError.invalidClient(detail, basic: basic != nil)
        }
    }

    static func tokenResponse(_ issued: AccessTokenIssuer.Issued) -> Response {
        var members: [(String, OrderedJSON)] = [
            ("access_token", .string(issued.token)),
            ("token_type", .string(issued.claims.confirmation == nil ? "Bearer" : "DPoP")),
            ("expires_in", .integer(issued.claims.expiresAt - issued.claims.issuedAt)),
        ]
        if let scope = issued.claims.scope { members.append(("scope", .string(scope))) }
        return JSONResponse.make(.object(members), headers: [.cacheControl: "no-store", .pragma: "no-cache"])
    }

    /// RFC 7523 §2.1: a Lake self-signed JWT as the authorization grant.
    private func jwtBearerGrant(
        _ form: FormBody, _ decision: ClientDecision, dpopThumbprint: String?, client: String?
    ) async throws -> (Response, AccessTokenIssuer.Issued, UUID) {
        decision.credential = .lakeJWT
        decision.claimLakeAssertion(form.parameters["assertion"])
        if form.parameters["scope"] != nil {
            throw OAuthError(status: .badRequest, error: "invalid_scope", description: "the jwt-bearer grant takes no scope")
        }
        let principal: LakePrincipal
        do {
            principal = try await lakeVerifier.verify(try form.required("assertion"), .request(client: client))
        } catch let error as TesseraError {
            decision.reason = error.code
            throw OAuthError.grant(error)
        }
        decision.actor = .user(principal.user.username)
        decision.organizationID = principal.organization.id
        let issued = try await accessTokenIssuer().issue(
            subject: principal.user.username, organization: principal.organization,
            clientID: principal.clientID, scope: nil, notAfter: principal.accessToken.expiresAt, dpopThumbprint: dpopThumbprint
        )
        return (Self.tokenResponse(issued), issued, principal.organization.id)
    }

    /// Audits a refusal of the token, introspection or revocation endpoint: the client (or Lake
    /// user) authenticated so far, else the one the request claimed (marked as claimed, filed under
    /// its organization when it exists), and the most specific reason known.
    private func auditRefusal(_ error: any Error, _ decision: ClientDecision, action: String, context: TesseraRequestContext) async {
        let code: String
        switch error {
        case let error as OAuthError:
            guard error.status.code < 500 else { return }
            code = decision.reason ?? error.error
        case let error as TesseraError:
            guard !error.isServerSide else { return }
            code = error.code
        default:
            return
        }
        var organizationID = decision.organizationID
        if organizationID == nil, decision.actor.claimed {
            if let clientID = decision.claimedClientID {
                organizationID = try? await applications.application(id: clientID)?.organizationID
            } else {
                organizationID = await audit.claimedOrganization(decision.claimedOrganization)?.id
            }
        }
        await audit.record(context, organizationID: organizationID, actor: decision.actor, action: action, target: decision.target, refusal: code)
    }
}

/// What one token-endpoint request has shown so far of who is asking (for its audit event): the
/// client or Lake user it claims, then the one it authenticated as, and the specific reason of a
/// refusal the OAuth error code hides (`token_replayed` behind `invalid_client`…); and, for the
/// access log, the kind of credential it presented. Used within one request only.
final class ClientDecision {
    var credential: PresentedCredential?
    var actor = AuditActor.anonymous
    var organizationID: UUID?
    var claimedClientID: String?
    var claimedOrganization: String?
    var target: String?
    var reason: String?

    /// HTTP Basic names a client id (client_secret_basic).
    func claim(from request: Request) {
        guard let authorization = request.headers[.authorization], let (clientID, _) = BasicCredentials.parse(authorization, formEncoded: true) else {
            return
        }
        claimClient(clientID)
    }

    /// `client_id`, or a client assertion's unverified `sub` (private_key_jwt).
    func claim(from form: FormBody) {
        guard claimedClientID == nil else { return }
        if let clientID = form.parameters["client_id"], !clientID.isEmpty {
            claimClient(clientID)
        } else if let assertion = form.parameters["client_assertion"], let subject = Self.claimedSubject(assertion) {
            claimClient(subject)
        }
    }

    /// A client assertion's `sub` (or `iss`), read without the strict intake's limits (an
    /// assertion refused for its size still names its client), and trusted for nothing.
    static func claimedSubject(_ assertion: String) -> String? {
        if let jws = try? CompactJWS(assertion) { return jws.payload["sub"]?.stringValue ?? jws.payload["iss"]?.stringValue }
        let parts = assertion.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["sub"] as? String ?? object["iss"] as? String
    }

    /// A jwt-bearer grant's Lake assertion names a user and an organization.
    func claimLakeAssertion(_ assertion: String?) {
        guard let assertion, let jws = try? CompactJWS(assertion), let subject = jws.payload["sub"]?.stringValue else { return }
        actor = .user(subject, claimed: true)
        claimedClientID = nil
        claimedOrganization = jws.payload["org_id"]?.stringValue ?? jws.payload["org_key"]?.stringValue
    }

    func authenticated(_ application: ClientApplication) {
        actor = .app(application.id)
        organizationID = application.organizationID
    }

    private func claimClient(_ clientID: String) {
        actor = .app(clientID, claimed: true)
        claimedClientID = String(clientID.prefix(AuditLog.maximumFieldLength))
    }
}

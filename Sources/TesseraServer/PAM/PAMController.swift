import Foundation
import Hummingbird
import TesseraCore

/// The IDaaS PAM authentication-token API (DESIGN §1.2, seed 003) under
/// `/v2/{instanceId}/authenticationTokens`, authorised by server-minted access tokens with PAM
/// scopes: one route per action. Refusals go through `PAMErrorMiddleware` (audited, rendered as
/// `{"error", "error_description", "requestId"}`).
struct PAMController {
    let authenticationTokens: AuthenticationTokenService
    let accessTokens: AccessTokenVerifier
    let directory: DirectoryManager
    let clock: any TesseraClock
    let issuerURL: IssuerURL
    /// `aud` the access tokens must carry.
    let accessTokenAudience: String
    let audit: RequestAuditor
    let bodyLimit: Int

    /// The actions, each a route `POST …/authenticationTokens/_/actions/<name>`.
    static let actions: Set<String> = [
        "generateJwt", "obtainJwt", "obtainJwtByDerivedShortToken", "revoke", "reinstate", "revokeByConsumer", "reinstateByConsumer", "validate",
    ]

    var endpoints: RouteCollection<TesseraRequestContext> {
        let routes = RouteCollection(context: TesseraRequestContext.self)
        routes.add(middleware: PAMErrorMiddleware(audit: audit, nonces: accessTokens.dpop.nonces))
        routes.get(":instanceId/authenticationTokens", use: list)
        routes.post(Self.action("generateJwt"), use: generateJwt)
        routes.post(Self.action("obtainJwt"), use: obtainJwt)
        routes.post(Self.action("obtainJwtByDerivedShortToken"), use: obtainJwtByDerivedShortToken)
        routes.post(Self.action("revoke")) { request, context in try await setRevoked(request, context, revoked: true) }
        routes.post(Self.action("reinstate")) { request, context in try await setRevoked(request, context, revoked: false) }
        routes.post(Self.action("revokeByConsumer")) { request, context in try await setRevokedByConsumer(request, context, revoked: true) }
        routes.post(Self.action("reinstateByConsumer")) { request, context in try await setRevokedByConsumer(request, context, revoked: false) }
        routes.post(Self.action("validate"), use: validate)
        routes.post(Self.action(":action"), use: unknownAction)
        return routes
    }

    /// The route of an action.
    static func action(_ name: String) -> RouterPath { RouterPath(":instanceId/authenticationTokens/_/actions/" + name) }

    /// The caller: an access token for this instance's organization holding `scope`. The
    /// request's attribution learns who the caller is as soon as the token is verified.
    private func authorize(_ request: Request, _ context: TesseraRequestContext, scope: String) async throws -> Caller {
        let instanceID = try context.parameters.require("instanceId")
        guard let organizationID = InstanceID.organizationID(instanceID),
            let organization = try await directory.organization(id: organizationID)
        else {
            throw TesseraError(.notFound, "InstanceNotFound", "no instance '\(instanceID)'")
        }
        guard let (credential, dpopScheme) = request.headers[.authorization].flatMap(DPoPRequest.credential) else {
            throw TesseraError(.unauthenticated, "invalid_token", "send Authorization: Bearer <access token from the token endpoint>")
        }
        context.accessLog?.credential(.accessToken)
        // A DPoP-bound token needs a proof naming this request at the public URL (RFC 9449 §7).
        let presentation = DPoPPresentation(
            dpopScheme: dpopScheme, proofs: DPoPRequest.proofs(request), method: request.method.rawValue,
            url: dpopScheme ? issuerURL.value + request.uri.path : ""
        )
        let token = try await accessTokens.verify(
            credential, issuer: issuerURL.value, audience: accessTokenAudience, sender: .check(presentation)
        )
        let attribution = context.attribution
        attribution?.actor = token.clientID.hasPrefix("app_") ? .app(token.clientID) : .user(token.subject)
        attribution?.organizationID = token.organization == organization.domainName
            ? organization.id : try await directory.organization(domainName: token.organization)?.id
        guard token.organization == organization.domainName else {
            throw TesseraError(.forbidden, "Forbidden.InstanceMismatch", "the access token belongs to another instance")
        }
        guard PAMScope.allows(token.scopes, scope) else {
            throw TesseraError(.forbidden, "insufficient_scope", "this operation needs scope \(scope) (or \(PAMScope.all))")
        }
        return Caller(organization: organization, clientID: token.clientID)
    }

    /// The instance's organization and the application whose access token is calling.
    struct Caller {
        let organization: Organization
        let clientID: String
        var id: UUID { organization.id }
    }

    // MARK: Actions

    @Sendable func generateJwt(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let caller = try await authorize(request, context, scope: PAMScope.manage)
        let body = try await readBody(request, allowed: [
            "credentialProviderIdentifier", "issuer", "subject", "audiences", "customClaims", "expiration", "includeDerivedShortToken",
        ])
        context.attribution?.target = try? body.string("credentialProviderIdentifier")
        let generated = try await authenticationTokens.generate(
            organizationID: caller.id, creatorID: caller.clientID, GenerateRequest(
                credentialProviderIdentifier: try body.requiredString("credentialProviderIdentifier"), issuer: try body.string("issuer"),
                subject: try body.requiredString("subject"), audiences: try body.requiredStrings("audiences"),
                customClaims: try body.object("customClaims") ?? [:], expiration: try body.integer("expiration"),
                includeDerivedShortToken: try body.boolean("includeDerivedShortToken") ?? false
            )
        )
        await record(context, caller, action: "pam.generateJwt", target: generated.record.id)
        return JSONResponse.make(Self.document(generated.record, jwt: generated.jwt, shortToken: generated.shortToken), status: .ok)
    }

    @Sendable func obtainJwt(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let caller = try await authorize(request, context, scope: PAMScope.obtain)
        let body = try await readBody(request, allowed: ["consumerId", "authenticationTokenId"])
        context.attribution?.target = try? body.string("authenticationTokenId")
        let opened = try await authenticationTokens.obtain(
            organizationID: caller.id, consumerID: try body.requiredString("consumerId"), tokenID: try body.requiredString("authenticationTokenId")
        )
        await record(context, caller, action: "pam.obtainJwt", target: opened.record.id)
        return JSONResponse.make(Self.document(opened.record, jwt: opened.jwt, shortToken: opened.shortToken))
    }

    @Sendable func obtainJwtByDerivedShortToken(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let caller = try await authorize(request, context, scope: PAMScope.obtain)
        let body = try await readBody(request, allowed: ["derivedShortToken"])
        context.attribution?.target = nil  // the short token is a secret: never a target
        let opened = try await authenticationTokens.obtain(organizationID: caller.id, shortToken: try body.requiredString("derivedShortToken"))
        await record(context, caller, action: "pam.obtainJwtByDerivedShortToken", target: opened.record.id)
        return JSONResponse.make(Self.document(opened.record, jwt: opened.jwt, shortToken: opened.shortToken))
    }

    /// `revoke` and `reinstate`: one PAM JWT.
    private func setRevoked(_ request: Request, _ context: TesseraRequestContext, revoked: Bool) async throws -> Response {
        let caller = try await authorize(request, context, scope: PAMScope.manage)
        let body = try await readBody(request, allowed: ["token"])
        context.attribution?.target = Self.tokenID(try? body.string("token"))
        let record = try await authenticationTokens.setRevoked(organizationID: caller.id, token: try body.requiredString("token"), revoked: revoked)
        await self.record(context, caller, action: revoked ? "pam.revoke" : "pam.reinstate", target: record.id)
        return JSONResponse.make(Self.document(record, jwt: nil, shortToken: nil))
    }

    /// `revokeByConsumer` and `reinstateByConsumer`: every token of one consumer.
    private func setRevokedByConsumer(_ request: Request, _ context: TesseraRequestContext, revoked: Bool) async throws -> Response {
        let caller = try await authorize(request, context, scope: PAMScope.manage)
        let body = try await readBody(request, allowed: ["consumerId"])
        context.attribution?.target = try? body.string("consumerId")
        let consumerID = try body.requiredString("consumerId")
        let count = try await authenticationTokens.setRevoked(organizationID: caller.id, consumerID: consumerID, revoked: revoked)
        await record(context, caller, action: revoked ? "pam.revokeByConsumer" : "pam.reinstateByConsumer", target: consumerID)
        return JSONResponse.make(.object([("updatedCount", .integer(Int64(count)))]))
    }

    @Sendable func validate(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let caller = try await authorize(request, context, scope: PAMScope.read)
        let body = try await readBody(request, allowed: ["token"])
        context.attribution?.target = Self.tokenID(try? body.string("token"))
        let active = try await authenticationTokens.isActive(organizationID: caller.id, token: try body.requiredString("token"))
        return JSONResponse.make(.object([("active", .bool(active))]))
    }

    /// Any other action name: 404 `ActionNotFound`, audited as `pam.unknown` (target: the name).
    @Sendable func unknownAction(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let name = context.parameters.get("action") ?? ""
        context.attribution?.target = name
        throw TesseraError(.notFound, "ActionNotFound", "no action '\(name)'; see DESIGN §1.2 for the list")
    }

    @Sendable func list(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let caller = try await authorize(request, context, scope: PAMScope.read)
        let query = request.uri.queryParameters
        let maxResults = try query.get("maxResults").map { text -> Int in
            guard let value = Int(text), (1...100).contains(value) else {
                throw TesseraError(.invalidRequest, "InvalidParameter.MaxResults", "maxResults must be 1 to 100")
            }
            return value
        } ?? 20
        func flag(_ name: String) throws -> Bool? {
            guard let text = query.get(name) else { return nil }
            guard let value = Bool(text) else { throw TesseraError(.invalidRequest, "InvalidParameter.\(name.prefix(1).uppercased() + name.dropFirst())", "\(name) must be true or false") }
            return value
        }
        var providerID: String?
        if let identifier = query.get("credentialProviderIdentifier") {
            providerID = try await authenticationTokens.providers(organizationID: caller.id)
                .first { $0.id == identifier || $0.name == identifier }?.id ?? identifier
        }
        let (page, total) = try await authenticationTokens.list(
            organizationID: caller.id,
            query: AuthenticationTokenQuery(
                consumerID: query.get("consumerId"), credentialProviderID: providerID, revoked: try flag("revoked"), expired: try flag("expired"),
                now: clock.now().unixSeconds * 1000, after: query.get("nextToken"), limit: maxResults + 1
            )
        )
        let shown = Array(page.prefix(maxResults))
        return JSONResponse.make(.object([
            ("entities", .array(shown.map { Self.document($0, jwt: nil, shortToken: nil) })),
            ("totalCount", .integer(Int64(total))),
            ("nextToken", page.count > maxResults ? .optional(shown.last?.id) : .null),
            ("maxResults", .integer(Int64(maxResults))),
        ]))
    }

    /// Audits an action the caller's application did.
    private func record(_ context: TesseraRequestContext, _ caller: Caller, action: String, target: String) async {
        await audit.record(context, organizationID: caller.id, actor: AuditActor("app:\(caller.clientID)"), action: action, target: target)
    }

    /// A PAM JWT's id (its `jti`), the target of an action on it; nothing of a short token, which
    /// is a secret.
    static func tokenID(_ token: String?) -> String? {
        guard let token, CredentialKind.of(token) == .pamJWT, let jws = try? CompactJWS(token) else { return nil }
        return jws.payload["jti"]?.stringValue
    }

    private func readBody(_ request: Request, allowed: Set<String>) async throws -> JSONBody {
        let body = try await JSONBody.read(request, limit: bodyLimit)
        try body.allowOnly(allowed)
        return body
    }

    /// Seed 003's document, field for field, in its order; `jwtContent` only with the JWT.
    static func document(_ record: AuthenticationToken, jwt: String?, shortToken: String?) -> OrderedJSON {
        var members: [(String, OrderedJSON)] = [
            ("instanceId", .string(InstanceID.make(record.organizationID))),
            ("authenticationTokenId", .string(record.id)),
            ("credentialProviderId", .string(record.credentialProviderID)),
            ("createTime", .integer(record.createTime)),
            ("updateTime", .integer(record.updateTime)),
            ("authenticationTokenType", .string("jwt")),
            ("revoked", .bool(record.revoked)),
            ("creatorType", .string(record.creatorType)),
            ("creatorId", .string(record.creatorID)),
            ("consumerType", .string(record.consumerType)),
            ("consumerId", .string(record.consumerID)),
            ("expirationTime", .integer(record.expirationTime)),
        ]
        if let jwt {
            members.append(("jwtContent", .object([("jwtValue", .string(jwt)), ("derivedShortToken", .optional(shortToken))])))
        }
        return .object(members)
    }
}

import Foundation
import Hummingbird
import TesseraCore

/// The IDaaS PAM authentication-token API (DESIGN §1.2, seed 003) under
/// `/v2/{instanceId}/authenticationTokens`, authorised by server-minted access tokens with PAM
/// scopes. Errors are `{"error", "error_description", "requestId"}`.
struct PAMController {
    let tessera: Tessera

    func addRoutes(to router: Router<TesseraRequestContext>) {
        router.get("v2/:instanceId/authenticationTokens", use: list)
        router.post("v2/:instanceId/authenticationTokens/_/actions/:action", use: action)
    }

    /// The caller: an access token for this instance's organization holding `scope`. The
    /// decision learns who the caller is as soon as the token is verified.
    private func authorize(_ request: Request, context: TesseraRequestContext, scope: String, _ decision: PAMDecision) async throws -> Caller {
        let instanceID = try context.parameters.require("instanceId")
        guard let organizationID = InstanceID.organizationID(instanceID),
            let organization = try await tessera.directory.organization(id: organizationID)
        else {
            throw TesseraError(.notFound, "InstanceNotFound", "no instance '\(instanceID)'")
        }
        guard let credential = request.headers[.authorization].flatMap(BearerCredential.parse) else {
            throw TesseraError(.unauthenticated, "invalid_token", "send Authorization: Bearer <access token from the token endpoint>")
        }
        let token = try await tessera.accessTokenVerifier.verify(
            credential, issuer: tessera.issuerURL.value,
            audience: tessera.configuration.accessTokenAudience
        )
        decision.actor = token.clientID.hasPrefix("app_") ? .app(token.clientID) : .user(token.subject)
        decision.organizationID = token.organization == organization.domainName
            ? organization.id : try await tessera.directory.organization(domainName: token.organization)?.id
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

    /// Runs `body`, turning core errors into the IDaaS error document. Each refusal is audited
    /// once, with the application whose access token was verified (else what the token claimed,
    /// marked as claimed) and the target the request named.
    private func answering(
        _ request: Request, _ context: TesseraRequestContext, action: String, _ body: (PAMDecision) async throws -> Response
    ) async throws -> Response {
        let decision = PAMDecision()
        decision.target = context.parameters.get("instanceId")
        do {
            return try await body(decision)
        } catch let error as TesseraError {
            if error.kind != .internalFailure {
                if decision.organizationID == nil, decision.actor == .anonymous {
                    let claimed = await tessera.claimedIdentity(bearer: request.headers[.authorization].flatMap(BearerCredential.parse))
                    decision.actor = claimed.actor
                    decision.organizationID = claimed.organization?.id
                }
                await tessera.audit(
                    context, organizationID: decision.organizationID, actor: decision.actor, action: action, target: decision.target,
                    refusal: error.code
                )
            }
            let status: HTTPResponse.Status = switch error.kind {
            case .unauthenticated: .unauthorized
            case .forbidden: .forbidden
            case .invalidRequest: .badRequest
            case .notFound: .notFound
            case .conflict: .conflict
            case .internalFailure: .internalServerError
            }
            let code = error.kind == .unauthenticated && error.code != "invalid_token" ? "invalid_token" : error.code
            let description = code == error.code ? error.message : "\(error.code): \(error.message)"
            var oauth = OAuthError(status: status, error: code, description: description, requestID: context.id)
            if error.kind == .unauthenticated { oauth.challenge = #"Bearer realm="tessera", error="invalid_token""# }
            throw oauth
        }
    }

    /// The actions; an unknown one is audited as `pam.unknown` (target: its name).
    static let actions: Set<String> = [
        "generateJwt", "obtainJwt", "obtainJwtByDerivedShortToken", "revoke", "reinstate", "revokeByConsumer", "reinstateByConsumer", "validate",
    ]

    @Sendable func action(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let name = context.parameters.get("action") ?? ""
        return try await answering(request, context, action: Self.actions.contains(name) ? "pam.\(name)" : "pam.unknown") { decision in
            let service = tessera.authenticationTokens
            switch name {
            case "generateJwt":
                let caller = try await authorize(request, context: context, scope: PAMScope.manage, decision)
                let body = try await readBody(request, allowed: [
                    "credentialProviderIdentifier", "issuer", "subject", "audiences", "customClaims", "expiration", "includeDerivedShortToken",
                ])
                decision.target = try? body.string("credentialProviderIdentifier")
                let generated = try await service.generate(
                    organizationID: caller.id, creatorID: caller.clientID, GenerateRequest(
                        credentialProviderIdentifier: try body.requiredString("credentialProviderIdentifier"), issuer: try body.string("issuer"),
                        subject: try body.requiredString("subject"), audiences: try body.requiredStrings("audiences"),
                        customClaims: try body.object("customClaims") ?? [:], expiration: try body.integer("expiration"),
                        includeDerivedShortToken: try body.boolean("includeDerivedShortToken") ?? false
                    )
                )
                await audit(context, caller, action: "pam.generateJwt", target: generated.record.id)
                return JSONResponse.make(Self.document(generated.record, jwt: generated.jwt, shortToken: generated.shortToken), status: .ok)
            case "obtainJwt":
                let caller = try await authorize(request, context: context, scope: PAMScope.obtain, decision)
                let body = try await readBody(request, allowed: ["consumerId", "authenticationTokenId"])
                decision.target = try? body.string("authenticationTokenId")
                let opened = try await service.obtain(
                    organizationID: caller.id, consumerID: try body.requiredString("consumerId"),
                    tokenID: try body.requiredString("authenticationTokenId")
                )
                await audit(context, caller, action: "pam.obtainJwt", target: opened.record.id)
                return JSONResponse.make(Self.document(opened.record, jwt: opened.jwt, shortToken: opened.shortToken))
            case "obtainJwtByDerivedShortToken":
                let caller = try await authorize(request, context: context, scope: PAMScope.obtain, decision)
                let body = try await readBody(request, allowed: ["derivedShortToken"])
                decision.target = nil  // the short token is a secret: never a target
                let opened = try await service.obtain(organizationID: caller.id, shortToken: try body.requiredString("derivedShortToken"))
                await audit(context, caller, action: "pam.obtainJwtByDerivedShortToken", target: opened.record.id)
                return JSONResponse.make(Self.document(opened.record, jwt: opened.jwt, shortToken: opened.shortToken))
            case "revoke", "reinstate":
                let caller = try await authorize(request, context: context, scope: PAMScope.manage, decision)
                let body = try await readBody(request, allowed: ["token"])
                decision.target = Self.tokenID(try? body.string("token"))
                let record = try await service.setRevoked(organizationID: caller.id, token: try body.requiredString("token"), revoked: name == "revoke")
                await audit(context, caller, action: "pam.\(name)", target: record.id)
                return JSONResponse.make(Self.document(record, jwt: nil, shortToken: nil))
            case "revokeByConsumer", "reinstateByConsumer":
                let caller = try await authorize(request, context: context, scope: PAMScope.manage, decision)
                let body = try await readBody(request, allowed: ["consumerId"])
                decision.target = try? body.string("consumerId")
                let count = try await service.setRevoked(
                    organizationID: caller.id, consumerID: try body.requiredString("consumerId"), revoked: name == "revokeByConsumer"
                )
                await audit(context, caller, action: "pam.\(name)", target: try body.requiredString("consumerId"))
                return JSONResponse.make(.object([("updatedCount", .integer(Int64(count)))]))
            case "validate":
                let caller = try await authorize(request, context: context, scope: PAMScope.read, decision)
                let body = try await readBody(request, allowed: ["token"])
                decision.target = Self.tokenID(try? body.string("token"))
                let active = try await service.isActive(organizationID: caller.id, token: try body.requiredString("token"))
                return JSONResponse.make(.object([("active", .bool(active))]))
            default:
                decision.target = name
                throw TesseraError(.notFound, "ActionNotFound", "no action '\(name)'; see DESIGN §1.2 for the list")
            }
        }
    }

    @Sendable func list(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        try await answering(request, context, action: "pam.list") { decision in
            let caller = try await authorize(request, context: context, scope: PAMScope.read, decision)
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
                providerID = try await tessera.authenticationTokens.providers(organizationID: caller.id)
                    .first { $0.id == identifier || $0.name == identifier }?.id ?? identifier
            }
            let (page, total) = try await tessera.authenticationTokens.list(
                organizationID: caller.id,
                query: AuthenticationTokenQuery(
                    consumerID: query.get("consumerId"), credentialProviderID: providerID, revoked: try flag("revoked"), expired: try flag("expired"),
                    now: tessera.clock.now().unixSeconds * 1000, after: query.get("nextToken"), limit: maxResults + 1
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
    }

    private func audit(_ context: TesseraRequestContext, _ caller: Caller, action: String, target: String) async {
        await tessera.audit(context, organizationID: caller.id, actor: AuditActor("app:\(caller.clientID)"), action: action, target: target)
    }

    /// A PAM JWT's id (its `jti`), the target of an action on it; nothing of a short token, which
    /// is a secret.
    static func tokenID(_ token: String?) -> String? {
        guard let token, CredentialKind.of(token) == .pamJWT, let jws = try? CompactJWS(token) else { return nil }
        return jws.payload["jti"]?.stringValue
    }

    private func readBody(_ request: Request, allowed: Set<String>) async throws -> JSONBody {
        let body = try await JSONBody.read(request, limit: tessera.configuration.maximumBodySize)
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

/// What one PAM request has shown of who is asking and about what (for its audit event). Used
/// within one request only.
final class PAMDecision {
    var actor = AuditActor.anonymous
    var organizationID: UUID?
    var target: String?
}

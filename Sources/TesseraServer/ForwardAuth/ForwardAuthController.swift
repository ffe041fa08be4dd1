import Foundation
import Hummingbird
import TesseraCore

/// `GET /auth/verify`: forward-auth for a reverse proxy (nginx `auth_request`, Traefik
/// `forwardAuth`, Envoy `ext_authz` over HTTP). The credential comes in `Authorization: Bearer`;
/// `?scope=a b` (all required; may repeat) and `?audience=x` narrow what is accepted.
///
/// 200 carries the identity in `X-Tessera-*` headers (and the same as JSON); 401 carries an RFC
/// 6750 `WWW-Authenticate` challenge with the reason, 403 an `insufficient_scope` one. Both also
/// name the reason's stable code in `X-Tessera-Error`, which a proxy can pass on or log: the
/// door's one error path is the catch in `verify`.
struct ForwardAuthController {
    let forwardAuthenticator: ForwardAuthenticator
    let audit: RequestAuditor
    /// The URL a proof names when no proxy header says otherwise.
    let issuerURL: IssuerURL
    /// For the `DPoP-Nonce` of a refusal that wants one.
    let nonces: DPoPNonces
    let acceptedResponses = AcceptedResponses()

    var endpoints: RouteCollection<TesseraRequestContext> {
        let routes = RouteCollection(context: TesseraRequestContext.self)
        routes.get("verify", use: verify)
        return routes
    }

    @Sendable func verify(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let requirements = ForwardAuthRequirements(
            scopes: request.uri.queryParameters.getAll("scope").flatMap { $0.split(separator: " ").map(String.init) },
            audience: request.uri.queryParameters.get("audience").flatMap { $0.isEmpty ? nil : $0 }
        )
        do {
            let (credential, presentation) = try presentation(request)
            let identity = try await forwardAuthenticator.verify(credential, requirements: requirements, presentation: presentation, client: context.client)
            context.accessLog?.credential(PresentedCredential(rawValue: identity.tokenType))
            return accepted(identity)
        } catch let error as TesseraError where error.kind == .unauthenticated || error.kind == .forbidden {
            if let note = context.accessLog {
                // A refusal is not the hot path: the credential is classified again for the access log.
                note.credential(request.headers[.authorization].flatMap(DPoPRequest.credential).map { PresentedCredential(CredentialKind.of($0.token)) })
                note.refusal(error.code)
            }
            await auditRefusal(error, request: request, requirements: requirements, context: context)
            var response = ErrorMiddleware<TesseraRequestContext>.render(error, logger: context.logger)
            response.headers[.tesseraError] = error.code
            if DPoPRequest.isDPoPRefusal(error.code) {
                response.headers[.wwwAuthenticate] = DPoPRequest.challenge(for: error.code)
                if error.code == "dpop_nonce_required" { response.headers[.dpopNonce] = nonces.current() }
            }
            if error.kind == .forbidden {
                response.headers[.wwwAuthenticate] =
                    #"Bearer realm="tessera", error="insufficient_scope", scope=""# + ErrorMiddleware<TesseraRequestContext>.headerSafe(requirements.scopes.joined(separator: " ")) + #"""#
            }
            return response
        }
    }

    /// A refusal is audited (`forward_auth.verify`, target: the scopes and audience asked for)
    /// under the identity the credential claims; a `403` comes after the credential was verified,
    /// so that identity is then not merely claimed. An acceptance is not audited (it is a
    /// verification on the hot path, like any authenticated request).
    private func auditRefusal(_ error: TesseraError, request: Request, requirements: ForwardAuthRequirements, context: TesseraRequestContext) async {
        var (actor, organization) = await audit.claimedIdentity(bearer: request.headers[.authorization].flatMap(DPoPRequest.credential)?.token)
        if error.kind == .forbidden { actor.claimed = false }
        var asked = requirements.scopes.map { "scope:" + $0 }
        if let audience = requirements.audience { asked.append("audience:" + audience) }
        await audit.record(
            context, organizationID: organization?.id, actor: actor, action: "forward_auth.verify",
            target: asked.isEmpty ? nil : asked.joined(separator: " "),
            refusal: error.code
        )
    }

    /// The credential of an `Authorization: Bearer …` or `DPoP …` header, and how it was
    /// presented (RFC 9449). A proof names the request the proxy is asking about: its method and
    /// URL come from `X-Forwarded-Method`/`X-Original-Method`, `X-Forwarded-Proto`,
    /// `X-Forwarded-Host` and `X-Forwarded-Uri`/`X-Original-URI` (the proxy sets them,
    /// `docs/dpop.md`); without them, from this request itself at the issuer URL.
    func presentation(_ request: Request) throws -> (String, DPoPPresentation) {
        guard let authorization = request.headers[.authorization] else {
            throw TesseraError(.unauthenticated, "authentication_required", "send the credential as 'Authorization: Bearer <token>'")
        }
        guard let (credential, dpopScheme) = DPoPRequest.credential(authorization) else {
            throw TesseraError(.unauthenticated, "authorization_malformed", "Authorization header must be 'Bearer <token>' or 'DPoP <token>'")
        }
        let proofs = DPoPRequest.proofs(request)
        guard dpopScheme || !proofs.isEmpty else {
            // The hot path: a bearer credential, nothing for a proof to name.
            return (credential, DPoPPresentation(dpopScheme: false, proofs: [], method: "", url: ""))
        }
        let headers = request.headers
        let method = headers[.xForwardedMethod] ?? headers[.xOriginalMethod] ?? request.method.rawValue
        let url: String
        if let uri = headers[.xForwardedUri] ?? headers[.xOriginalURI] {
            let path = String(uri.prefix { $0 != "?" && $0 != "#" })
            let issuer = issuerURL.value
            let scheme = headers[.xForwardedProto] ?? String(issuer.prefix { $0 != ":" })
            guard let host = headers[.xForwardedHost] ?? request.head.authority else {
                throw TesseraError(.unauthenticated, "dpop_url_mismatch", "the request's host is unknown: the proxy must send X-Forwarded-Host")
            }
            url = scheme + "://" + host + path
        } else {
            url = issuerURL.value + request.uri.path
        }
        return (credential, DPoPPresentation(dpopScheme: dpopScheme, proofs: proofs, method: method, url: url))
    }

    /// The identity's parts an acceptance names: `X-Tessera-<name>` headers and the JSON
    /// members `<name>` in snake case, in this order (made once, not per request).
    static let acceptedFields: [(header: HTTPFields.Element.Name, member: String)] = [
        "Subject", "Org", "Org-Id", "Token-Type", "Scopes", "Audience", "Client-Id", "Role", "Token-Id", "Expires-At",
    ].map { name in
        (HTTPFields.Element.Name("X-Tessera-" + name)!, name.lowercased().replacingOccurrences(of: "-", with: "_"))
    }

    /// The `200` for `identity`, encoded once per identity (`AcceptedResponses`).
    func accepted(_ identity: VerifiedIdentity) -> Response {
        acceptedResponses.response(for: identity, encode: Self.encodeAccepted)
    }

    static func encodeAccepted(_ identity: VerifiedIdentity) -> AcceptedResponses.Encoded {
        let values: [String?] = [
            identity.subject,
            identity.organization.domainName,
            identity.organization.id.uuidString.lowercased(),
            identity.tokenType,
            identity.scopes.joined(separator: " "),
            identity.audiences.joined(separator: " "),
            identity.clientID,
            identity.role,
            identity.tokenID,
            String(Int64(identity.expiresAt.timeIntervalSince1970)),
        ]
        var headers = HTTPFields()
        headers.reserveCapacity(values.count + 2)
        var document: [(String, OrderedJSON)] = []
        document.reserveCapacity(values.count)
        for ((header, member), value) in zip(acceptedFields, values) {
            guard let value else { continue }
            headers.append(HTTPFields.Element(name: header, value: ErrorMiddleware<TesseraRequestContext>.headerSafe(value)))
            document.append((member, .string(value)))
        }
        headers[.contentType] = "application/json"
        return AcceptedResponses.Encoded(headers: headers, body: ByteBuffer(bytes: OrderedJSON.object(document).utf8))
    }
}

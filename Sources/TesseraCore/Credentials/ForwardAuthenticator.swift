import Foundation

/// Who a credential presented to forward-auth speaks for, whatever its kind.
public struct VerifiedIdentity: Sendable, Equatable {
    /// `lake_jwt`, `access_token`, `pam_jwt`, `pam_short_token` or `tr50_jwt`.
    public var tokenType: String
    /// The user (Lake), `sub` (access token, PAM), or `whoami` (TR50).
    public var subject: String
    public var organization: Organization
    public var scopes: [String]
    public var audiences: [String]
    /// The OAuth client (access token), the creating application (PAM) or the key (Lake).
    public var clientID: String?
    /// The TR50 role a session JWT grants.
    public var role: String?
    public var tokenID: String?
    public var expiresAt: Date
}

/// What a protected location asks of a credential beyond being valid.
public struct ForwardAuthRequirements: Sendable, Equatable {
    /// Every one must be granted.
    public var scopes: [String]
    /// Must be among the credential's audiences.
    public var audience: String?

    public init(scopes: [String] = [], audience: String? = nil) {
        self.scopes = scopes
        self.audience = audience
    }
}

/// Forward-auth (DESIGN §1.4): accepts any credential Tessera issues or checks — a Lake
/// self-signed JWT (consumed if single-use, as on any Lake request), an access token, a PAM JWT or
/// derived short token, a TR50 session JWT — and says who it speaks for, or why not. Each kind
/// goes through its own verifier; this type only tells them apart and applies the requirements.
public struct ForwardAuthenticator: Sendable {
    private let lake: LakeAssertionVerifier
    private let serverTokens: AccessTokenVerifier
    private let authenticationTokens: AuthenticationTokenService
    private let tr50: TR50Service
    private let directory: any DirectoryStore
    private let lakeAudience: String
    private let accessTokenAudience: String
    private let issuer: @Sendable () -> String

    public init(
        lake: LakeAssertionVerifier, serverTokens: AccessTokenVerifier, authenticationTokens: AuthenticationTokenService, tr50: TR50Service,
        directory: any DirectoryStore, lakeAudience: String, accessTokenAudience: String, issuer: @escaping @Sendable () -> String
    ) {
        self.lake = lake
        self.serverTokens = serverTokens
        self.authenticationTokens = authenticationTokens
        self.tr50 = tr50
        self.directory = directory
        self.lakeAudience = lakeAudience
        self.accessTokenAudience = accessTokenAudience
        self.issuer = issuer
    }

    /// The identity `credential` proves, checked against `requirements`. Throws `unauthenticated`
    /// errors for a credential that is not valid (or not for this audience) and a `forbidden`
    /// `insufficient_scope` error for a valid one lacking a required scope.
    ///
    /// `presentation`: how the request presented it (the `Authorization` scheme, its `DPoP`
    /// headers, the method and URL the proofs must name); a DPoP-bound access token needs it.
    /// `client`: the address of the client the proxy asks for (a PAT's allowed networks must
    /// contain it; nil when unknown).
    public func verify(
        _ credential: String, requirements: ForwardAuthRequirements, presentation: DPoPPresentation? = nil, client: String?
    ) async throws -> VerifiedIdentity {
        let identity = try await identify(credential, presentation: presentation, client: client)
        if let audience = requirements.audience, !identity.audiences.contains(audience) {
            TesseraMetrics.refusal(Self.kind(of: identity), code: "audience_mismatch")
            throw TesseraError.token(
                "audience_mismatch", "the \(identity.tokenType) is for \(identity.audiences.map { "'\($0)'" }.joined(separator: ", ")), not '\(audience)'"
            )
        }
        let missing = requirements.scopes.filter { !identity.scopes.contains($0) }
        if !missing.isEmpty {
            TesseraMetrics.refusal(Self.kind(of: identity), code: "insufficient_scope")
            throw TesseraError(.forbidden, "insufficient_scope", "the \(identity.tokenType) lacks scope \(missing.joined(separator: " "))")
        }
        return identity
    }

    /// The kind an identity's credential is counted under (its `tokenType` is a `CredentialKind`).
    private static func kind(of identity: VerifiedIdentity) -> PresentedCredential {
        PresentedCredential(rawValue: identity.tokenType) ?? .opaque
    }

    private func identify(_ credential: String, presentation: DPoPPresentation?, client: String?) async throws -> VerifiedIdentity {
        // Classified and parsed once: each verifier takes the parsed JWS.
        let (kind, jws) = CredentialKind.classify(credential)
        if presentation?.dpopScheme == true, kind != .accessToken {
            // A token that does not even parse is refused for that (token_malformed,
            // token_too_large), as under Bearer: what kind it is cannot be told.
            if kind.isJWT, jws == nil { _ = try CompactJWS(credential) }
            TesseraMetrics.refusal(PresentedCredential(kind), code: "dpop_token_unbound")
            throw TesseraError.token("dpop_token_unbound", "only access tokens are DPoP-bound; send this credential as 'Authorization: Bearer <token>'")
        }
        switch kind {
        case .pamShortToken: return try await pamToken(credential, jws: nil, type: .pamShortToken)
        case .pamJWT: return try await pamToken(credential, jws: jws, type: .pamJWT)
        case .accessToken: return try await accessToken(credential, jws: jws, presentation: presentation)
        case .tr50JWT: return try await tr50Token(credential, jws: jws)
        case .lakeJWT:
            let principal = try await lake.verify(credential, .request(client: client), jws: jws)
            return VerifiedIdentity(
                tokenType: CredentialKind.lakeJWT.rawValue, subject: principal.user.username, organization: principal.organization, scopes: [],
                audiences: [lakeAudience], clientID: principal.clientID, role: nil,
                tokenID: principal.tokenID, expiresAt: principal.expiresAt
            )
        case .opaque:
            TesseraMetrics.refusal(.opaque, code: "credential_unrecognised")
            throw TesseraError.token(
                "credential_unrecognised",
                "the bearer credential is neither a JWT nor a derived short token (sk-…); a PAT alone is not a credential, sign a Lake JWT with it"
            )
        }
    }

    private func accessToken(_ token: String, jws: CompactJWS?, presentation: DPoPPresentation?) async throws -> VerifiedIdentity {
        let verified = try await serverTokens.verify(
            token, issuer: issuer(), audience: accessTokenAudience, jws: jws, sender: presentation.map(SenderConstraintCheck.check) ?? .refuseBound
        )
        return VerifiedIdentity(
            tokenType: CredentialKind.accessToken.rawValue, subject: verified.subject, organization: try await organization(verified.organization),
            scopes: verified.scopes, audiences: [accessTokenAudience], clientID: verified.clientID, role: nil, tokenID: verified.tokenID,
            expiresAt: verified.expiresAt
        )
    }

    private func tr50Token(_ token: String, jws: CompactJWS?) async throws -> VerifiedIdentity {
        let session: TR50SessionJWT
        do {
            session = try await tr50.sessionJWT(token, jws: jws)
        } catch let failure as TR50Failure {
            throw TesseraError.token("tr50_jwt_refused", failure.message)
        }
        return VerifiedIdentity(
            tokenType: CredentialKind.tr50JWT.rawValue, subject: session.grant.whoAmI, organization: session.organization, scopes: [],
            audiences: [TR50Service.tokenAudience], clientID: nil, role: session.grant.role.key, tokenID: session.tokenID,
            expiresAt: session.expiresAt
        )
    }

    private func pamToken(_ token: String, jws: CompactJWS?, type: CredentialKind) async throws -> VerifiedIdentity {
        let record: AuthenticationToken
        let claims: [String: JSONValue]
        do {
            (record, claims) = try await authenticationTokens.liveToken(token, jws: jws)
        } catch let error as TesseraError where !error.isServerSide {
            // Not found, revoked or expired: for forward-auth all mean "this credential is not valid".
            throw TesseraError.token(error.code, error.message)
        }
        guard let organization = try await directory.organization(id: record.organizationID) else {
            throw TesseraError.token("organization_unknown", "the token's organization no longer exists")
        }
        // The pipeline checked `aud`'s form (strings only); a PAM JWT's `scope` is a custom claim.
        let audiences: [String] =
            switch claims["aud"] {
            case .string(let one)?: [one]
            case .array(let many)?: many.compactMap(\.stringValue)
            default: []
            }
        let scopes: [String] =
            switch claims["scope"] {
            case .string(let list)?: list.split(separator: " ").map(String.init)
            case .array(let many)?: many.compactMap(\.stringValue)
            default: []
            }
        return VerifiedIdentity(
            tokenType: type.rawValue, subject: record.consumerID, organization: organization, scopes: scopes, audiences: audiences,
            clientID: record.creatorID, role: nil, tokenID: record.id, expiresAt: Date(timeIntervalSince1970: Double(record.expirationTime) / 1000)
        )
    }

    private func organization(_ domainName: String) async throws -> Organization {
        guard let organization = try await directory.organization(domainName: domainName) else {
            throw TesseraError.token("organization_unknown", "organization '\(domainName)' no longer exists")
        }
        return organization
    }
}

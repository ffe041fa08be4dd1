import Foundation

/// RFC 7662's answer about one token, for the caller's organization only.
public struct Introspection: Sendable {
    public var active: Bool
    public var tokenType: String?
    public var subject: String?
    public var clientID: String?
    public var scope: String?
    public var issuer: String?
    public var audience: [String]?
    public var expiresAt: Int64?
    public var issuedAt: Int64?
    public var tokenID: String?
    /// The TR50 role a session JWT grants (an extension member, RFC 7662 §2.2).
    public var role: String?
    /// `cnf.jkt` of a DPoP-bound access token (RFC 9449 §6.2): the resource server checks the proof.
    public var dpopThumbprint: String?

    public static let inactive = Introspection(active: false)

    public init(active: Bool) { self.active = active }
}

/// RFC 7662 introspection and RFC 7009 revocation over every credential Tessera knows: its access
/// tokens, PAM authentication tokens (JWT or `sk-` short token), TR50 session JWTs, Lake
/// self-signed JWTs (not consumed) and PATs — told apart by `CredentialKind`, each checked by its
/// own verifier. A token of another organization is simply inactive.
public struct TokenIntrospector: Sendable {
    private let accessTokens: AccessTokenVerifier
    private let authenticationTokens: AuthenticationTokenService
    private let lake: LakeAssertionVerifier
    private let tr50: TR50Service
    private let pats: any AccessTokenStore
    private let directory: any DirectoryStore
    private let hasher: SecretHasher
    private let clock: any TesseraClock

    public init(
        accessTokens: AccessTokenVerifier, authenticationTokens: AuthenticationTokenService, lake: LakeAssertionVerifier, tr50: TR50Service,
        stores: Stores, hasher: SecretHasher, clock: any TesseraClock
    ) {
        self.accessTokens = accessTokens
        self.authenticationTokens = authenticationTokens
        self.lake = lake
        self.tr50 = tr50
        self.pats = stores.accessTokens
        self.directory = stores.directory
        self.hasher = hasher
        self.clock = clock
    }

    public func introspect(_ token: String, organization: Organization, issuer: String, audience: String) async throws -> Introspection {
        switch CredentialKind.of(token) {
        case .pamShortToken, .pamJWT:
            return try await pamToken(token, organization: organization)
        case .accessToken:
            guard let verified = try? await accessTokens.verify(token, issuer: issuer, audience: audience, sender: .report),
                verified.organization == organization.domainName
            else { return .inactive }
            var answer = Introspection(active: true)
            answer.tokenType = verified.dpopThumbprint == nil ? "Bearer" : "DPoP"
            answer.dpopThumbprint = verified.dpopThumbprint
            answer.subject = verified.subject
            answer.clientID = verified.clientID
            answer.scope = verified.scopes.joined(separator: " ")
            answer.issuer = issuer
            answer.audience = [audience]
            answer.expiresAt = verified.expiresAt.unixSeconds
            answer.issuedAt = verified.issuedAt.unixSeconds
            answer.tokenID = verified.tokenID
            return answer
        case .tr50JWT:
            guard let session = try? await tr50.sessionJWT(token), session.organization.id == organization.id else { return .inactive }
            var answer = Introspection(active: true)
            answer.tokenType = CredentialKind.tr50JWT.rawValue
            answer.subject = session.grant.whoAmI
            answer.issuer = issuer
            answer.audience = [TR50Service.tokenAudience]
            answer.expiresAt = session.expiresAt.unixSeconds
            answer.issuedAt = session.issuedAt.unixSeconds
            answer.tokenID = session.tokenID
            answer.role = session.grant.role.key
            return answer
        case .lakeJWT:
            guard let principal = try? await lake.verify(token, .introspection), principal.organization.id == organization.id else {
                return .inactive
            }
            var answer = Introspection(active: true)
            answer.tokenType = CredentialKind.lakeJWT.rawValue
            answer.subject = principal.user.username
            answer.clientID = principal.clientID
            answer.issuer = principal.issuer
            answer.expiresAt = principal.expiresAt.unixSeconds
            answer.tokenID = principal.tokenID
            return answer
        case .opaque:
            return try await pat(token, organization: organization)
        }
    }

    private func pat(_ token: String, organization: Organization) async throws -> Introspection {
        let hash = hasher.hash(token)
        let now = clock.now()
        guard let pat = try await pats.accessToken(secretHash: hash), pat.status(at: now) == "active", !pat.isRetiredSecret(hash, at: now),
            let user = try await directory.user(id: pat.userID), user.organizationID == organization.id
        else { return .inactive }
        var answer = Introspection(active: true)
        answer.tokenType = "pat"
        answer.subject = user.username
        answer.expiresAt = pat.expiresAt.unixSeconds
        answer.issuedAt = pat.createdAt.unixSeconds
        answer.tokenID = pat.id.uuidString.lowercased()
        return answer
    }

    private func pamToken(_ token: String, organization: Organization) async throws -> Introspection {
        guard let (record, _) = try? await authenticationTokens.acceptedToken(token, organizationID: organization.id) else { return .inactive }
        var answer = Introspection(active: true)
        answer.tokenType = token.hasPrefix(CredentialKind.shortTokenPrefix) ? "derived_short_token" : "jwt"
        answer.subject = record.consumerID
        answer.clientID = record.creatorID
        answer.expiresAt = record.expirationTime / 1000
        answer.issuedAt = record.createTime / 1000
        answer.tokenID = record.id
        return answer
    }

    /// RFC 7009: revokes an access token issued to `clientID`, or a PAM authentication token of
    /// the organization; anything else is left alone (the endpoint answers 200 regardless).
    public func revoke(_ token: String, clientID: String, organization: Organization, issuer: String, audience: String) async throws {
        if CredentialKind.of(token) == .accessToken {
            guard let verified = try? await accessTokens.verify(token, issuer: issuer, audience: audience, sender: .report),
                verified.clientID == clientID
            else { return }
            try await accessTokens.revoke(verified)
            return
        }
        if (try? await authenticationTokens.find(organizationID: organization.id, token: token)) != nil {
            _ = try await authenticationTokens.setRevoked(organizationID: organization.id, token: token, revoked: true)
        }
    }
}

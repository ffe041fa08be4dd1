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

    public static let inactive = Introspection(active: false)

    public init(active: Bool) { self.active = active }
}

/// RFC 7662 introspection and RFC 7009 revocation over every credential Tessera knows: its access
/// tokens, PAM authentication tokens (JWT or `sk-` short token), Lake self-signed JWTs (not
/// consumed) and PATs. A token of another organization is simply inactive.
public struct TokenIntrospector: Sendable {
    private let accessTokens: AccessTokenVerifier
    private let authenticationTokens: AuthenticationTokenService
    private let lake: LakeAssertionVerifier
    private let pats: any AccessTokenStore
    private let directory: any DirectoryStore
    private let hasher: SecretHasher
    private let clock: any TesseraClock

    public init(
        accessTokens: AccessTokenVerifier, authenticationTokens: AuthenticationTokenService, lake: LakeAssertionVerifier, stores: Stores,
        hasher: SecretHasher, clock: any TesseraClock
    ) {
        self.accessTokens = accessTokens
        self.authenticationTokens = authenticationTokens
        self.lake = lake
        self.pats = stores.accessTokens
        self.directory = stores.directory
        self.hasher = hasher
        self.clock = clock
    }

    public func introspect(_ token: String, organization: Organization, issuer: String, audience: String) async throws -> Introspection {
        if token.hasPrefix("sk-") { return try await pamToken(token, organization: organization) }
        if let jws = try? CompactJWS(token) {
            if jws.header["typ"]?.stringValue?.lowercased() == "at+jwt" {
                guard let verified = try? await accessTokens.verify(token, issuer: issuer, audience: audience),
                    verified.organization == organization.domainName
                else { return .inactive }
                var answer = Introspection(active: true)
                answer.tokenType = "Bearer"
                answer.subject = verified.subject
                answer.clientID = verified.clientID
                answer.scope = verified.scopes.joined(separator: " ")
                answer.issuer = issuer
                answer.audience = [audience]
                answer.expiresAt = verified.expiresAt.unixSeconds
                answer.issuedAt = verified.issuedAt.unixSeconds
                answer.tokenID = verified.tokenID
                return answer
            }
            if jws.payload["jti"]?.stringValue?.hasPrefix("atntkn_") == true {
                return try await pamToken(token, organization: organization)
            }
            guard let principal = try? await lake.verify(token, consume: false), principal.organization.id == organization.id else {
                return .inactive
            }
            var answer = Introspection(active: true)
            answer.tokenType = "lake_jwt"
            answer.subject = principal.user.username
            answer.clientID = "lake:\(principal.user.username)/\(principal.key.name)"
            answer.issuer = principal.issuer
            answer.expiresAt = principal.expiresAt.unixSeconds
            return answer
        }
        guard let pat = try await pats.accessToken(secretHash: hasher.hash(token)), pat.revokedAt == nil, pat.expiresAt > clock.now(),
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
        guard let record = try? await authenticationTokens.find(organizationID: organization.id, token: token),
            !record.revoked, record.expirationTime > clock.now().unixSeconds * 1000
        else { return .inactive }
        var answer = Introspection(active: true)
        answer.tokenType = token.hasPrefix("sk-") ? "derived_short_token" : "jwt"
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
        if let jws = try? CompactJWS(token), jws.header["typ"]?.stringValue?.lowercased() == "at+jwt" {
            guard let verified = try? await accessTokens.verify(token, issuer: issuer, audience: audience), verified.clientID == clientID else { return }
            try await accessTokens.revoke(verified)
            return
        }
        if (try? await authenticationTokens.find(organizationID: organization.id, token: token)) != nil {
            _ = try await authenticationTokens.setRevoked(organizationID: organization.id, token: token, revoked: true)
        }
    }
}
